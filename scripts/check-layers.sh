#!/usr/bin/env bash
# Fails, naming the file and the include, when code includes a header its
# layer may not use (docs/architecture.md, "Code layout and dependency
# rules"). The build enforces the same rules for symbols (each library
# links only what its layer may use); this check also catches a header
# used without a symbol. Each rule: a folder (its files, not its
# subfolders' unless they have no rule of their own) and the include
# prefixes its files may use; standard and system headers are always
# allowed, any other third-party header only where listed.
set -euo pipefail
cd "$(dirname "$0")/.."

# folder | allowed include prefixes (space-separated)
RULES=(
  "common/base|common/base/ absl/ gmock/ gtest/"
  "common/api|common/base/ common/api/ common/eventstore/event_store.h absl/ inventory/ google/protobuf/ gmock/ gtest/"
  "common/eventstore|common/base/ common/eventstore/ absl/ google/protobuf/ gmock/ gtest/"
  "common/eventstore/postgres|common/base/ common/eventstore/ absl/ pqxx/ gmock/ gtest/"
  "common/rpc/security|common/base/ common/rpc/security/ common/rpc/grpc_status.h absl/ grpcpp/ grpc/ gmock/ gtest/"
  "common/rpc|common/base/ common/rpc/ absl/ grpcpp/ grpc/ google/protobuf/ google/rpc/ inventory/v1/ gmock/ gtest/"
  "command-service/domain|common/base/ common/api/item_id.h command-service/domain/ absl/ gmock/ gtest/"
  "command-service/server|common/base/ common/api/ common/eventstore/event_store.h common/eventstore/in_memory_event_store.h common/eventstore/mock_event_store.h common/rpc/ command-service/ inventory/ absl/ grpcpp/ grpc/ google/protobuf/ gmock/ gtest/"
  "command-service/application|common/base/ common/api/ common/eventstore/ command-service/domain/ command-service/application/ inventory/ absl/ gmock/ gtest/"
  "query-service|common/base/ common/api/ common/rpc/ query-service/ inventory/ absl/ grpcpp/ grpc/ google/protobuf/ gmock/ gtest/"
)
# Third-party prefixes; a header outside them (and outside our folders) is
# a standard or system header.
THIRD_PARTY='^(absl|grpcpp|grpc|google|pqxx|gmock|gtest|benchmark|inventory)/'
OURS='^(common|command-service|query-service|proto|tests|examples|bench|fuzz)/'

status=0
checked=0
for rule in "${RULES[@]}"; do
  folder=${rule%%|*}
  read -r -a allowed <<<"${rule#*|}"
  # The folder's files, minus those of subfolders with a rule of their own.
  mapfile -t files < <(git ls-files "$folder" | grep -E '\.(h|cc)$' |
    while read -r file; do
      owner=""
      for other in "${RULES[@]}"; do
        candidate=${other%%|*}
        case "$file" in
          "$candidate"/*) [ ${#candidate} -gt ${#owner} ] && owner=$candidate ;;
        esac
      done
      [ "$owner" = "$folder" ] && echo "$file"
    done)
  for file in "${files[@]}"; do
    checked=$((checked + 1))
    while IFS= read -r header; do
      [[ "$header" =~ $THIRD_PARTY || "$header" =~ $OURS ]] || continue
      ok=false
      for prefix in "${allowed[@]}"; do
        [[ "$header" == "$prefix"* ]] && ok=true && break
      done
      if ! $ok; then
        echo "$file: includes $header, which $folder/ may not use" >&2
        status=1
      fi
    done < <(sed -nE 's/^#include [<"]([^>"]+)[>"].*/\1/p' "$file")
  done
done
# Outside a git checkout git ls-files finds nothing: that is no pass.
if [ $checked -eq 0 ]; then
  echo "check-layers: found no source files (not a git checkout?)" >&2
  exit 1
fi
[ $status -eq 0 ] && echo "every include keeps to its layer ($checked files)"
exit $status
