#!/usr/bin/env bash
# End-to-end test of the README's run command (scripts/run.sh): it brings up
# PostgreSQL and both services, the grpcurl lines it prints work (run here
# through `buf curl`, a reflection client like grpcurl), Ctrl-C stops all
# three, a second run keeps the events, and a second instance or a busy
# port gets a clear message.
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
os.execv(sys.argv[1], sys.argv[1:])' "$ROOT/scripts/run.sh" >"$LOG" 2>&1 &
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

# Runs one printed grpcurl line through buf curl; prints the output.
run_grpcurl_line() {
  local line=$1
  eval "set -- ${line#*grpcurl -plaintext }"
  if [ "$1" = "-d" ]; then
    local data=$2 address=$3 method=$4
    if [[ $method == *Subscribe ]]; then
      # A stream never ends by itself: read until the catch-up marker.
      "$BUF" curl --protocol grpc --http2-prior-knowledge -d "$data" \
        "http://$address/$method" >"$WORK/stream.out" 2>&1 &
      local stream=$!
      for _ in $(seq 1 100); do
        grep -q caughtUp "$WORK/stream.out" && break
        sleep 0.1  # waiting for another process's output
      done
      kill "$stream"; wait "$stream" 2>/dev/null || true
      cat "$WORK/stream.out"
    else
      "$BUF" curl --protocol grpc --http2-prior-knowledge -d "$data" \
        "http://$address/$method"
    fi
  else
    "$BUF" curl --protocol grpc --http2-prior-knowledge --list-services \
      "http://$1"
  fi
}

echo "== first run"
start_run
mapfile -t lines < <(grep -E '^ +grpcurl ' "$LOG")
[ "${#lines[@]}" -ge 5 ] || fail "expected at least 5 grpcurl lines"
outputs=()
for line in "${lines[@]}"; do
  echo "\$ $line"
  out=$(run_grpcurl_line "$line") || fail "printed line failed: $line: $out"
  echo "$out"
  outputs+=("$out")
done
grep -q 'inventory.v1.CommandService' <<<"${outputs[0]}" || fail "list"
grep -q '"version": "1"' <<<"${outputs[1]}" || fail "create"
grep -q '"globalPosition"' <<<"${outputs[2]}" || fail "check in"
grep -q '"quantityOnHand": "5"' <<<"${outputs[3]}" || fail "query"
grep -q '"caughtUp"' <<<"${outputs[4]}" || fail "subscribe"
item=$(grep -o 'widget-[0-9]*' <<<"${lines[1]}" | head -n 1)

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
echo "PASS"
