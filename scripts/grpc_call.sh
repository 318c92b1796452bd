# shellcheck shell=bash
# Defines grpc_call, grpcurl's command line as the README and the tutorial
# use it, run through `buf curl` (which scripts/run.sh installs with npm ci,
# pinned by package-lock.json). In bash:
#
#   source scripts/grpc_call.sh
#   grpc_call -plaintext [-d JSON] HOST:PORT list
#   grpc_call -plaintext [-d JSON] HOST:PORT SERVICE/METHOD
#
# Where no grpcurl is installed it also defines a grpcurl function that calls
# grpc_call, so that the docs' grpcurl lines work as written; an installed
# grpcurl is never hidden. The two print the same answers in different
# spellings: buf curl names JSON fields in lowerCamelCase ("globalPosition"),
# grpcurl, reading these services' reflection, as in the .proto
# ("global_position"); and each prints errors in its own format.

_grpc_call_buf=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/node_modules/.bin/buf

grpc_call() {
  if [ ! -x "$_grpc_call_buf" ]; then
    echo "grpc_call: no buf at $_grpc_call_buf; scripts/run.sh installs it" \
      "(or run \`npm ci\` in ${_grpc_call_buf%/node_modules/*})" >&2
    return 127
  fi
  local data='{}'
  while [ $# -gt 0 ]; do
    case $1 in
      -plaintext) shift ;;
      -d) data=${2:-}; shift 2 || shift ;;
      *) break ;;
    esac
  done
  case ${2:-} in
    list)
      "$_grpc_call_buf" curl --protocol grpc --http2-prior-knowledge \
        --list-services "http://${1:-}" ;;
    describe)
      echo "grpc_call: buf curl cannot describe; install grpcurl for that" >&2
      return 2 ;;
    *)
      "$_grpc_call_buf" curl --protocol grpc --http2-prior-knowledge \
        -d "$data" "http://${1:-}/${2:-}" ;;
  esac
}

if ! type -P grpcurl >/dev/null; then
  grpcurl() { grpc_call "$@"; }
fi
