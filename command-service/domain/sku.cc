#include "command-service/domain/sku.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "common/base/field_violation.h"

namespace inventory {

absl::StatusOr<Sku> Sku::Create(absl::string_view value) {
  if (value.size() < kMinLength || value.size() > kMaxLength) {
    return InvalidField("sku",
                        absl::StrCat("must be ", kMinLength, " to ", kMaxLength,
                                     " characters (got ", value.size(), ")"));
  }
  for (char c : value) {
    const unsigned char u = static_cast<unsigned char>(c);
    if (!absl::ascii_isupper(u) && !absl::ascii_isdigit(u) && c != '-') {
      return InvalidField(
          "sku", "may contain only uppercase letters A-Z, digits and '-'");
    }
  }
  return Sku(std::string(value));
}

}  // namespace inventory
