#include "command-service/domain/quantity.h"

#include "absl/strings/str_cat.h"
#include "common/base/field_violation.h"

namespace inventory {

absl::StatusOr<Quantity> Quantity::Create(int64_t value) {
  if (value < kMin || value > kMax) {
    return InvalidField("quantity",
                        absl::StrCat("must be between ", kMin, " and ", kMax,
                                     " (got ", value, ")"));
  }
  return Quantity(value);
}

}  // namespace inventory
