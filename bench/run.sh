#!/usr/bin/env bash
# The system benchmark, in ONE run on this machine: a fresh PostgreSQL
# cluster, both services (Release), and the figures of bench/README.md,
# each next to a baseline measured in the same run:
#   1. pgbench single-row inserts into an events-shaped table (1/16/64 clients)
#   2. command throughput and latency (1/16/64 clients) vs (1)
#   3. command-to-query visibility at a fixed rate (p50/p95/p99)
#   4. rebuild of a fresh query-service from 1,000,000 events vs a COPY export
#   5. GetItem / ListItems calls per second vs an empty call (health Check)
# Prints one markdown table and writes it to bench/last-run.md.
#
# Environment: DURATION (seconds per measurement, default 10), EVENTS
# (events for the rebuild, default 1000000), BUILD_DIR (build-release).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
DURATION=${DURATION:-10}
EVENTS=${EVENTS:-1000000}
BUILD_DIR=${BUILD_DIR:-build-release}
OUT=$ROOT/bench/last-run.md

say() { printf 'bench: %s\n' "$*" >&2; }
scripts/setup.sh
say "building (Release)"
cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$BUILD_DIR" -j "$(nproc)" \
  --target command-service query-service load_generator >/dev/null

WORK=$(mktemp -d /tmp/inventory-bench-XXXXXX)
chmod 755 "$WORK"
PG_BIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
as_pg() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
PG_PORT=$(free_port)
COMMAND=127.0.0.1:$(free_port)
QUERY=127.0.0.1:$(free_port)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  as_pg "$PG_BIN/pg_ctl" -D "$WORK/pg" -m fast -w stop >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

say "starting PostgreSQL (default durability settings)"
mkdir "$WORK/pg"
[ "$(id -u)" -ne 0 ] || chown postgres:postgres "$WORK/pg"
as_pg "$PG_BIN/initdb" -D "$WORK/pg" -U postgres --auth=trust -E UTF8 \
  --locale=C >/dev/null
as_pg "$PG_BIN/pg_ctl" -D "$WORK/pg" -l "$WORK/pg/log" -w -o \
  "-p $PG_PORT -c listen_addresses=127.0.0.1 -k $WORK/pg -c max_connections=200" \
  start >/dev/null
PSQL=("$PG_BIN/psql" -h 127.0.0.1 -p "$PG_PORT" -U postgres -v ON_ERROR_STOP=1 -qtA)
as_pg "${PSQL[@]}" -c "CREATE DATABASE bench" -c "CREATE DATABASE inventory"
URL=postgresql://postgres@127.0.0.1:$PG_PORT/inventory

# --- 1. pgbench baseline -----------------------------------------------------
as_pg "${PSQL[@]}" -d bench -c "
  CREATE TABLE events (global_position bigserial PRIMARY KEY,
    stream_id text NOT NULL, stream_version bigint NOT NULL,
    event_id uuid NOT NULL UNIQUE, event_type text NOT NULL,
    payload jsonb NOT NULL, metadata jsonb NOT NULL,
    recorded_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (stream_id, stream_version))"
cat >"$WORK/insert.sql" <<'SQL'
INSERT INTO events (stream_id, stream_version, event_id, event_type, payload, metadata) VALUES ('item-' || gen_random_uuid(), 1, gen_random_uuid(), 'inventory.v1.ItemsCheckedIn', '{"item_id": "x", "quantity": "1"}', '{}');
SQL
chmod 644 "$WORK/insert.sql"
declare -A PGB_TPS PGB_LAT
for clients in 1 16 64; do
  say "pgbench, $clients clients"
  result=$(as_pg "$PG_BIN/pgbench" -h 127.0.0.1 -p "$PG_PORT" -U postgres -n \
    -c "$clients" -j 2 -T "$DURATION" -f "$WORK/insert.sql" bench 2>&1)
  PGB_TPS[$clients]=$(grep -oP 'tps = \K[0-9.]+' <<<"$result" | head -n 1)
  PGB_LAT[$clients]=$(grep -oP 'latency average = \K[0-9.]+' <<<"$result")
done

# --- services -----------------------------------------------------------------
# Starts a service and waits until it is SERVING; sets started_pid and
# started_seconds (time from start to SERVING).
start_service() {  # <binary> <address> <args...>
  local binary=$1 address=$2
  shift 2
  local started
  started=$(date +%s.%N)
  "$BUILD_DIR/$binary/$binary" --listen="$address" "$@" \
    >/dev/null 2>>"$WORK/$binary.log" &
  started_pid=$!
  pids+=("$started_pid")
  until "$BUILD_DIR/$binary/$binary" --health_check --listen="$address" 2>/dev/null; do
    kill -0 "$started_pid" 2>/dev/null || { cat "$WORK/$binary.log" >&2; exit 1; }
    sleep 0.05  # polling the health endpoint
  done
  started_seconds=$(python3 -c "import time; print(time.time() - $started)")
}
say "starting the services"
start_service command-service "$COMMAND" --database_url="$URL"
command_pid=$started_pid
start_service query-service "$QUERY" --command_service="$COMMAND"
query_pid=$started_pid
LOAD=("$BUILD_DIR/bench/load_generator" --command="$COMMAND" --query="$QUERY"
      --items=10000)
json() { python3 -c "import json,sys; print(json.loads(sys.stdin.read())['$1'])"; }

say "creating 10,000 items"
"${LOAD[@]}" --mode=setup --clients=16 >/dev/null

# --- 2. commands ---------------------------------------------------------------
declare -A CMD_RATE CMD_P50
for clients in 1 16 64; do
  say "commands, $clients clients"
  result=$("${LOAD[@]}" --mode=commands --clients="$clients" --duration="${DURATION}s")
  CMD_RATE[$clients]=$(json per_second <<<"$result")
  CMD_P50[$clients]=$(json p50_ms <<<"$result")
done

# --- 3. visibility -------------------------------------------------------------
say "visibility at 1000 commands/s"
visibility=$("${LOAD[@]}" --mode=visibility --clients=16 --rate=1000 \
  --duration="${DURATION}s")

# --- 5. queries ----------------------------------------------------------------
declare -A QUERY_RATE
for kind in health get_item list_items; do
  say "queries: $kind, 64 clients"
  QUERY_RATE[$kind]=$("${LOAD[@]}" --mode=queries --kind="$kind" --clients=64 \
    --duration="${DURATION}s" | json per_second)
done

# --- 4. rebuild ----------------------------------------------------------------
# Both services stop first: nothing else may compete with the rebuild.
for pid in "$query_pid" "$command_pid"; do
  kill -TERM "$pid"
  wait "$pid" 2>/dev/null || true
done
head=$(as_pg "${PSQL[@]}" -d inventory -c "SELECT max(global_position) FROM events")
streams=$(( (EVENTS - head) / 10 ))
say "loading $streams items x 10 events (up to $EVENTS events)"
as_pg "${PSQL[@]}" -d inventory -c "
  INSERT INTO events (global_position, stream_id, stream_version, event_id,
                      event_type, payload)
  SELECT $head + (i - 1) * 10 + v, 'item-r' || i, v, gen_random_uuid(),
         CASE WHEN v = 1 THEN 'inventory.v1.ItemCreated'
              ELSE 'inventory.v1.ItemsCheckedIn' END,
         CASE WHEN v = 1 THEN jsonb_build_object('item_id', 'r' || i,
                'sku', 'R-1', 'name', 'Rebuilt ' || i)
              ELSE jsonb_build_object('item_id', 'r' || i, 'quantity', '1') END
  FROM generate_series(1, $streams) AS i, generate_series(1, 10) AS v
  ORDER BY i, v"
# Settled before either reader runs (hint bits set, statistics fresh), so
# the first reader does not pay for the load.
as_pg "${PSQL[@]}" -d inventory -c "VACUUM (ANALYZE) events"
total=$(as_pg "${PSQL[@]}" -d inventory -c "SELECT count(*) FROM events")
say "COPY export of $total events"
copy_seconds=$(python3 - "$PG_BIN/psql" "$PG_PORT" <<'PY'
import subprocess, sys, time, os
cmd = [sys.argv[1], "-h", "127.0.0.1", "-p", sys.argv[2], "-U", "postgres",
       "-d", "inventory", "-qc", "\\copy events TO '/dev/null'"]
if os.geteuid() == 0:
    cmd = ["runuser", "-u", "postgres", "--"] + cmd
start = time.time()
subprocess.run(cmd, check=True)
print(time.time() - start)
PY
)
# A command-service started now begins at the head, like one that finds a
# store with a million events in it.
say "starting a command-service on the loaded store"
start_service command-service "$COMMAND" --database_url="$URL"
say "rebuilding a fresh query-service from $total events"
REBUILD=127.0.0.1:$(free_port)
start_service query-service "$REBUILD" --command_service="$COMMAND"
rebuild_seconds=$started_seconds
peak_rss_kb=$(grep -oP 'VmHWM:\s+\K[0-9]+' "/proc/$started_pid/status")

# --- the table ----------------------------------------------------------------
ratio() { python3 -c "print(f'{$1 / $2:.2f}x')"; }
fmt() { python3 -c "print(f'{$1:,.1f}')"; }
vis_p50=$(json p50_ms <<<"$visibility")
vis_p95=$(json p95_ms <<<"$visibility")
vis_p99=$(json p99_ms <<<"$visibility")
vis_rate=$(json sent_per_second <<<"$visibility")
copy_rate=$(python3 -c "print($total / $copy_seconds)")
rebuild_rate=$(python3 -c "print($total / $rebuild_seconds)")
{
  echo "| figure | ours | baseline | ratio |"
  echo "|---|---|---|---|"
  for clients in 1 16 64; do
    echo "| commands/s, $clients clients (vs pgbench insert TPS) | $(fmt "${CMD_RATE[$clients]}") | $(fmt "${PGB_TPS[$clients]}") | $(ratio "${CMD_RATE[$clients]}" "${PGB_TPS[$clients]}") |"
  done
  echo "| command latency p50, 1 client, ms (vs pgbench latency) | ${CMD_P50[1]} | ${PGB_LAT[1]} | $(ratio "${CMD_P50[1]}" "${PGB_LAT[1]}") |"
  echo "| visibility at $(fmt "$vis_rate") commands/s: p50 / p95 / p99, ms | $vis_p50 / $vis_p95 / $vis_p99 | | |"
  echo "| rebuild of $total events, events/s (vs COPY export rows/s) | $(fmt "$rebuild_rate") | $(fmt "$copy_rate") | $(ratio "$rebuild_rate" "$copy_rate") |"
  echo "| rebuild: time to SERVING, s; peak RSS, MiB | $(fmt "$rebuild_seconds"); $(( peak_rss_kb / 1024 )) | | |"
  echo "| GetItem calls/s, 64 clients (vs empty health Check) | $(fmt "${QUERY_RATE[get_item]}") | $(fmt "${QUERY_RATE[health]}") | $(ratio "${QUERY_RATE[get_item]}" "${QUERY_RATE[health]}") |"
  echo "| ListItems (20 per page) calls/s, 64 clients (vs health Check) | $(fmt "${QUERY_RATE[list_items]}") | $(fmt "${QUERY_RATE[health]}") | $(ratio "${QUERY_RATE[list_items]}" "${QUERY_RATE[health]}") |"
  echo
  echo "Measured $(date -u +%F) on $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB; ${DURATION}s per figure."
} | tee "$OUT"
