// Invalid-argument errors that name the offending request field.
//
// The domain reports a malformed value as InvalidField("quantity", "...").
// The gRPC layer turns such a status into INVALID_ARGUMENT with
// google.rpc.BadRequest field violations, without the domain depending on
// any protobuf type.
#ifndef INVENTORY_COMMON_BASE_FIELD_VIOLATION_H_
#define INVENTORY_COMMON_BASE_FIELD_VIOLATION_H_

#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace inventory {

// One violated rule of one request field.
struct FieldViolation {
  std::string field;        // e.g. "item_id"
  std::string description;  // e.g. "must be 1 to 64 characters ..."
};

// Returns an INVALID_ARGUMENT status whose message is
// "<field>: <description>" and which remembers the field for
// FieldViolationOf().
absl::Status InvalidField(absl::string_view field,
                          absl::string_view description);

// The violation recorded by InvalidField(), or nullopt for any other status.
std::optional<FieldViolation> FieldViolationOf(const absl::Status& status);

}  // namespace inventory

#endif  // INVENTORY_COMMON_BASE_FIELD_VIOLATION_H_
