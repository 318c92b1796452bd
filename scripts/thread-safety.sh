#!/usr/bin/env bash
# Checks every C++ file of ours (libraries, services, tests, benchmarks,
# examples) with Debian's clang 14 and -Wthread-safety -Wall -Wextra
# -Werror (INVENTORY_THREAD_SAFETY of CMakeLists.txt), configured in
# build-tsa/. Abseil's lock annotations (ABSL_GUARDED_BY,
# ABSL_EXCLUSIVE_LOCKS_REQUIRED, ...) are only checked by clang, and g++
# builds ignore them.
#
# The analysis is part of clang's front end, so each file is only parsed
# and checked (-fsyntax-only), with the exact command CMake would compile it
# with (compile_commands.json): no code is generated and nothing is linked,
# which saves the build's code generation and linking (so diagnostics of
# clang's back end, and the link itself, are not checked here: the g++
# build does that). Only protoc runs first, for the generated headers
# (target inventory_proto_generated). A file whose command lacks
# -Wthread-safety (a target without INVENTORY_WARNINGS) fails the check:
# it would be counted without being analysed.
#
#   scripts/thread-safety.sh              # what scripts/test.sh runs
#   scripts/thread-safety.sh command-service query-service/server
#                                         # only files under these folders
#                                         # (or these files), from the root
set -euo pipefail
cd "$(dirname "$0")/.."

BUILD_DIR=${TSA_BUILD_DIR:-build-tsa}
scripts/setup.sh  # clang 14, when missing

CC=clang-14 CXX=clang++-14 cmake -S . -B "$BUILD_DIR" \
  -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS_DEBUG=-O0 \
  -DINVENTORY_THREAD_SAFETY=ON -DCMAKE_EXPORT_COMPILE_COMMANDS=ON >/dev/null
start=$SECONDS
cmake --build "$BUILD_DIR" -j "$(nproc)" --target inventory_proto_generated \
  >/dev/null

python3 - "$BUILD_DIR" "$(nproc)" "$@" <<'EOF'
import concurrent.futures
import json
import os
import subprocess
import sys

build_dir, jobs, *paths = sys.argv[1:]
paths = [os.path.normpath(p) for p in paths]
root = os.getcwd()
build = os.path.realpath(build_dir)
with open(os.path.join(build, "compile_commands.json")) as f:
    entries = json.load(f)
todo = []
for entry in entries:
    source = os.path.realpath(os.path.join(entry["directory"], entry["file"]))
    if source.startswith(build + os.sep):
        continue  # generated code: not ours, never analysed
    relative = os.path.relpath(source, root)
    if paths and not any(relative == p or relative.startswith(p + os.sep)
                         for p in paths):
        continue
    if "-Wthread-safety" not in entry["command"].split():
        sys.exit(f"thread-safety: {relative} is compiled without "
                 "-Wthread-safety (its target lacks INVENTORY_WARNINGS)")
    todo.append((relative, entry))
if not todo:
    sys.exit("thread-safety: no file to check")


def check(item):
    relative, entry = item
    result = subprocess.run(entry["command"] + " -fsyntax-only", shell=True,
                            cwd=entry["directory"], capture_output=True,
                            text=True)
    return relative, result.returncode, result.stdout + result.stderr


failed = []
with concurrent.futures.ThreadPoolExecutor(int(jobs)) as pool:
    for relative, code, output in pool.map(check, todo):
        if output:
            sys.stderr.write(output)
        if code != 0:
            failed.append(relative)
if failed:
    sys.exit("thread-safety: FAILED: " + " ".join(sorted(failed)))
print(f"thread-safety: {len(todo)} files checked")
EOF
echo "thread-safety: clang -Wthread-safety clean ($((SECONDS - start)) s)"
