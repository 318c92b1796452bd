#include "common/api/item_id.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "common/base/field_violation.h"

namespace inventory {

absl::StatusOr<ItemId> ItemId::Create(absl::string_view value) {
  bool charset_ok = true;
  for (char c : value) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '_' &&
        c != '-') {
      charset_ok = false;
      break;
    }
  }
  if (value.empty() || value.size() > kMaxLength || !charset_ok) {
    return InvalidField(
        "item_id",
        absl::StrCat("must be 1 to ", kMaxLength,
                     " characters of A-Z, a-z, 0-9, '_' and '-' (got ",
                     value.size(), " bytes", charset_ok ? "" : " with others",
                     ")"));
  }
  return ItemId(std::string(value));
}

std::string ItemId::StreamId() const {
  return absl::StrCat(kItemStreamPrefix, value_);
}

}  // namespace inventory
