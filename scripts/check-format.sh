#!/usr/bin/env bash
# Fails, listing the files, when a tracked C++ file is not clang-formatted
# (Google style, see .clang-format). Fix with: clang-format -i <file>.
set -euo pipefail
cd "$(dirname "$0")/.."
bad=()
while IFS= read -r file; do
  clang-format --dry-run -Werror "$file" >/dev/null 2>&1 || bad+=("$file")
done < <(git ls-files -co --exclude-standard '*.cc' '*.h')
if [ ${#bad[@]} -gt 0 ]; then
  printf 'not clang-formatted: %s\n' "${bad[@]}" >&2
  exit 1
fi
echo "all C++ files are clang-formatted"
