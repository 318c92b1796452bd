#!/usr/bin/env bash
# Builds the libFuzzer targets (fuzz/) with Debian's clang 14 into
# build-fuzz/ and runs each for FUZZ_SECONDS (default 60) on a copy of its
# seed corpus (fuzz/corpus/<target>/; the committed corpus never grows).
# Exits non-zero when a target crashes or breaks an invariant, printing the
# end of its log and the reproducer, which replays with
#   build-fuzz/fuzz/<target> <reproducer>
#
#   scripts/fuzz.sh                      # every target, 60 s each
#   FUZZ_SECONDS=20 scripts/fuzz.sh      # what scripts/test.sh runs
#   scripts/fuzz.sh page_token_fuzzer    # named targets only
set -euo pipefail
cd "$(dirname "$0")/.."

FUZZ_SECONDS=${FUZZ_SECONDS:-60}
BUILD_DIR=${FUZZ_BUILD_DIR:-build-fuzz}
TARGETS=("$@")
if [ ${#TARGETS[@]} -eq 0 ]; then
  TARGETS=(command_fuzzer event_codec_fuzzer page_token_fuzzer)
fi

scripts/setup.sh  # clang 14 and its libFuzzer runtime, when missing
# A build of its own: every library is instrumented (INVENTORY_FUZZ).
CC=clang-14 CXX=clang++-14 cmake -S . -B "$BUILD_DIR" \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo -DINVENTORY_FUZZ=ON \
  -DINVENTORY_BUILD_TESTS=OFF >/dev/null
cmake --build "$BUILD_DIR" -j "$(nproc)" --target "${TARGETS[@]}"

artifacts=$(cd "$BUILD_DIR" && pwd)/fuzz-artifacts  # logs and reproducers
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
failed=()
for target in "${TARGETS[@]}"; do
  mkdir -p "$work/$target" "$artifacts/$target"
  cp -R "fuzz/corpus/$target/." "$work/$target/"
  log="$artifacts/$target.log"
  echo "fuzz: $target for ${FUZZ_SECONDS}s"
  # -timeout: one input running for 10 s is a hang, and a finding. The
  # outer timeout only guards against libFuzzer itself not stopping.
  status=0
  timeout $((FUZZ_SECONDS + 120)) "$BUILD_DIR/fuzz/$target" \
    -max_total_time="$FUZZ_SECONDS" -timeout=10 -print_final_stats=1 \
    -artifact_prefix="$artifacts/$target/" \
    "$work/$target" >"$log" 2>&1 || status=$?
  if [ "$status" -ne 0 ]; then
    failed+=("$target")
    tail -n 40 "$log" >&2
    reproducer=$(sed -n 's/.*Test unit written to //p' "$log" | tail -n 1)
    echo "fuzz: $target FAILED (exit $status); log: $log" >&2
    [ -n "$reproducer" ] && echo "fuzz: reproducer: $reproducer" >&2
  else
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
    echo "fuzz: $target ok (${runs:-?} inputs)"
  fi
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz: failed: ${failed[*]}" >&2
  exit 1
fi
echo "fuzz: ${#TARGETS[@]} targets, no findings"
