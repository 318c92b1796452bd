#include "command-service/domain/item_name.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "common/base/field_violation.h"
#include "common/base/utf8.h"

namespace inventory {

absl::StatusOr<ItemName> ItemName::Create(absl::string_view value) {
  const absl::string_view trimmed = absl::StripAsciiWhitespace(value);
  const std::optional<Utf8Text> text = DecodeUtf8(trimmed);
  if (!text.has_value()) {
    return InvalidField("name", "must be valid UTF-8");
  }
  if (text->has_control_chars) {
    return InvalidField("name", "must not contain control characters");
  }
  if (text->code_points == 0 || text->code_points > kMaxCharacters) {
    return InvalidField(
        "name", absl::StrCat("must be 1 to ", kMaxCharacters,
                             " characters after trimming whitespace (got ",
                             text->code_points, ")"));
  }
  return ItemName(std::string(trimmed));
}

}  // namespace inventory
