#!/usr/bin/env bash
# Docs that cannot rot: runs the hands-on steps of docs/tutorial.md, and the
# shell blocks of README.md, examples/README.md and docs/operations.md,
# against a live system and compares what they print with the outputs
# written there; checks that every relative link in those pages and in
# docs/*.md points at a file that exists, and that a `symbol` named in a
# link's text occurs in the file it links to; checks that
# docs/configuration.md documents every flag and environment variable of
# both services.
#
#   docs_test.sh <build dir with the binaries> <buf binary>
#
# Each page gets a system of its own, started the way a reader starts it,
# with scripts/run.sh (private PostgreSQL via initdb, both services), on
# free loopback ports in a scratch data folder, so its positions start at 1.
# A page's steps run in one bash shell, in order, from a scratch copy of the
# repository root (symbolic links) whose build-release/ is the build under
# test; the documented ports (50051, 50052, 55432, 50061) are replaced by
# the test's own, and .data/ (the documented data folder) links to the
# system's scratch data folder. Pages other than
# the tutorial get its `grpcurl` function first
# (tests/support/grpcurl_via_buf.sh), and every shell block in them must be
# a step or be marked not-run with its reason (listed as skipped). See
# tests/support/markdown_doc.py for the markdown conventions.
set -euo pipefail
BIN_DIR=$1
BUF=$2
ROOT=$(cd "$(dirname "$0")/.." && pwd)
DOC_TOOL=$ROOT/tests/support/markdown_doc.py
TUTORIAL=$ROOT/docs/tutorial.md
STEP_TIMEOUT_SECONDS=300
WORK=$(mktemp -d /tmp/inventory-docs-test-XXXXXX)
chmod 755 "$WORK"  # PostgreSQL runs as another user when we are root

fail() { echo "FAIL: $*"; exit 1; }

[ -x "$BUF" ] || fail "no buf at $BUF: run \`npm ci\` (scripts/test.sh does)"
for binary in command-service/command-service query-service/query-service \
    examples/itemctl/itemctl; do
  [ -x "$BIN_DIR/$binary" ] || fail "$BIN_DIR/$binary is not built"
done

run_pid=""
steps_pid=""
cleanup() {
  # The steps run in a process group of their own: ending the group ends a
  # step stuck in a command as well as the shell running it.
  if [ -n "$steps_pid" ] && kill -0 "$steps_pid" 2>/dev/null; then
    kill -TERM -- "-$steps_pid" 2>/dev/null; wait "$steps_pid" 2>/dev/null || true
  fi
  if [ -n "$run_pid" ] && kill -0 "$run_pid" 2>/dev/null; then
    kill -INT "$run_pid"; wait "$run_pid" 2>/dev/null || true
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

echo "== links and code symbols"
python3 "$DOC_TOOL" links "$ROOT/README.md" "$ROOT"/docs/*.md \
  "$ROOT/examples/README.md" || fail "broken links (above)"

echo "== configuration reference"
# absl's --help exits 1 after printing.
"$BIN_DIR/command-service/command-service" --help >"$WORK/command.help" || true
"$BIN_DIR/query-service/query-service" --help >"$WORK/query.help" || true
python3 "$DOC_TOOL" flags "$ROOT/docs/configuration.md" "$WORK/command.help" \
  "$WORK/query.help" || fail "docs/configuration.md is incomplete"

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# Starts a fresh system (data folder and ports of its own) named $1, and
# sets run_pid, LOG, COMMAND_PORT, QUERY_PORT and REPLACEMENTS (what the
# pages say -> what this test uses).
start_system() {
  local data=$WORK/$1/data pg_port spare_port
  mkdir -p "$WORK/$1"
  LOG=$WORK/$1/run.log
  pg_port=$(free_port) COMMAND_PORT=$(free_port) QUERY_PORT=$(free_port)
  spare_port=$(free_port)
  REPLACEMENTS=50051=$COMMAND_PORT,50052=$QUERY_PORT,55432=$pg_port,50061=$spare_port
  # A background job of a script starts with SIGINT ignored; restore it, so
  # that the Ctrl-C sent at the end reaches run.sh as it would from a
  # terminal.
  PG_PORT=$pg_port COMMAND_PORT=$COMMAND_PORT QUERY_PORT=$QUERY_PORT \
    BIN_DIR=$BIN_DIR DATA_DIR=$data \
    python3 -c 'import os, signal, sys
signal.signal(signal.SIGINT, signal.SIG_DFL)
os.execv(sys.argv[1], sys.argv[1:])' "$ROOT/scripts/run.sh" >"$LOG" 2>&1 &
  run_pid=$!
  for _ in $(seq 1 600); do
    grep -q 'Press Ctrl-C' "$LOG" && break
    kill -0 "$run_pid" 2>/dev/null || { cat "$LOG"; fail "run.sh exited early"; }
    sleep 0.2  # waiting for another process's output
  done
  grep -q 'Press Ctrl-C' "$LOG" || { cat "$LOG"; fail "run.sh not up within 120 s"; }
}

stop_system() {
  kill -INT "$run_pid"
  wait "$run_pid" || true
  run_pid=""
  grep -q 'stopped; the events are kept' "$LOG" || { cat "$LOG"; fail "no clean stop"; }
}

# The repository as the reader sees it: every top-level entry, except that
# build-release/ (what scripts/run.sh builds) is the build under test.
REPO=$WORK/repo
mkdir -p "$REPO" "$WORK/tmp"
for entry in "$ROOT"/*; do
  [ "$(basename "$entry")" = build-release ] || ln -s "$entry" "$REPO/"
done
ln -s "$(cd "$BIN_DIR" && pwd)" "$REPO/build-release"

# One shell for all steps of a page, so that what a step defines (the
# grpcurl function, variables) is there for the next, as in a reader's
# terminal.
cat >"$WORK/run_steps.sh" <<'EOF'
cd "$REPO"
cleanup_jobs() {
  local pids
  pids=$(jobs -p)
  [ -z "$pids" ] || { kill $pids 2>/dev/null; wait $pids 2>/dev/null; }
}
trap cleanup_jobs EXIT
trap 'exit 1' TERM INT
[ -z "$PRELUDE" ] || source "$PRELUDE"
for step in "$STEPS"/*.sh; do
  source "$step" >"${step%.sh}.out" 2>&1 </dev/null
  echo $? >"${step%.sh}.rc"
done
EOF

failures=0
total=0
# Runs the steps of page $2 against a fresh system named $1, after sourcing
# $3 (if not empty); $4: extraction options (empty, or --every-shell-block).
run_page() {
  local name=$1 doc=$2 prelude=$3 options=$4 count
  echo "== $name: start the system with scripts/run.sh"
  start_system "$name"
  # The pages' data folder, .data/ under the repository root, is this
  # system's.
  ln -sfn "$WORK/$name/data" "$REPO/.data"
  STEPS=$WORK/$name/steps
  # shellcheck disable=SC2086  # options: empty or one word
  count=$(python3 "$DOC_TOOL" steps "$doc" "$STEPS" "$REPLACEMENTS" $options) ||
    fail "cannot extract the steps of $doc"
  total=$((total + count))
  echo "== $name: $count steps, run against the live services"
  (
    # The reader's defaults (itemctl's addresses) point at the test's
    # ports; nothing from the caller's environment changes what a step does.
    unset DATABASE_URL LISTEN_ADDR DATABASE_POOL_SIZE MAX_MESSAGE_BYTES \
      MAX_CONCURRENT_STREAMS MAX_THREADS
    export COMMAND_SERVICE_ADDR=127.0.0.1:$COMMAND_PORT
    export QUERY_SERVICE_ADDR=127.0.0.1:$QUERY_PORT
    unset PGOPTIONS PGSERVICE
    export PSQLRC=/dev/null LC_ALL=C  # psql's output as documented
    export TMPDIR=$WORK/tmp REPO STEPS PRELUDE=$prelude
    exec setsid bash "$WORK/run_steps.sh"
  ) &
  steps_pid=$!
  for _ in $(seq 1 $((STEP_TIMEOUT_SECONDS * 10))); do
    kill -0 "$steps_pid" 2>/dev/null || break
    sleep 0.1  # waiting for another process to finish
  done
  if kill -0 "$steps_pid" 2>/dev/null; then
    running=$(ls "$STEPS"/*.out | tail -n 1)
    fail "the steps did not finish within ${STEP_TIMEOUT_SECONDS} s; stuck in $(cat "${running%.out}.where")"
  fi
  wait "$steps_pid" || true
  steps_pid=""

  local step prefix where rc want problem diff
  for step in "$STEPS"/*.sh; do
    prefix=${step%.sh}
    where=$(cat "$prefix.where")
    if [ ! -f "$prefix.rc" ]; then
      echo "FAIL: $where: did not run"; failures=$((failures + 1)); continue
    fi
    rc=$(cat "$prefix.rc")
    want=$(cat "$prefix.exit")
    problem=""
    if [ "$want" = nonzero ] && [ "$rc" -eq 0 ]; then
      problem="exited 0, the page says it fails"
    elif [ "$want" != nonzero ] && [ "$rc" -ne 0 ]; then
      problem="exited $rc"
    fi
    if ! diff=$(python3 "$DOC_TOOL" compare "$prefix" "$REPLACEMENTS"); then
      problem="${problem:+$problem; }output differs from the page"
    fi
    if [ -n "$problem" ]; then
      failures=$((failures + 1))
      echo "FAIL: $where: $problem"
      echo "--- step:"; cat "$step"
      echo "--- output:"; cat "$prefix.out"
      [ -z "$diff" ] || { echo "--- diff:"; echo "$diff"; }
    else
      echo "ok   $where"
    fi
  done
  echo "== $name: stop the system"
  stop_system
}

GUIDE_PRELUDE=$ROOT/tests/support/grpcurl_via_buf.sh
run_page readme "$ROOT/README.md" "$GUIDE_PRELUDE" --every-shell-block
run_page examples "$ROOT/examples/README.md" "$GUIDE_PRELUDE" --every-shell-block
run_page operations "$ROOT/docs/operations.md" "$GUIDE_PRELUDE" --every-shell-block
run_page tutorial "$TUTORIAL" "" ""

[ "$failures" -eq 0 ] || fail "$failures of $total steps failed"
echo "PASS"
