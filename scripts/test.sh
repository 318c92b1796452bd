#!/usr/bin/env bash
# The project's test command (and what CI runs): installs what is missing,
# builds everything, and runs every test registered with CTest; then the
# clang check with -Wthread-safety (scripts/thread-safety.sh), the fuzz
# targets (scripts/fuzz.sh, 20 s each) and the unit tests under the
# sanitizers (scripts/sanitize.sh).
#
#   scripts/test.sh                 # everything
#   scripts/test.sh -L unit         # extra arguments go to ctest (and then
#                                   # only ctest runs)
#   RUN_COMPOSE_TEST=1 scripts/test.sh   # with the compose smoke test (it
#                                   # installs Docker), as CI (.ci/run)
#
# A filter that selects no test fails (--no-tests=error). Skipped tests are
# counted at the end, and a skip fails the run unless its cause is a choice
# of whoever runs it. Every skip today has one of two causes:
#   compose_smoke_test   exits 77 unless switched on (RUN_COMPOSE_TEST=1);
#   GTEST_SKIP in the PostgreSQL tests (postgres_event_store_test,
#                        command_server_test, lost_answer_test,
#                        cqrs_fault_test): cases that restart, crash or
#                        proxy a cluster of their own, skipped when
#                        TEST_DATABASE_URL points them at an outside server.
# So a compose skip is accepted only when the test is not switched on, and
# any other skip only when TEST_DATABASE_URL is set. CI switches compose on
# and sets no TEST_DATABASE_URL: there every skip hides something that
# should have run (a missing dependency, a broken check) and fails.
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
# ctest's output is kept for its list of the tests that did not run.
ctest_log=$(mktemp)
trap 'rm -f "$ctest_log"' EXIT
ctest --test-dir "$BUILD_DIR" --output-on-failure --no-tests=error \
  -j "$JOBS" "$@" | tee "$ctest_log"

# The full run (no ctest arguments, as CI) also checks every file with clang
# and -Wthread-safety, runs each libFuzzer target briefly and the unit tests
# under AddressSanitizer and UBSan, each in a build directory of its own
# (build-tsa/, build-fuzz/, build-asan/).
if [ $# -eq 0 ]; then
  scripts/thread-safety.sh
  FUZZ_SECONDS=${FUZZ_SECONDS:-20} scripts/fuzz.sh
  scripts/sanitize.sh
fi

# The skipped tests, from ctest's summary ("  12 - name (Skipped)"), and
# those whose skip is not accepted here (see the top of this file).
skipped=()
while IFS= read -r name; do
  skipped+=("$name")
done < <(sed -n '/^The following tests did not run:/,/^$/ {
  s/^[[:space:]]*[0-9]* - \(.*\) (Skipped)$/\1/p
}' "$ctest_log")
refused=()
for name in "${skipped[@]}"; do
  if [ "$name" = compose_smoke_test ]; then
    [ "${RUN_COMPOSE_TEST:-}" != 1 ] && continue
  elif [ -n "${TEST_DATABASE_URL:-}" ]; then
    continue
  fi
  refused+=("$name")
done
echo "test: ${#skipped[@]} tests skipped${skipped[*]:+: ${skipped[*]}}"
if [ ${#refused[@]} -gt 0 ]; then
  echo "test: FAILED: skipped, though nothing here excuses it:" \
    "${refused[*]} (see its output: ctest --test-dir $BUILD_DIR -V -R ...)" >&2
  exit 1
fi
