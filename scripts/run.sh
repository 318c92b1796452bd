#!/usr/bin/env bash
# Runs the whole system on this machine: a private PostgreSQL cluster under
# .data/ (created on first use; events are kept between runs), the
# command-service on 127.0.0.1:50051 and the query-service on
# 127.0.0.1:50052. Ctrl-C stops all three. It also builds the item shell
# itemctl and installs buf (npm ci), the tools the README and the tutorial use.
#
#   scripts/run.sh                  # keep the events of earlier runs
#   scripts/run.sh --fresh          # start from an empty event store
#   scripts/run.sh --data-dir=DIR   # keep the cluster in DIR, not .data/
#
# Environment: PG_PORT (default 55432), COMMAND_PORT (50051), QUERY_PORT
# (50052), BUILD_DIR (build-release), DATA_DIR (.data; --data-dir wins),
# BIN_DIR (use the binaries of an existing build tree instead of building).
set -euo pipefail
usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; }
FRESH=""
DATA=${DATA_DIR:-}
while [ $# -gt 0 ]; do
  case $1 in
    --fresh) FRESH=1 ;;
    --data-dir=*) DATA=${1#--data-dir=} ;;
    --data-dir) [ $# -ge 2 ] || { usage >&2; exit 2; }; DATA=$2; shift ;;
    -h|--help) usage; exit 0 ;;
    *) printf 'run: unknown argument %s\n\n' "$1" >&2; usage >&2; exit 2 ;;
  esac
  shift
done
# A relative folder is taken from where the command was typed.
if [ -n "$DATA" ]; then
  mkdir -p "$DATA"
  DATA=$(cd "$DATA" && pwd)
fi
cd "$(dirname "$0")/.."
ROOT=$PWD
DATA=${DATA:-$ROOT/.data}
PG_PORT=${PG_PORT:-55432}
COMMAND_ADDR=127.0.0.1:${COMMAND_PORT:-50051}
QUERY_ADDR=127.0.0.1:${QUERY_PORT:-50052}
BUILD_DIR=${BUILD_DIR:-build-release}

say() { printf 'run: %s\n' "$*"; }
die() { printf 'run: %s\n' "$*" >&2; exit 1; }

scripts/setup.sh
mkdir -p "$DATA"
exec 9>"$DATA/run.lock"
flock -n 9 || die "already running from $ROOT (another scripts/run.sh holds $DATA/run.lock)"

port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
for port in "$PG_PORT" "${COMMAND_ADDR##*:}" "${QUERY_ADDR##*:}"; do
  if port_busy "$port"; then
    die "port $port on 127.0.0.1 is already in use (another instance, or another program); stop it or choose other ports: PG_PORT=... COMMAND_PORT=... QUERY_PORT=... scripts/run.sh"
  fi
done

# buf (the README's and the tutorial's stand-in for grpcurl) comes from the
# npm registry, pinned by package-lock.json, as in scripts/test.sh. The
# system runs without it, so a failed install is only a warning.
BUF=$ROOT/node_modules/.bin/buf
if [ ! -x "$BUF" ]; then
  say "installing buf (npm ci, pinned by package-lock.json)"
  npm ci --no-audit --no-fund --loglevel=error >"$DATA/npm.log" 2>&1 ||
    say "warning: npm ci failed (see $DATA/npm.log); without buf, use grpcurl"
fi

if [ -z "${BIN_DIR:-}" ]; then
  say "building (Release) into $BUILD_DIR/"
  cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=Release >/dev/null
  cmake --build "$BUILD_DIR" -j "$(nproc)" \
    --target command-service query-service itemctl \
    >"$DATA/build.log" || { tail -30 "$DATA/build.log"; die "build failed (full log: $DATA/build.log)"; }
  BIN_DIR=$BUILD_DIR
fi
BIN_DIR=$(cd "$BIN_DIR" && pwd)
ITEMCTL=$BIN_DIR/examples/itemctl/itemctl

# PostgreSQL refuses to run as root: as root, the cluster belongs to the
# unprivileged 'postgres' user that Debian's package creates.
PG_BIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
PGDATA=$DATA/postgres
as_pg() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}
if [ ! -s "$PGDATA/PG_VERSION" ]; then
  say "creating the PostgreSQL cluster in $PGDATA"
  mkdir -p "$PGDATA"
  if [ "$(id -u)" -eq 0 ]; then chown postgres:postgres "$PGDATA"; fi
  as_pg test -w "$PGDATA" ||
    die "the postgres user cannot write $PGDATA; put the project where other users may enter (e.g. under /srv or /opt, not /root)"
  as_pg "$PG_BIN/initdb" -D "$PGDATA" -U postgres --auth=trust -E UTF8 \
    --locale=C >"$DATA/initdb.log" || die "initdb failed: see $DATA/initdb.log"
fi
as_pg touch "$DATA/postgres.log" 2>/dev/null || {
  touch "$DATA/postgres.log"
  [ "$(id -u)" -ne 0 ] || chown postgres:postgres "$DATA/postgres.log"
}
# Started in a session of its own (setsid), like the services below, so
# that Ctrl-C reaches only this script, which then stops them in order.
as_pg setsid "$PG_BIN/pg_ctl" -D "$PGDATA" -l "$DATA/postgres.log" -w -t 60 \
  -o "-p $PG_PORT -c listen_addresses=127.0.0.1 -k $PGDATA" start >/dev/null ||
  die "PostgreSQL did not start: see $DATA/postgres.log"

command_pid=""
query_pid=""
stop_all() {
  trap - EXIT INT TERM
  say "stopping"
  for pid in $query_pid $command_pid; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in $query_pid $command_pid; do wait "$pid" 2>/dev/null || true; done
  as_pg "$PG_BIN/pg_ctl" -D "$PGDATA" -m fast -w stop >/dev/null || true
  say "stopped; the events are kept in $PGDATA"
}
trap stop_all EXIT
trap 'exit 130' INT TERM

if [ -n "$FRESH" ]; then
  say "--fresh: dropping the events kept in $PGDATA (database \"inventory\")"
  as_pg "$PG_BIN/dropdb" -h 127.0.0.1 -p "$PG_PORT" -U postgres --if-exists inventory
fi
if ! as_pg "$PG_BIN/psql" -h 127.0.0.1 -p "$PG_PORT" -U postgres -tAc \
    "SELECT 1 FROM pg_database WHERE datname = 'inventory'" | grep -q 1; then
  as_pg "$PG_BIN/createdb" -h 127.0.0.1 -p "$PG_PORT" -U postgres inventory
fi
DATABASE_URL=postgresql://postgres@127.0.0.1:$PG_PORT/inventory

# Waits until the service at $2 reports SERVING (or its process $1 dies).
await_serving() {
  local pid=$1 address=$2 binary=$3
  for _ in $(seq 1 600); do
    kill -0 "$pid" 2>/dev/null || die "$(basename "$binary") exited; see its log above"
    "$binary" --health_check --listen="$address" 2>/dev/null && return 0
    sleep 0.1
  done
  die "$(basename "$binary") did not become SERVING within 60 s"
}

COMMAND_BIN=$BIN_DIR/command-service/command-service
QUERY_BIN=$BIN_DIR/query-service/query-service
setsid "$COMMAND_BIN" --listen="$COMMAND_ADDR" --database_url="$DATABASE_URL" \
  > >(sed -u 's/^/[command-service] /') 2>&1 &
command_pid=$!
await_serving "$command_pid" "$COMMAND_ADDR" "$COMMAND_BIN"
setsid "$QUERY_BIN" --listen="$QUERY_ADDR" --command_service="$COMMAND_ADDR" \
  > >(sed -u 's/^/[query-service] /') 2>&1 &
query_pid=$!
await_serving "$query_pid" "$QUERY_ADDR" "$QUERY_BIN"

# A fresh item id per run, so the lines below work as printed every time.
ITEM=widget-$(date +%s)
# itemctl's defaults are the documented addresses; other ports need flags.
ITEMCTL_LINE=$(printf %q "$ITEMCTL")
if [ "$COMMAND_ADDR" != 127.0.0.1:50051 ] || [ "$QUERY_ADDR" != 127.0.0.1:50052 ]; then
  ITEMCTL_LINE+=" --command=$COMMAND_ADDR --query=$QUERY_ADDR"
fi
# Without grpcurl, the first line to paste defines it as a function that
# runs buf curl (scripts/grpc_call.sh); an installed grpcurl is used as is.
if type -P grpcurl >/dev/null; then
  GRPCURL_SETUP="# (grpcurl is installed; scripts/grpc_call.sh would run the same lines through buf curl)"
else
  GRPCURL_SETUP="source $(printf %q "$ROOT/scripts/grpc_call.sh")   # no grpcurl here: runs the grpcurl lines through buf curl"
fi
cat <<EOT

  The inventory system is up:
    command-service  $COMMAND_ADDR   (writes; the event stream)
    query-service    $QUERY_ADDR   (reads)
    PostgreSQL       127.0.0.1:$PG_PORT, database "inventory", user postgres
                     ($PG_BIN/psql -h 127.0.0.1 -p $PG_PORT -U postgres inventory)
    events kept in   $PGDATA
    item shell       $ITEMCTL

  Try it with grpcurl: paste these lines, in order, into a bash in another
  terminal. grpcurl prints fields as the .proto names them ("global_position").

    $GRPCURL_SETUP
    grpcurl -plaintext $COMMAND_ADDR list
    grpcurl -plaintext -d '{"item_id":"$ITEM","sku":"WID-1","name":"Widget"}' $COMMAND_ADDR inventory.v1.CommandService/CreateItem
    # Check stock in; the answer (shown) carries the event's "global_position", kept in \$position:
    position=\$(grpcurl -plaintext -d '{"item_id":"$ITEM","quantity":5}' $COMMAND_ADDR inventory.v1.CommandService/CheckInItems | tee /dev/stderr | sed -En 's/.*"global_?[pP]osition": *"([0-9]+)".*/\1/p')
    # Read your write: min_position makes the query wait until the read model has applied it:
    grpcurl -plaintext -d '{"item_id":"$ITEM","min_position":'"\${position:-0}"'}' $QUERY_ADDR inventory.v1.QueryService/GetItem
    # The same with the item shell, waiting for the same position:
    $ITEMCTL_LINE --min_position=\${position:-0} show $ITEM
    # The event log from the start, then live events; it runs until Ctrl-C:
    grpcurl -plaintext -d '{"after_position":0}' $COMMAND_ADDR inventory.v1.EventStreamService/Subscribe

  Press Ctrl-C to stop everything.

EOT
wait -n "$command_pid" "$query_pid" || true
die "a service exited unexpectedly; see its log above"
