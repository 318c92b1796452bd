#!/usr/bin/env bash
# Compose smoke test: builds the images, runs deploy/compose.yaml (with the
# host-network override, so every connection stays on 127.0.0.1), drives
# the CQRS flow from the host, restarts the command-service container and
# checks that the query-service recovers, then removes what it built.
#
# No image can be pulled here, so the Debian 12 base is made locally with
# debootstrap + docker import (cached between runs as inventory-base:bookworm)
# and PostgreSQL comes from deploy/postgres.Dockerfile on that base; the
# compose file keeps its official defaults and is pointed at these images
# through BASE_IMAGE and POSTGRES_IMAGE.
#
# Runs when CI=true or RUN_COMPOSE_TEST=1; otherwise it says so and is
# reported as skipped (exit 77).
#
#   compose_smoke_test.sh <buf binary>
set -euo pipefail
BUF=$1
ROOT=$(cd "$(dirname "$0")/.." && pwd)

if [ "${CI:-}" != "true" ] && [ "${RUN_COMPOSE_TEST:-}" != "1" ]; then
  echo "SKIPPED: the compose smoke test installs Docker and builds images;"
  echo "it runs when CI=true (always in CI) or RUN_COMPOSE_TEST=1."
  exit 77
fi

say() { printf '== %s\n' "$*"; }
as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

# 1. Docker, compose and debootstrap from Debian; dockerd if not running.
missing=()
for package in docker.io docker-compose debootstrap; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null |
    grep -q 'install ok installed' || missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ]; then
  say "installing ${missing[*]}"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
    --no-install-recommends "${missing[@]}" >/dev/null
fi
WORK=$(mktemp -d /tmp/inventory-compose-XXXXXX)
dockerd_pid=""
if ! docker info >/dev/null 2>&1; then
  # A daemon that is still shutting down holds the pid file; let it finish.
  for _ in $(seq 1 30); do
    [ -f /var/run/docker.pid ] && kill -0 "$(cat /var/run/docker.pid)" 2>/dev/null || break
    sleep 1
  done
  say "starting dockerd"
  if [ "$(id -u)" -eq 0 ]; then
    dockerd >"$WORK/dockerd.log" 2>&1 &
  else
    sudo dockerd >"$WORK/dockerd.log" 2>&1 &
  fi
  dockerd_pid=$!
  for _ in $(seq 1 60); do
    docker info >/dev/null 2>&1 && break
    sleep 1  # waiting for the daemon's socket
  done
  docker info >/dev/null 2>&1 || { cat "$WORK/dockerd.log"; exit 1; }
fi

PROJECT=inventory-smoke-$$
# Compose v1 refuses published ports together with host networking and an
# override cannot remove list entries, so the test runs the merged
# configuration (compose.yaml + compose.hostnet.yaml) without `ports`.
COMPOSE=(docker-compose -p "$PROJECT" -f "$WORK/compose.smoke.yaml")
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
export BASE_IMAGE=inventory-base:bookworm
export POSTGRES_IMAGE=inventory-postgres:$PROJECT
export INVENTORY_IMAGE=inventory-es:$PROJECT
export PG_PORT=$(free_port) COMMAND_PORT=$(free_port) QUERY_PORT=$(free_port)

cleanup() {
  local code=$?
  trap - EXIT
  if [ $code -ne 0 ]; then
    echo "--- container logs"
    "${COMPOSE[@]}" logs --no-color 2>&1 | tail -60 || true
  fi
  say "removing containers, volumes and images"
  "${COMPOSE[@]}" down -v --remove-orphans >/dev/null 2>&1 || true
  docker rmi -f "$INVENTORY_IMAGE" "$POSTGRES_IMAGE" >/dev/null 2>&1 || true
  docker image prune -f >/dev/null 2>&1 || true
  if [ -n "$dockerd_pid" ]; then
    say "stopping the dockerd this test started"
    as_root kill -TERM "$dockerd_pid" 2>/dev/null || true
    wait "$dockerd_pid" 2>/dev/null || true
  fi
  rm -rf "$WORK"
  exit $code
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# 2. The local base and PostgreSQL images.
if ! docker image inspect "$BASE_IMAGE" >/dev/null 2>&1; then
  say "building the Debian 12 base image (debootstrap)"
  as_root debootstrap --variant=minbase bookworm "$WORK/rootfs" \
    >"$WORK/debootstrap.log" 2>&1 || { tail -20 "$WORK/debootstrap.log"; exit 1; }
  as_root tar -C "$WORK/rootfs" -c . | docker import - "$BASE_IMAGE" >/dev/null
  as_root rm -rf "$WORK/rootfs"
fi
say "building $POSTGRES_IMAGE"
docker build -q --network host -f "$ROOT/deploy/postgres.Dockerfile" \
  --build-arg BASE_IMAGE="$BASE_IMAGE" -t "$POSTGRES_IMAGE" "$ROOT" >/dev/null

# 3. The stack.
say "validating and building the compose project"
docker-compose -f "$ROOT/deploy/compose.yaml" config -q
docker-compose -f "$ROOT/deploy/compose.yaml" \
  -f "$ROOT/deploy/compose.hostnet.yaml" config >"$WORK/compose.smoke.yaml"
/usr/bin/python3 -c 'import sys, yaml
path = sys.argv[1]
config = yaml.safe_load(open(path))
for service in config["services"].values():
    service.pop("ports", None)
yaml.safe_dump(config, open(path, "w"))' "$WORK/compose.smoke.yaml"
"${COMPOSE[@]}" config -q
"${COMPOSE[@]}" build --quiet
say "starting it (postgres on $PG_PORT, services on $COMMAND_PORT, $QUERY_PORT)"
"${COMPOSE[@]}" up -d

# 4. Health, the flow, a restart.
await_healthy() {
  local service=$1 id status
  id=$("${COMPOSE[@]}" ps -q "$service")
  for _ in $(seq 1 300); do
    status=$(docker inspect -f '{{.State.Health.Status}}' "$id")
    [ "$status" = healthy ] && return 0
    sleep 0.5  # polling the container's health status
  done
  echo "$service is $status"
  return 1
}
for service in postgres command-service query-service; do
  await_healthy "$service"
done
say "all healthy"

call() {
  local address=$1 method=$2 data=$3
  "$BUF" curl --protocol grpc --http2-prior-knowledge -d "$data" \
    "http://$address/$method"
}
position_of() { grep -o '"globalPosition": "[0-9]*"' | grep -o '[0-9]*'; }
COMMAND=127.0.0.1:$COMMAND_PORT
QUERY=127.0.0.1:$QUERY_PORT

call "$COMMAND" inventory.v1.CommandService/CreateItem \
  '{"item_id":"boxed-1","sku":"BOX-1","name":"Boxed widget"}' >/dev/null
position=$(call "$COMMAND" inventory.v1.CommandService/CheckInItems \
  '{"item_id":"boxed-1","quantity":7}' | position_of)
item=$(call "$QUERY" inventory.v1.QueryService/GetItem \
  "{\"item_id\":\"boxed-1\",\"min_position\":$position}")
grep -q '"quantityOnHand": "7"' <<<"$item" || { echo "$item"; exit 1; }
say "create, check in, query with min_position: ok"

say "restarting the command-service container"
"${COMPOSE[@]}" restart command-service >/dev/null
await_healthy command-service
position=$(call "$COMMAND" inventory.v1.CommandService/CheckInItems \
  '{"item_id":"boxed-1","quantity":3}' | position_of)
item=$(call "$QUERY" inventory.v1.QueryService/GetItem \
  "{\"item_id\":\"boxed-1\",\"min_position\":$position}")
grep -q '"quantityOnHand": "10"' <<<"$item" || { echo "$item"; exit 1; }
say "the query-service followed the restarted command-service: ok"
echo PASS
