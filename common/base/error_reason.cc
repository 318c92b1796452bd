#include "common/base/error_reason.h"

#include <cstddef>
#include <utility>

#include "absl/strings/cord.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/types/optional.h"
#include "common/base/field_violation.h"
#include "common/base/log.h"

namespace inventory {
namespace {

// Payload key under which WithReason() stores the reason: the reason, then
// each metadata key and value, every part length-prefixed ("<size>:<text>")
// so that any text (a value from a server, with newlines or '=') survives.
constexpr absl::string_view kReasonPayloadKey = "inventory/error-reason";

void AddPart(std::string* out, absl::string_view part) {
  absl::StrAppend(out, part.size(), ":", part);
}

// The next part of `encoded` (consumed), or nullopt if it is malformed.
std::optional<std::string> TakePart(absl::string_view* encoded) {
  const size_t colon = encoded->find(':');
  size_t size = 0;
  if (colon == absl::string_view::npos ||
      !absl::SimpleAtoi(encoded->substr(0, colon), &size) ||
      size > encoded->size() - colon - 1) {
    return std::nullopt;
  }
  std::string part(encoded->substr(colon + 1, size));
  encoded->remove_prefix(colon + 1 + size);
  return part;
}

std::optional<ErrorReason> Decode(absl::string_view encoded) {
  ErrorReason result;
  std::optional<std::string> reason = TakePart(&encoded);
  if (!reason.has_value()) return std::nullopt;
  result.reason = std::move(*reason);
  while (!encoded.empty()) {
    std::optional<std::string> key = TakePart(&encoded);
    if (!key.has_value()) return std::nullopt;
    std::optional<std::string> value = TakePart(&encoded);
    if (!value.has_value()) return std::nullopt;
    result.metadata[std::move(*key)] = std::move(*value);
  }
  return result;
}

}  // namespace

absl::Status WithReason(absl::Status status, absl::string_view reason,
                        const std::map<std::string, std::string>& metadata) {
  if (status.ok()) return status;
  std::string encoded;
  AddPart(&encoded, reason);
  for (const auto& [key, value] : metadata) {
    AddPart(&encoded, key);
    AddPart(&encoded, value);
  }
  status.SetPayload(kReasonPayloadKey, absl::Cord(encoded));
  return status;
}

std::optional<ErrorReason> ErrorReasonOf(const absl::Status& status) {
  if (status.ok()) return std::nullopt;
  const absl::optional<absl::Cord> payload =
      status.GetPayload(kReasonPayloadKey);
  if (payload.has_value()) return Decode(std::string(*payload));
  if (FieldViolationOf(status).has_value()) {
    return ErrorReason{std::string(reason::kInvalidField), {}};
  }
  return std::nullopt;
}

std::string StatusForLog(const absl::Status& status) {
  std::string line =
      status.ToString(absl::StatusToStringMode::kWithNoExtraData);
  if (const std::optional<ErrorReason> reason = ErrorReasonOf(status)) {
    absl::StrAppend(&line, " (", reason->reason);
    for (const auto& [key, value] : reason->metadata) {
      absl::StrAppend(&line, " ", key, "=", value);
    }
    absl::StrAppend(&line, ")");
  }
  // Messages and metadata may quote what a client sent.
  return EscapeForLog(line, 4 * kLogFieldMaxBytes);
}

}  // namespace inventory
