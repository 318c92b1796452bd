#include "common/base/utf8.h"

#include <cstdint>

namespace inventory {
namespace {

bool IsContinuation(unsigned char c) { return (c & 0xC0) == 0x80; }

// Decodes the sequence starting at text[i]; returns its length in bytes and
// stores the code point, or returns 0 when the sequence is invalid.
size_t DecodeOne(absl::string_view text, size_t i, uint32_t* code_point) {
  const unsigned char lead = text[i];
  size_t length;
  uint32_t cp;
  uint32_t min;
  if (lead < 0x80) {
    *code_point = lead;
    return 1;
  } else if ((lead & 0xE0) == 0xC0) {
    length = 2, cp = lead & 0x1F, min = 0x80;
  } else if ((lead & 0xF0) == 0xE0) {
    length = 3, cp = lead & 0x0F, min = 0x800;
  } else if ((lead & 0xF8) == 0xF0) {
    length = 4, cp = lead & 0x07, min = 0x10000;
  } else {
    return 0;
  }
  if (i + length > text.size()) return 0;
  for (size_t k = 1; k < length; ++k) {
    const unsigned char c = text[i + k];
    if (!IsContinuation(c)) return 0;
    cp = (cp << 6) | (c & 0x3F);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  *code_point = cp;
  return length;
}

}  // namespace

std::optional<Utf8Text> DecodeUtf8(absl::string_view text) {
  Utf8Text result;
  for (size_t i = 0; i < text.size();) {
    uint32_t cp = 0;
    const size_t length = DecodeOne(text, i, &cp);
    if (length == 0) return std::nullopt;
    if (cp <= 0x1F || (cp >= 0x7F && cp <= 0x9F)) {
      result.has_control_chars = true;
    }
    ++result.code_points;
    i += length;
  }
  return result;
}

}  // namespace inventory
