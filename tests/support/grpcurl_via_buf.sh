# Sourced by tests/docs_test.sh before the steps of the README and the
# guides (the tutorial defines the same function in its first step):
# grpcurl is not packaged for Debian, so `grpcurl` forwards the command
# lines those pages use to `buf curl` (installed by `npm ci`).
grpcurl() {  # grpcurl -plaintext [-d JSON] HOST:PORT (list | SERVICE/METHOD)
  local data='{}'
  [ "$1" != -plaintext ] || shift
  if [ "$1" = -d ]; then data=$2; shift 2; fi
  if [ "$2" = list ]; then
    node_modules/.bin/buf curl --protocol grpc --http2-prior-knowledge \
      --list-services "http://$1"
  else
    node_modules/.bin/buf curl --protocol grpc --http2-prior-knowledge \
      -d "$data" "http://$1/$2"
  fi
}
