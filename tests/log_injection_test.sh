#!/usr/bin/env bash
# Log injection, tried on the real command-service with TLS and tokens: a
# call without a token whose method path carries an ANSI colour sequence,
# a line feed followed by a forged log line, a NUL and 7,000 bytes
# (tests/log_injection_call.js, raw HTTP/2). The service refuses it and
# logs the path: escaped (\xNN), cut to 200 bytes with a marker, on one
# line. Asserts that no control byte reaches the log, that no line was
# forged, and that the refusal's line is there, escaped and bounded.
#
#   log_injection_test.sh <command-service binary> <dev-certs.sh>
set -euo pipefail
COMMAND_BIN=$1
DEV_CERTS=$2
ROOT=$(cd "$(dirname "$0")/.." && pwd)
WORK=$(mktemp -d /tmp/inventory-log-injection-XXXXXX)

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

LOG="$WORK/command-service.log"
fail() {
  echo "FAIL: $*"
  echo "--- command-service log:"; cat -v "$LOG" | cut -c1-300 | tail -20
  exit 1
}

"$DEV_CERTS" "$WORK/pki" >/dev/null 2>&1 || fail "dev-certs.sh failed"
"$COMMAND_BIN" --listen=127.0.0.1:0 \
  --tls_cert_file="$WORK/pki/server.pem" --tls_key_file="$WORK/pki/server.key" \
  --writer_token_file="$WORK/pki/writer.token" \
  --reader_token_file="$WORK/pki/reader.token" >"$LOG" 2>&1 &
pid=$!
port=""
for _ in $(seq 1 500); do
  port=$(grep -o 'listening on [^ ]* (port [0-9]*' "$LOG" | grep -o '[0-9]*$' || true)
  [ -n "$port" ] && break
  kill -0 "$pid" 2>/dev/null || fail "command-service exited at start"
  sleep 0.02  # polling the log for the port
done
[ -n "$port" ] || fail "command-service did not start"

answer=$(node "$ROOT/tests/log_injection_call.js" \
  --target="127.0.0.1:$port" --ca="$WORK/pki/ca.pem") ||
  fail "the forged call got no answer: $answer"
echo "forged call: $answer"
kill -TERM "$pid"
wait "$pid" || fail "command-service did not stop cleanly"
pid=""

# The refusal is logged before the client gets its answer.
line=$(grep -a 'refused: UNAUTHENTICATED' "$LOG" || true)
[ "$(printf '%s\n' "$line" | grep -c .)" = 1 ] ||
  fail "expected one refusal line, got: $line"
case "$line" in
  *'CommandService/\x1b[31mCreateItem\x1b[0m\x0a2026-01-01T00:00:00.000Z INFO  forged line\x00xxx'*) ;;
  *) fail "the path is not escaped as expected: $line" ;;
esac
case "$line" in
  *'bytes cut] refused: UNAUTHENTICATED'*) ;;
  *) fail "the path is not cut with a marker: $line" ;;
esac
[ "${#line}" -lt 600 ] || fail "the refusal's line is ${#line} bytes long"
if LC_ALL=C grep -q -a -P '[\x00-\x08\x0b-\x1f\x7f]' "$LOG"; then
  fail "a control byte reached the log"
fi
if grep -a -q '^2026-01-01T00:00:00.000Z' "$LOG"; then
  fail "a forged line starts a line of the log"
fi
echo "ok: the refused path was logged escaped, cut, on one line"
