#!/usr/bin/env bash
# Compose smoke test: checks the safe defaults of deploy/compose.yaml (no
# start without a database password; ports published on 127.0.0.1 only),
# builds the images, runs deploy/compose.yaml with the TLS-and-tokens
# override (deploy/compose.tls.yaml, certificates and tokens from
# scripts/dev-certs.sh) and the host-network override (so every connection
# stays on 127.0.0.1), checks that a call without a token is refused,
# drives the CQRS flow from the host over TLS with the tokens, restarts the
# command-service container and checks that the query-service recovers,
# then removes what it built.
#
# No image can be pulled here, so the Debian 12 base is made locally with
# debootstrap + docker import (cached between runs as inventory-base:bookworm)
# and PostgreSQL comes from deploy/postgres.Dockerfile on that base; the
# compose file keeps its official defaults and is pointed at these images
# through BASE_IMAGE and POSTGRES_IMAGE.
#
# Runs when RUN_COMPOSE_TEST=1 (.ci/run sets it); otherwise it says so and
# is reported as skipped (exit 77).
#
#   compose_smoke_test.sh <buf binary>
set -euo pipefail
BUF=$1
ROOT=$(cd "$(dirname "$0")/.." && pwd)

if [ "${RUN_COMPOSE_TEST:-}" != "1" ]; then
  echo "SKIPPED: the compose smoke test installs Docker and builds images;"
  echo "it runs when RUN_COMPOSE_TEST=1 (always in CI: .ci/run sets it)."
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
# configuration (compose.yaml + compose.tls.yaml + compose.hostnet.yaml)
# without `ports`.
COMPOSE=(docker-compose -p "$PROJECT" -f "$WORK/compose.smoke.yaml")
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
export BASE_IMAGE=inventory-base:bookworm
export POSTGRES_IMAGE=inventory-postgres:$PROJECT
export INVENTORY_IMAGE=inventory-es:$PROJECT
export PG_PORT=$(free_port) COMMAND_PORT=$(free_port) QUERY_PORT=$(free_port)
# A fresh database password per run: compose has no default.
export POSTGRES_PASSWORD=$(openssl rand -hex 16)
unset PUBLISH_ADDRESS INVENTORY_UID INVENTORY_GID

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

# 3. The defaults: no start without a password; loopback only.
say "checking the defaults of deploy/compose.yaml"
: >"$WORK/empty.env"  # ignore a deploy/.env of the developer's
if refusal=$(env -u POSTGRES_PASSWORD docker-compose --env-file "$WORK/empty.env" \
    -f "$ROOT/deploy/compose.yaml" config 2>&1); then
  echo "compose accepted a configuration without POSTGRES_PASSWORD"; exit 1
fi
grep -q 'no database password - set POSTGRES_PASSWORD' <<<"$refusal" ||
  { echo "$refusal"; exit 1; }
docker-compose -f "$ROOT/deploy/compose.yaml" config >"$WORK/default.yaml"
docker-compose -f "$ROOT/deploy/compose.yaml" \
  -f "$ROOT/deploy/compose.hostnet.yaml" config >"$WORK/hostnet.yaml"
/usr/bin/python3 - "$WORK/default.yaml" "$WORK/hostnet.yaml" <<'PYTHON'
import sys, yaml
default = yaml.safe_load(open(sys.argv[1]))["services"]
published = {name: service.get("ports", []) for name, service in default.items()}
assert published["postgres"] == [], published
for name in ("command-service", "query-service"):
    ports = published[name]
    assert ports, (name, "publishes nothing")
    for port in ports:
        text = port if isinstance(port, str) else \
            "%s:%s" % (port.get("host_ip", ""), port.get("published"))
        assert text.startswith("127.0.0.1:"), (name, port)
    print("%s publishes %s" % (name, ", ".join(map(str, ports))))
hostnet = yaml.safe_load(open(sys.argv[2]))["services"]
for name in ("command-service", "query-service"):
    listen = hostnet[name]["environment"]["LISTEN_ADDR"]
    assert listen.startswith("127.0.0.1:"), (name, listen)
assert "listen_addresses=127.0.0.1" in hostnet["postgres"]["command"]
print("host network: services and PostgreSQL listen on 127.0.0.1")
PYTHON

# 4. Certificates and tokens for the TLS override. The containers run as
# uid 10001 unless told otherwise: as root, give the files to it (as in
# production); otherwise run the containers as the files' owner.
scripts_dir=$ROOT/scripts
export TLS_DIR=$WORK/tls
"$scripts_dir/dev-certs.sh" "$TLS_DIR" command-service query-service >/dev/null
if [ "$(id -u)" -eq 0 ]; then
  chown -R 10001:10001 "$TLS_DIR"
else
  export INVENTORY_UID=$(id -u) INVENTORY_GID=$(id -g)
fi

# 5. The stack, with TLS and tokens.
say "validating and building the compose project (TLS and tokens on)"
docker-compose -f "$ROOT/deploy/compose.yaml" \
  -f "$ROOT/deploy/compose.tls.yaml" config -q
docker-compose -f "$ROOT/deploy/compose.yaml" \
  -f "$ROOT/deploy/compose.tls.yaml" \
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

# 6. Health (the health checks speak TLS), the flow, a restart.
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

# Calls over TLS, trusting the dev CA; the schema comes from proto/, so a
# call without a token is refused itself (not its reflection request).
WRITER="authorization: Bearer $(cat "$TLS_DIR/writer.token")"
READER="authorization: Bearer $(cat "$TLS_DIR/reader.token")"
call() {
  local address=$1 method=$2 data=$3
  shift 3
  "$BUF" curl --protocol grpc --cacert "$TLS_DIR/ca.pem" \
    --schema "$ROOT/proto" "$@" -d "$data" "https://$address/$method"
}
position_of() { grep -o '"globalPosition": "[0-9]*"' | grep -o '[0-9]*'; }
COMMAND=127.0.0.1:$COMMAND_PORT
QUERY=127.0.0.1:$QUERY_PORT
CREATE='{"item_id":"boxed-1","sku":"BOX-1","name":"Boxed widget"}'

# Refusals: no token (either service), the reader token on a command.
refused=$(call "$COMMAND" inventory.v1.CommandService/CreateItem "$CREATE" 2>&1) &&
  { echo "a command without a token was accepted: $refused"; exit 1; }
grep -q '"code": "unauthenticated"' <<<"$refused" || { echo "$refused"; exit 1; }
refused=$(call "$QUERY" inventory.v1.QueryService/GetItem \
  '{"item_id":"boxed-1"}' 2>&1) &&
  { echo "a query without a token was answered: $refused"; exit 1; }
grep -q '"code": "unauthenticated"' <<<"$refused" || { echo "$refused"; exit 1; }
refused=$(call "$COMMAND" inventory.v1.CommandService/CreateItem "$CREATE" \
  -H "$READER" 2>&1) &&
  { echo "the reader token sent a command: $refused"; exit 1; }
grep -q '"code": "permission_denied"' <<<"$refused" || { echo "$refused"; exit 1; }
say "no token: UNAUTHENTICATED; reader token on a command: PERMISSION_DENIED: ok"

call "$COMMAND" inventory.v1.CommandService/CreateItem "$CREATE" \
  -H "$WRITER" >/dev/null
position=$(call "$COMMAND" inventory.v1.CommandService/CheckInItems \
  '{"item_id":"boxed-1","quantity":7}' -H "$WRITER" | position_of)
item=$(call "$QUERY" inventory.v1.QueryService/GetItem \
  "{\"item_id\":\"boxed-1\",\"min_position\":$position}" -H "$READER")
grep -q '"quantityOnHand": "7"' <<<"$item" || { echo "$item"; exit 1; }
query_log=$("${COMPOSE[@]}" logs --no-color query-service 2>&1)
grep -q 'tls=on writer_token=set reader_token=set command_service_tls=on command_service_token=set' \
  <<<"$query_log" || { echo "the query-service did not log TLS and tokens on"; exit 1; }
say "over TLS with tokens: create, check in, query with min_position: ok"

say "restarting the command-service container"
"${COMPOSE[@]}" restart command-service >/dev/null
await_healthy command-service
position=$(call "$COMMAND" inventory.v1.CommandService/CheckInItems \
  '{"item_id":"boxed-1","quantity":3}' -H "$WRITER" | position_of)
item=$(call "$QUERY" inventory.v1.QueryService/GetItem \
  "{\"item_id\":\"boxed-1\",\"min_position\":$position}" -H "$READER")
grep -q '"quantityOnHand": "10"' <<<"$item" || { echo "$item"; exit 1; }
say "the query-service followed the restarted command-service: ok"
echo PASS
