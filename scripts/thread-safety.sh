#!/usr/bin/env bash
# Builds everything (libraries, services, tests, benchmarks, examples) with
# Debian's clang 14 and -Wthread-safety -Wall -Wextra -Werror on our own
# code (INVENTORY_THREAD_SAFETY of CMakeLists.txt) into build-tsa/. The
# compile is the check: Abseil's lock annotations (ABSL_GUARDED_BY,
# ABSL_EXCLUSIVE_LOCKS_REQUIRED, ...) are only checked by clang, and g++
# builds ignore them. Nothing is run; -O0 without debug information, and
# ccache when installed, keep it cheap.
#
#   scripts/thread-safety.sh             # what scripts/test.sh runs
#   scripts/thread-safety.sh --target command_server    # extra arguments
#                                        # go to `cmake --build`
set -euo pipefail
cd "$(dirname "$0")/.."

BUILD_DIR=${TSA_BUILD_DIR:-build-tsa}
scripts/setup.sh  # clang 14, when missing

launcher=()
if command -v ccache >/dev/null 2>&1; then
  launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
fi
# Debug with its flags replaced by -O0 alone: the fastest compile. The
# test binaries' tests are listed by ctest when it runs them (PRE_TEST),
# not after each link, since this build runs nothing.
CC=clang-14 CXX=clang++-14 cmake -S . -B "$BUILD_DIR" \
  -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS_DEBUG=-O0 \
  -DINVENTORY_THREAD_SAFETY=ON \
  -DCMAKE_GTEST_DISCOVER_TESTS_DISCOVERY_MODE=PRE_TEST \
  "${launcher[@]}" >/dev/null
start=$SECONDS
cmake --build "$BUILD_DIR" -j "$(nproc)" "$@"
echo "thread-safety: clang -Wthread-safety build clean" \
  "($((SECONDS - start)) s)"
