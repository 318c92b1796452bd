#include "common/base/field_violation.h"

#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"
#include "absl/types/optional.h"

namespace inventory {
namespace {

// Payload key under which InvalidField() stores the field name.
constexpr absl::string_view kFieldPayloadKey = "inventory/field-violation";

}  // namespace

absl::Status InvalidField(absl::string_view field,
                          absl::string_view description) {
  absl::Status status =
      absl::InvalidArgumentError(absl::StrCat(field, ": ", description));
  status.SetPayload(kFieldPayloadKey, absl::Cord(field));
  return status;
}

std::optional<FieldViolation> FieldViolationOf(const absl::Status& status) {
  if (status.code() != absl::StatusCode::kInvalidArgument) return std::nullopt;
  absl::optional<absl::Cord> field = status.GetPayload(kFieldPayloadKey);
  if (!field.has_value()) return std::nullopt;
  FieldViolation violation;
  violation.field = std::string(*field);
  absl::string_view message = status.message();
  const std::string prefix = absl::StrCat(violation.field, ": ");
  if (message.substr(0, prefix.size()) == prefix) {
    message.remove_prefix(prefix.size());
  }
  violation.description = std::string(message);
  return violation;
}

}  // namespace inventory
