#!/usr/bin/env bash
# Builds the unit tests with AddressSanitizer and UndefinedBehaviorSanitizer
# (the build type Asan of CMakeLists.txt, g++, into build-asan/) and runs
# them: `ctest -L unit`. Every sanitizer report is fatal, so it fails the
# test that caused it. Extra arguments go to ctest.
#
#   scripts/sanitize.sh                  # what scripts/test.sh runs
#   scripts/sanitize.sh -R Utf8          # some tests only
set -euo pipefail
cd "$(dirname "$0")/.."

BUILD_DIR=${ASAN_BUILD_DIR:-build-asan}
# Set for the build too: it runs each test binary to list its tests.
export ASAN_OPTIONS=detect_leaks=1:strict_init_order=1:check_initialization_order=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=Asan >/dev/null
cmake --build "$BUILD_DIR" -j1 --target unit_tests
ctest --test-dir "$BUILD_DIR" -L unit --output-on-failure -j "$(nproc)" "$@"
