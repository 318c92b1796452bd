// UTF-8 checks for text that users send us.
#ifndef INVENTORY_COMMON_BASE_UTF8_H_
#define INVENTORY_COMMON_BASE_UTF8_H_

#include <cstddef>
#include <optional>

#include "absl/strings/string_view.h"

namespace inventory {

// What DecodeUtf8() found in a string.
struct Utf8Text {
  size_t code_points = 0;          // number of characters
  bool has_control_chars = false;  // any of U+0000-001F, U+007F-009F
};

// Decodes `text` strictly: rejects overlong forms, surrogates (U+D800 to
// U+DFFF), code points above U+10FFFF and truncated sequences. Returns
// nullopt when `text` is not valid UTF-8.
std::optional<Utf8Text> DecodeUtf8(absl::string_view text);

}  // namespace inventory

#endif  // INVENTORY_COMMON_BASE_UTF8_H_
