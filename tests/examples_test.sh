#!/usr/bin/env bash
# End-to-end test of the example clients (examples/): with a command-service
# (in-memory store) and a query-service running, the Python and the Node
# client each create an item, check in 5 units and read it back with
# read-your-writes; a failing call is one "error: <CODE>: <message>" line
# and a non-zero exit; both services stop cleanly on SIGTERM.
#
#   examples_test.sh <command-service binary> <query-service binary>
#                    <generated Python stubs dir>
#
# Needs Debian's python3-grpcio (scripts/setup.sh) and examples/node's
# node_modules (`npm ci` there; scripts/test.sh runs it).
set -euo pipefail
COMMAND_BIN=$1
QUERY_BIN=$2
STUBS=$3
ROOT=$(cd "$(dirname "$0")/.." && pwd)
PYTHON=/usr/bin/python3  # Debian's, where python3-grpcio is installed
PY_CLIENT=$ROOT/examples/python/inventory_client.py
NODE_CLIENT=$ROOT/examples/node/inventory_client.js
WORK=$(mktemp -d /tmp/inventory-examples-test-XXXXXX)

command_pid=""
query_pid=""
cleanup() {
  for pid in $query_pid $command_pid; do
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

fail() {
  echo "FAIL: $*"
  for log in "$WORK"/*.log; do
    [ -e "$log" ] || continue
    echo "--- $(basename "$log"):"; cat "$log"
  done
  exit 1
}

[ -f "$STUBS/inventory/v1/query_service_pb2_grpc.py" ] ||
  fail "no Python stubs in $STUBS: build the python_stubs target"
[ -d "$ROOT/examples/node/node_modules/@grpc/grpc-js" ] ||
  fail "examples/node/node_modules is missing: run \`npm ci\` in examples/node (scripts/test.sh does)"
"$PYTHON" -c 'import grpc' 2>/dev/null ||
  fail "$PYTHON cannot import grpc: apt-get install python3-grpcio (scripts/setup.sh)"

# Starts binary $2 with the remaining arguments, logging to $WORK/$1.log;
# sets $started_pid and, once it logs "listening on ... (port N)",
# $started_port (the services are started on port 0: no race for a port).
start_service() {
  local name=$1 binary=$2
  shift 2
  "$binary" "$@" >"$WORK/$name.log" 2>&1 &
  started_pid=$!
  started_port=""
  for _ in $(seq 1 300); do
    started_port=$(sed -n 's/.* listening on .* (port \([0-9]*\)).*/\1/p' \
      "$WORK/$name.log" | head -n 1)
    [ -n "$started_port" ] && return 0
    kill -0 "$started_pid" 2>/dev/null || fail "$name exited at start"
    sleep 0.1  # waiting for another process's output
  done
  fail "$name did not report its port within 30 s"
}

# Waits until the service at port $3 reports SERVING (bounded).
await_serving() {
  local name=$1 binary=$2 port=$3 pid=$4
  for _ in $(seq 1 300); do
    kill -0 "$pid" 2>/dev/null || fail "$name exited"
    "$binary" --health_check --listen="127.0.0.1:$port" 2>/dev/null && return 0
    sleep 0.1  # polling another process's state
  done
  fail "$name did not become SERVING within 30 s"
}

# SIGTERM, then a bounded wait; asserts exit code 0.
stop_service() {
  local name=$1 pid=$2
  kill -TERM "$pid"
  for _ in $(seq 1 300); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1  # waiting for another process to exit
  done
  kill -0 "$pid" 2>/dev/null && fail "$name still running 30 s after SIGTERM"
  local code=0
  wait "$pid" || code=$?
  [ "$code" -eq 0 ] || fail "$name exited with $code after SIGTERM"
  echo "$name stopped (exit 0)"
}

# Runs a client; prints its output (stdout and stderr); returns its exit code.
py_client() { timeout 60 "$PYTHON" "$PY_CLIENT" --stubs="$STUBS" "$@" 2>&1; }
node_client() { timeout 60 node "$NODE_CLIENT" "$@" 2>&1; }

# Asserts that a client's output shows the item with 5 units at version 2,
# read at a position >= 2; $1 names the client.
check_item() {
  local client=$1 out=$2 item=$3
  local line
  line=$(grep "^item $item: " <<<"$out") || fail "$client: no item line: $out"
  grep -q ' sku=WID-1 name="Widget" quantity_on_hand=5 active=true version=2 ' \
    <<<"$line" || fail "$client: unexpected item: $line"
  local position
  position=$(sed -n 's/.*(read model at position \([0-9]*\))$/\1/p' <<<"$line")
  [ -n "$position" ] && [ "$position" -ge 2 ] ||
    fail "$client: position missing or < 2: $line"
}

# Asserts that a failed client printed exactly one line, "error: CODE: ..."
# or, with a reason $4 (the ErrorInfo of a refusal), "error: CODE (REASON): ...".
check_error() {
  local client=$1 out=$2 code=$3 reason=${4:-}
  local prefix="error: $code: "
  [ -n "$reason" ] && prefix="error: $code ($reason): "
  [ "$(wc -l <<<"$out")" -eq 1 ] || fail "$client: more than one line: $out"
  [[ "$out" == "$prefix"?* ]] || fail "$client: not '$prefix...': $out"
}

echo "== start command-service (in memory) and query-service"
start_service command-service "$COMMAND_BIN" --listen=127.0.0.1:0
command_pid=$started_pid
command_addr=127.0.0.1:$started_port
await_serving command-service "$COMMAND_BIN" "$started_port" "$command_pid"
start_service query-service "$QUERY_BIN" --listen=127.0.0.1:0 \
  --command_service="$command_addr"
query_pid=$started_pid
query_addr=127.0.0.1:$started_port
await_serving query-service "$QUERY_BIN" "$started_port" "$query_pid"
echo "command-service on $command_addr, query-service on $query_addr"

echo "== Python client"
py_item=widget-py-$$
out=$(py_client --command="$command_addr" --query="$query_addr" --item="$py_item") ||
  fail "python client failed: $out"
echo "$out"
check_item python "$out" "$py_item"

echo "== Python client, default (unique) item id"
out=$(py_client --command="$command_addr" --query="$query_addr") ||
  fail "python client failed: $out"
echo "$out"
default_item=$(sed -n 's/^item \([^:]*\): .*/\1/p' <<<"$out")
[ -n "$default_item" ] && [ "$default_item" != "$py_item" ] ||
  fail "python client: no fresh default item id: $out"
check_item python "$out" "$default_item"

echo "== Node client"
node_item=widget-node-$$
out=$(node_client --command="$command_addr" --query="$query_addr" --item="$node_item") ||
  fail "node client failed: $out"
echo "$out"
check_item node "$out" "$node_item"

echo "== Node client, default (unique) item id"
out=$(node_client --command="$command_addr" --query="$query_addr") ||
  fail "node client failed: $out"
echo "$out"
default_item=$(sed -n 's/^item \([^:]*\): .*/\1/p' <<<"$out")
[ -n "$default_item" ] && [ "$default_item" != "$node_item" ] ||
  fail "node client: no fresh default item id: $out"
check_item node "$out" "$default_item"

echo "== an existing item is ALREADY_EXISTS (ITEM_ALREADY_EXISTS)"
out=$(py_client --command="$command_addr" --query="$query_addr" --item="$node_item") &&
  fail "python client exited 0 for an existing item: $out"
echo "$out"
check_error python "$out" ALREADY_EXISTS ITEM_ALREADY_EXISTS
out=$(node_client --command="$command_addr" --query="$query_addr" --item="$py_item") &&
  fail "node client exited 0 for an existing item: $out"
echo "$out"
check_error node "$out" ALREADY_EXISTS ITEM_ALREADY_EXISTS

echo "== SIGTERM stops both services"
stop_service query-service "$query_pid"
query_pid=""
stop_service command-service "$command_pid"
command_pid=""

echo "== a closed port is UNAVAILABLE"
# The ports the services just released: nothing listens there any more.
for port in "${command_addr##*:}" "${query_addr##*:}"; do
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    fail "port $port still open after the services stopped"
  fi
done
out=$(py_client --command="$command_addr" --query="$query_addr") &&
  fail "python client exited 0 against a closed port: $out"
echo "$out"
check_error python "$out" UNAVAILABLE
out=$(node_client --command="$command_addr" --query="$query_addr") &&
  fail "node client exited 0 against a closed port: $out"
echo "$out"
check_error node "$out" UNAVAILABLE

echo "PASS"
