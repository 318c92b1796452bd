#!/usr/bin/env bash
# The project's test command (and what CI runs): installs what is missing,
# builds everything, and runs every test registered with CTest; then the
# fuzz targets (scripts/fuzz.sh, 20 s each) and the unit tests under the
# sanitizers (scripts/sanitize.sh).
#
#   scripts/test.sh                 # everything
#   scripts/test.sh -L unit         # extra arguments go to ctest (and then
#                                   # only ctest runs)
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/setup.sh
# buf (API lint, reflection client) comes from the npm registry, pinned by
# package-lock.json.
if [ ! -x node_modules/.bin/buf ]; then
  npm ci --no-audit --no-fund --loglevel=error
fi
# The Node example client's gRPC libraries, pinned by its package-lock.json.
if [ ! -d examples/node/node_modules ]; then
  (cd examples/node && npm ci --no-audit --no-fund --loglevel=error)
fi

BUILD_DIR=${BUILD_DIR:-build}
JOBS=$(nproc)
cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE="${BUILD_TYPE:-RelWithDebInfo}" \
  >/dev/null
cmake --build "$BUILD_DIR" -j "$JOBS"
ctest --test-dir "$BUILD_DIR" --output-on-failure -j "$JOBS" "$@"

# The full run (no ctest arguments, as CI) also runs each libFuzzer target
# briefly and the unit tests under AddressSanitizer and UBSan, each in a
# build directory of its own (build-fuzz/, build-asan/).
if [ $# -eq 0 ]; then
  FUZZ_SECONDS=${FUZZ_SECONDS:-20} scripts/fuzz.sh
  scripts/sanitize.sh
fi
