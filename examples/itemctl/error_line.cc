#include "examples/itemctl/error_line.h"

#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"
#include "common/base/error_reason.h"
#include "common/base/field_violation.h"

namespace inventory::itemctl {
namespace {

constexpr absl::string_view kUsagePayloadKey = "itemctl/usage-error";

}  // namespace

absl::Status UsageError(absl::string_view message) {
  absl::Status status = absl::InvalidArgumentError(message);
  status.SetPayload(kUsagePayloadKey, absl::Cord());
  return status;
}

bool IsUsageError(const absl::Status& status) {
  return status.GetPayload(kUsagePayloadKey).has_value();
}

std::string ErrorLine(const absl::Status& status) {
  if (IsUsageError(status)) return absl::StrCat("error: ", status.message());
  std::string code = absl::StatusCodeToString(status.code());
  if (auto reason = ErrorReasonOf(status)) {
    absl::StrAppend(&code, " (", reason->reason, ")");
  }
  if (auto violation = FieldViolationOf(status)) {
    return absl::StrCat("error: ", code, ": field ", violation->field, ": ",
                        violation->description);
  }
  return absl::StrCat("error: ", code, ": ", status.message());
}

}  // namespace inventory::itemctl
