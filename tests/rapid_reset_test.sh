#!/usr/bin/env bash
# HTTP/2 rapid reset (CVE-2023-44487) against the real command-service (events
# in memory): tests/rapid_reset_flood.js opens and at once resets 20,000
# streams on one connection while an ordinary client keeps calling
# grpc.health.v1.Health/Check on another. Asserts that every ordinary call
# is answered SERVING, during the flood and after it, that the service is
# alive and still takes a command afterwards, and that it stops cleanly on
# SIGTERM. Prints the figures (docs/security.md discusses them); asserts no
# timing and no memory figure, which depend on the machine.
#
#   rapid_reset_test.sh <command-service binary> <buf binary> [streams]
set -euo pipefail
COMMAND_BIN=$1
BUF=$2
STREAMS=${3:-20000}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
WORK=$(mktemp -d /tmp/inventory-rapid-reset-XXXXXX)

pid=""
cleanup() {
  if [ -n "$pid" ]; then
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

fail() {
  echo "FAIL: $*"
  echo "--- command-service log:"; tail -20 "$WORK/command-service.log"
  exit 1
}
memory() { grep -E '^(VmRSS|VmHWM)' "/proc/$pid/status" | tr -s ' \t\n' ' '; }

# Port 0: the service picks a free port and logs it.
"$COMMAND_BIN" --listen=127.0.0.1:0 >"$WORK/command-service.log" 2>&1 &
pid=$!
port=""
for _ in $(seq 1 300); do
  port=$(sed -n 's/.* listening on .* (port \([0-9]*\)).*/\1/p' \
    "$WORK/command-service.log" | head -n 1)
  [ -n "$port" ] && break
  kill -0 "$pid" 2>/dev/null || fail "command-service exited at start"
  sleep 0.1  # waiting for another process's output
done
[ -n "$port" ] || fail "command-service did not report its port within 30 s"
address=127.0.0.1:$port
for _ in $(seq 1 300); do
  "$COMMAND_BIN" --health_check --listen="$address" 2>/dev/null && break
  sleep 0.1  # polling another process's state
done
echo "command-service on $address (pid $pid); memory before: $(memory)"

node "$ROOT/tests/rapid_reset_flood.js" --target="$address" \
  --streams="$STREAMS" --after_ms=1000 --call_timeout_ms=15000 ||
  fail "ordinary calls failed during or after the flood"
echo "memory after: $(memory)"

kill -0 "$pid" 2>/dev/null || fail "command-service died"
"$COMMAND_BIN" --health_check --listen="$address" ||
  fail "command-service not SERVING after the flood"
created=$("$BUF" curl --protocol grpc --http2-prior-knowledge \
  -d '{"item_id":"after-flood","sku":"AFTER-1","name":"After the flood"}' \
  "http://$address/inventory.v1.CommandService/CreateItem" 2>&1) ||
  fail "CreateItem after the flood: $created"
grep -q '"globalPosition": "1"' <<<"$created" || fail "CreateItem: $created"
echo "after the flood: SERVING, and a command is recorded"

kill -TERM "$pid"
code=0
for _ in $(seq 1 300); do
  kill -0 "$pid" 2>/dev/null || break
  sleep 0.1  # waiting for another process to exit
done
kill -0 "$pid" 2>/dev/null && fail "still running 30 s after SIGTERM"
wait "$pid" || code=$?
pid=""
[ "$code" -eq 0 ] || fail "exit code $code after SIGTERM"
echo "stopped cleanly (exit 0)"
echo PASS
