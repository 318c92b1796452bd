#!/usr/bin/env bash
# Installs every system package this project needs to build, test and run,
# when missing. Debian 12; as root or through sudo. Idempotent, and silent
# when everything is already there.
set -euo pipefail

PACKAGES=(
  # build
  g++ cmake make pkg-config
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler
  grpc-proto libpqxx-dev libabsl-dev
  # tests and tools
  libgtest-dev libgmock-dev libbenchmark-dev clang-format
  postgresql python3
  # the fuzz targets (scripts/fuzz.sh): clang 14 and, in libclang-rt-14-dev
  # (only recommended by clang-14), the libFuzzer and sanitizer runtimes
  clang-14 libclang-rt-14-dev
  # the example clients (examples/)
  python3-grpcio
)
# Node.js and npm may come from elsewhere than Debian; the commands suffice.
command -v node >/dev/null 2>&1 || PACKAGES+=(nodejs)
command -v npm >/dev/null 2>&1 || PACKAGES+=(npm)

missing=()
for package in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null |
      grep -q 'install ok installed'; then
    missing+=("$package")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -eq 0 ]; then
  as_root=()
elif command -v sudo >/dev/null 2>&1; then
  as_root=(sudo)
else
  echo "setup: need root (or sudo) to install: ${missing[*]}" >&2
  exit 1
fi

echo "setup: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${as_root[@]}" apt-get update -qq
"${as_root[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" \
  >/dev/null
echo "setup: done"
