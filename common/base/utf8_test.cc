#include "common/base/utf8.h"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace inventory {
namespace {

// Encodes `cp` as UTF-8 (no validity checks: tests feed it valid scalars).
std::string Encode(uint32_t cp) {
  std::string out;
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
  return out;
}

// Expects `text` to decode to `code_points` characters without controls.
void ExpectValid(absl::string_view text, size_t code_points) {
  const std::optional<Utf8Text> decoded = DecodeUtf8(text);
  ASSERT_TRUE(decoded.has_value());
  EXPECT_EQ(decoded->code_points, code_points);
  EXPECT_FALSE(decoded->has_control_chars);
}

void ExpectInvalid(absl::string_view text) {
  EXPECT_FALSE(DecodeUtf8(text).has_value());
}

bool HasControl(absl::string_view text) {
  const std::optional<Utf8Text> decoded = DecodeUtf8(text);
  EXPECT_TRUE(decoded.has_value());
  return decoded.has_value() && decoded->has_control_chars;
}

// --- Valid text
// ---------------------------------------------------------------

TEST(DecodeUtf8Test, EmptyIsValidWithNoCharacters) { ExpectValid("", 0u); }

TEST(DecodeUtf8Test, AsciiCountsBytes) {
  ExpectValid("a", 1u);
  ExpectValid("Hello, world!", 13u);
  ExpectValid(" ~", 2u);
}

TEST(DecodeUtf8Test, TwoByteSequences) {
  ExpectValid("\xC2\xA0", 1u);          // U+00A0, first non-control 2-byte
  ExpectValid("\xC3\xA9", 1u);          // é
  ExpectValid("caf\xC3\xA9", 4u);       // café
  ExpectValid("\xDF\xBF", 1u);          // U+07FF, last 2-byte
  ExpectValid("\xC3\xA9\xC3\xA9", 2u);  // éé
}

TEST(DecodeUtf8Test, ThreeByteSequences) {
  ExpectValid("\xE0\xA0\x80", 1u);              // U+0800, first 3-byte
  ExpectValid("\xE2\x82\xAC", 1u);              // €
  ExpectValid("\xE6\x97\xA5\xE6\x9C\xAC", 2u);  // 日本
  ExpectValid("\xED\x9F\xBF", 1u);              // U+D7FF, before surrogates
  ExpectValid("\xEE\x80\x80", 1u);              // U+E000, after surrogates
  ExpectValid("\xEF\xBF\xBF", 1u);              // U+FFFF
}

TEST(DecodeUtf8Test, FourByteSequences) {
  ExpectValid("\xF0\x90\x80\x80", 1u);  // U+10000, first 4-byte
  ExpectValid("\xF0\x9F\x93\xA6", 1u);  // 📦
  ExpectValid("\xF4\x8F\xBF\xBF", 1u);  // U+10FFFF, last code point
  ExpectValid(
      "a\xF0\x9F\x93\xA6"
      "b",
      3u);
}

TEST(DecodeUtf8Test, MixedWidths) {
  ExpectValid("a\xC3\xA9\xE2\x82\xAC\xF0\x9F\x93\xA6", 4u);
  std::string long_text;
  for (int i = 0; i < 100; ++i) {
    absl::StrAppend(&long_text, "a\xC3\xA9\xE2\x82\xAC\xF0\x9F\x93\xA6");
  }
  ExpectValid(long_text, 400u);
}

TEST(DecodeUtf8Test, RoundTripsSampleCodePoints) {
  for (uint32_t cp :
       {0x20u, 0x41u, 0x7Eu, 0xA0u, 0xFFu, 0x100u, 0x7FFu, 0x800u, 0xD7FFu,
        0xE000u, 0xFFFDu, 0xFFFFu, 0x10000u, 0x1F600u, 0x10FFFFu}) {
    SCOPED_TRACE(testing::Message() << "U+" << std::hex << cp);
    ExpectValid(Encode(cp), 1u);
  }
}

// --- Invalid text
// -------------------------------------------------------------

TEST(DecodeUtf8Test, LoneContinuationByteIsInvalid) {
  ExpectInvalid("\x80");
  ExpectInvalid("\xBF");
  ExpectInvalid(
      "a\x80"
      "b");
  ExpectInvalid("\xC3\xA9\x80");  // é followed by a stray continuation
}

TEST(DecodeUtf8Test, TruncatedSequencesAreInvalid) {
  ExpectInvalid("\xC3");
  ExpectInvalid("\xE2\x82");
  ExpectInvalid("\xE2");
  ExpectInvalid("\xF0\x9F\x93");
  ExpectInvalid("\xF0\x9F");
  ExpectInvalid("\xF0");
  ExpectInvalid("abc\xC3");
}

TEST(DecodeUtf8Test, LeadByteFollowedByNonContinuationIsInvalid) {
  ExpectInvalid(
      "\xC3"
      "a");
  ExpectInvalid(
      "\xE2\x82"
      "a");
  ExpectInvalid(
      "\xF0\x9F\x93"
      "a");
  ExpectInvalid("\xC3\xC3\xA9");
}

TEST(DecodeUtf8Test, OverlongFormsAreInvalid) {
  ExpectInvalid("\xC0\xAF");          // '/' in 2 bytes
  ExpectInvalid("\xC0\x80");          // NUL in 2 bytes
  ExpectInvalid("\xC1\xBF");          // U+007F in 2 bytes
  ExpectInvalid("\xE0\x80\xAF");      // '/' in 3 bytes
  ExpectInvalid("\xE0\x9F\xBF");      // U+07FF in 3 bytes
  ExpectInvalid("\xF0\x80\x80\xAF");  // '/' in 4 bytes
  ExpectInvalid("\xF0\x8F\xBF\xBF");  // U+FFFF in 4 bytes
}

TEST(DecodeUtf8Test, SurrogatesAreInvalid) {
  ExpectInvalid("\xED\xA0\x80");              // U+D800
  ExpectInvalid("\xED\xAF\xBF");              // U+DBFF
  ExpectInvalid("\xED\xB0\x80");              // U+DC00
  ExpectInvalid("\xED\xBF\xBF");              // U+DFFF
  ExpectInvalid("\xED\xA0\xBD\xED\xB2\xA9");  // CESU-8 surrogate pair
}

TEST(DecodeUtf8Test, AboveMaxCodePointIsInvalid) {
  ExpectInvalid("\xF4\x90\x80\x80");  // U+110000
  ExpectInvalid("\xF7\xBF\xBF\xBF");  // U+1FFFFF
}

TEST(DecodeUtf8Test, BytesThatNeverStartASequenceAreInvalid) {
  ExpectInvalid("\xF8\x88\x80\x80\x80");      // old 5-byte form
  ExpectInvalid("\xFC\x84\x80\x80\x80\x80");  // old 6-byte form
  ExpectInvalid("\xFE");
  ExpectInvalid("\xFF");
}

TEST(DecodeUtf8Test, InvalidAnywhereMakesTheWholeTextInvalid) {
  ExpectInvalid("valid prefix \xC0\xAF");
  ExpectInvalid("\xED\xA0\x80 valid suffix");
}

// --- Control characters -----------------------------------------------------

TEST(DecodeUtf8Test, C0ControlsAreDetected) {
  for (uint32_t cp = 0; cp <= 0x1F; ++cp) {
    SCOPED_TRACE(testing::Message() << "U+" << std::hex << cp);
    std::string text = "a";
    text.push_back(static_cast<char>(cp));
    text += "b";
    EXPECT_TRUE(HasControl(text));
  }
}

TEST(DecodeUtf8Test, NulIsAControlAndCounts) {
  const std::optional<Utf8Text> decoded =
      DecodeUtf8(absl::string_view("a\0b", 3));
  ASSERT_TRUE(decoded.has_value());
  EXPECT_EQ(decoded->code_points, 3u);
  EXPECT_TRUE(decoded->has_control_chars);
}

TEST(DecodeUtf8Test, DelIsAControl) {
  EXPECT_TRUE(HasControl("\x7f"));
  EXPECT_TRUE(HasControl("abc\x7f"));
}

TEST(DecodeUtf8Test, C1ControlsAreDetected) {
  for (uint32_t cp = 0x80; cp <= 0x9F; ++cp) {
    SCOPED_TRACE(testing::Message() << "U+" << std::hex << cp);
    EXPECT_TRUE(HasControl(Encode(cp)));
  }
  EXPECT_TRUE(HasControl("\xC2\x85"));  // U+0085 NEXT LINE
}

TEST(DecodeUtf8Test, NoBreakSpaceIsNotAControl) {
  EXPECT_FALSE(HasControl("\xC2\xA0"));  // U+00A0
  EXPECT_FALSE(HasControl(Encode(0xA0)));
}

TEST(DecodeUtf8Test, PrintableAsciiIsNotAControl) {
  for (uint32_t cp = 0x20; cp <= 0x7E; ++cp) {
    SCOPED_TRACE(testing::Message() << "U+" << std::hex << cp);
    EXPECT_FALSE(HasControl(Encode(cp)));
  }
}

TEST(DecodeUtf8Test, OtherCodePointsAreNotControls) {
  for (uint32_t cp : {0xA1u, 0xFFu, 0x2028u, 0x200Bu, 0xFEFFu, 0x10FFFFu}) {
    SCOPED_TRACE(testing::Message() << "U+" << std::hex << cp);
    EXPECT_FALSE(HasControl(Encode(cp)));
  }
}

TEST(DecodeUtf8Test, ControlStillCountsAsCharacter) {
  const std::optional<Utf8Text> decoded = DecodeUtf8("a\tb\xC2\x85");
  ASSERT_TRUE(decoded.has_value());
  EXPECT_EQ(decoded->code_points, 4u);
  EXPECT_TRUE(decoded->has_control_chars);
}

}  // namespace
}  // namespace inventory
