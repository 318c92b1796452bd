#!/usr/bin/env bash
# End-to-end test of the README's run command (scripts/run.sh): it brings up
# PostgreSQL and both services and names the item shell it built; the lines
# its banner prints work when pasted in order into one bash (without grpcurl
# installed, as here, the first of them sources scripts/grpc_call.sh, which
# runs them through `buf curl`), including the read-your-writes pair that
# passes the check-in's global_position on as min_position; Ctrl-C stops all
# three, a second run keeps the events and `--fresh` empties the store, and
# a second instance or a busy port gets a clear message.
#
#   run_script_test.sh <build dir with the binaries> <buf binary>
set -euo pipefail
BIN_DIR=$1
BUF=$2
ROOT=$(cd "$(dirname "$0")/.." && pwd)
WORK=$(mktemp -d /tmp/inventory-run-test-XXXXXX)
chmod 755 "$WORK"
LOG=$WORK/run.log
export BIN_DIR DATA_DIR=$WORK/data

fail() { echo "FAIL: $*"; echo "--- run.sh output:"; cat "$LOG" 2>/dev/null; exit 1; }

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
export PG_PORT=$(free_port) COMMAND_PORT=$(free_port) QUERY_PORT=$(free_port)

run_pid=""
cleanup() {
  if [ -n "$run_pid" ] && kill -0 "$run_pid" 2>/dev/null; then
    kill -INT "$run_pid"; wait "$run_pid" 2>/dev/null || true
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

start_run() {
  : >"$LOG"
  # A background job of a script starts with SIGINT ignored; restore it, so
  # that the Ctrl-C sent below reaches run.sh as it would from a terminal.
  python3 -c 'import os, signal, sys
signal.signal(signal.SIGINT, signal.SIG_DFL)
os.execv(sys.argv[1], sys.argv[1:])' "$ROOT/scripts/run.sh" "$@" >"$LOG" 2>&1 &
  run_pid=$!
  for _ in $(seq 1 600); do
    grep -q 'Press Ctrl-C' "$LOG" && return 0
    kill -0 "$run_pid" 2>/dev/null || fail "run.sh exited early"
    sleep 0.2  # waiting for another process's output
  done
  fail "run.sh did not report the system up within 120 s"
}

stop_run() {
  kill -INT "$run_pid"
  local code=0
  wait "$run_pid" || code=$?
  run_pid=""
  grep -q 'stopped; the events are kept' "$LOG" || fail "no clean stop"
  grep -q 'command-service stopped' "$LOG" || fail "command-service not stopped cleanly"
  grep -q 'query-service stopped' "$LOG" || fail "query-service not stopped cleanly"
  for port in "$PG_PORT" "$COMMAND_PORT" "$QUERY_PORT"; do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      fail "port $port still open after Ctrl-C"
    fi
  done
  echo "stopped (exit $code)"
}

# Writes a bash script that runs the banner's lines ($@) in order, in one
# shell, as if pasted into a terminal: line N's output goes to $WORK/out.N and
# its exit status to $WORK/rc.N. A stream never ends by itself, so a
# Subscribe line is read until the catch-up marker and then interrupted, as
# a reader would with Ctrl-C.
paste_script() {
  local n=0 line
  echo 'set -m  # each background job in a process group of its own'
  for line in "$@"; do
    n=$((n + 1))
    if [[ $line == *EventStreamService/Subscribe* ]]; then
      printf '{ %s\n} >"$WORK/out.%d" 2>&1 &\n' "$line" "$n"
      printf 'job=$!\n'
      printf 'for _ in $(seq 1 100); do grep -q -i caught_\\{0,1\\}up "$WORK/out.%d" && break; sleep 0.1; done\n' "$n"
      printf 'kill -INT -- -$job; wait $job; echo 0 >"$WORK/rc.%d"\n' "$n"
    else
      printf '{ %s\n} >"$WORK/out.%d" 2>&1; echo $? >"$WORK/rc.%d"\n' "$line" "$n" "$n"
    fi
  done
  echo 'printf %s "${position-}" >"$WORK/position"'
}

echo "== first run"
start_run
itemctl=$(sed -n 's/^ *item shell *//p' "$LOG")
[ -x "$itemctl" ] || fail "no item shell at '$itemctl'"
[ "$itemctl" = "$(cd "$BIN_DIR" && pwd)/examples/itemctl/itemctl" ] ||
  fail "item shell at $itemctl, not in the build tree"
# The lines to paste: the banner's block, comments left out.
mapfile -t lines < <(sed -n '/^  Try it/,/^  Press Ctrl-C/p' "$LOG" |
  sed -n 's/^    \([^ #]\)/\1/p')
[ "${#lines[@]}" -ge 7 ] || fail "expected at least 7 lines to paste"
if ! type -P grpcurl >/dev/null; then
  [[ ${lines[0]} == "source "*scripts/grpc_call.sh* ]] ||
    fail "no grpcurl here, and the banner does not source scripts/grpc_call.sh first"
fi
paste_script "${lines[@]}" >"$WORK/paste.sh"
export WORK
bash "$WORK/paste.sh" </dev/null
# out_of PATTERN: the output of the line that matches PATTERN.
out_of() {
  local n=0 line
  for line in "${lines[@]}"; do
    n=$((n + 1))
    if [[ $line == *$1* ]]; then
      echo "\$ $line" >&2; cat "$WORK/out.$n" >&2
      [ "$(cat "$WORK/rc.$n")" = 0 ] || fail "pasted line failed: $line"
      cat "$WORK/out.$n"
      return 0
    fi
  done
  fail "no line with $1 in the banner"
}
[ "$(cat "$WORK/rc.1")" = 0 ] || fail "pasted line failed: ${lines[0]}: $(cat "$WORK/out.1")"
grep -q 'inventory.v1.CommandService' <<<"$(out_of ' list')" || fail "list"
grep -q '"version": "1"' <<<"$(out_of /CreateItem)" || fail "create"
checkin=$(out_of /CheckInItems)
stored=$(sed -En 's/.*"global_?[pP]osition": *"([0-9]+)".*/\1/p' <<<"$checkin")
[ -n "$stored" ] || fail "check in: no global position in $checkin"
[ "$(cat "$WORK/position")" = "$stored" ] ||
  fail "the banner kept position '$(cat "$WORK/position")', the check-in said $stored"
item_line=$(out_of /GetItem)
grep -q '"quantity_\{0,1\}[oO]nHand": "5"' <<<"$item_line" || fail "query"
grep -q '"min_position":'"'"'"${position:-0}"' <<<"$(printf '%s\n' "${lines[@]}")" ||
  fail "GetItem does not take min_position from \$position"
grep -q 'on hand: *5' <<<"$(out_of ' show ')" || fail "itemctl show"
grep -q -i '"caught_\{0,1\}up"' <<<"$(out_of /Subscribe)" || fail "subscribe"
item=$(grep -o 'widget-[0-9]*' <<<"${lines[*]}" | head -n 1)

# Runs scripts/run.sh expecting it to refuse to start; prints its output.
expect_refusal() {
  "$ROOT/scripts/run.sh" >"$WORK/refused.out" 2>&1 &
  local pid=$!
  for _ in $(seq 1 300); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1  # waiting for another process to exit
  done
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid"; wait "$pid" 2>/dev/null || true
    fail "run.sh did not refuse to start: $(cat "$WORK/refused.out")"
  fi
  wait "$pid" && fail "run.sh exited 0 instead of refusing"
  cat "$WORK/refused.out"
}

echo "== a second instance is refused"
second=$(expect_refusal)
grep -q 'already running' <<<"$second" || fail "unclear message: $second"

stop_run

echo "== a busy port is a clear error"
python3 -c 'import socket,sys,time
s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1",int(sys.argv[1]))); s.listen(); time.sleep(60)' "$COMMAND_PORT" &
blocker=$!
for _ in $(seq 1 100); do
  (exec 3<>"/dev/tcp/127.0.0.1/$COMMAND_PORT") 2>/dev/null && break
  sleep 0.1
done
busy=$(expect_refusal) || { kill $blocker; exit 1; }
kill $blocker; wait $blocker 2>/dev/null || true
grep -q "port $COMMAND_PORT on 127.0.0.1 is already in use" <<<"$busy" || fail "unclear message: $busy"

echo "== the second run keeps the events"
start_run
kept=$("$BUF" curl --protocol grpc --http2-prior-knowledge \
  -d "{\"item_id\":\"$item\",\"min_position\":2}" \
  "http://127.0.0.1:$QUERY_PORT/inventory.v1.QueryService/GetItem") || fail "item lost: $kept"
grep -q '"quantityOnHand": "5"' <<<"$kept" || fail "item state lost: $kept"
stop_run

echo "== --fresh starts from an empty event store"
start_run --fresh
grep -q 'fresh: dropping the events' "$LOG" || fail "--fresh said nothing"
gone=$("$BUF" curl --protocol grpc --http2-prior-knowledge \
  -d "{\"item_id\":\"$item\"}" \
  "http://127.0.0.1:$QUERY_PORT/inventory.v1.QueryService/GetItem" 2>&1) &&
  fail "item still there after --fresh: $gone"
grep -q 'not_found' <<<"$gone" || fail "unexpected answer after --fresh: $gone"
stop_run
echo "PASS"
