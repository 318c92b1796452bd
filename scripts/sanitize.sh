#!/usr/bin/env bash
# Builds the unit tests with AddressSanitizer and UndefinedBehaviorSanitizer
# (the build type Asan of CMakeLists.txt, g++, into build-asan/) and runs
# them: `ctest -L unit`; then the PostgreSQL event store's integration
# suite (its own throwaway cluster), whose concurrent appends exercise the
# group commit's hand-off between threads. Every sanitizer report is
# fatal, so it fails the test that caused it; a use of a returned
# function's stack is caught too (detect_stack_use_after_return). Extra
# arguments go to the unit tests' ctest.
#
#   scripts/sanitize.sh                  # what scripts/test.sh runs
#   scripts/sanitize.sh -R Utf8          # some unit tests only
set -euo pipefail
cd "$(dirname "$0")/.."

BUILD_DIR=${ASAN_BUILD_DIR:-build-asan}
# Set for the build too: it runs each test binary to list its tests.
export ASAN_OPTIONS=detect_leaks=1:strict_init_order=1:check_initialization_order=1:detect_stack_use_after_return=1
export LSAN_OPTIONS=suppressions=$PWD/scripts/lsan-suppressions.txt
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=Asan >/dev/null
cmake --build "$BUILD_DIR" -j "$(nproc)" --target unit_tests \
  postgres_event_store_test
# --no-tests=error: a filter (or a label) that selects nothing fails.
ctest --test-dir "$BUILD_DIR" -L unit --output-on-failure --no-tests=error \
  -j "$(nproc)" "$@"
ctest --test-dir "$BUILD_DIR" -R '^postgres_event_store_test$' \
  --output-on-failure --no-tests=error
