#include "command-service/domain/item_name.h"

#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "common/base/field_violation.h"
#include "common/base/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace inventory {
namespace {

using ::testing::HasSubstr;

constexpr absl::string_view kEAcute = "\xC3\xA9";           // é, 2 bytes
constexpr absl::string_view kEuro = "\xE2\x82\xAC";         // €, 3 bytes
constexpr absl::string_view kPackage = "\xF0\x9F\x93\xA6";  // 📦, 4 bytes

std::string Repeat(absl::string_view s, int n) {
  std::string out;
  for (int i = 0; i < n; ++i) absl::StrAppend(&out, s);
  return out;
}

// Expects `result` to be the INVALID_ARGUMENT error of field "name".
void ExpectNameRejected(const absl::StatusOr<ItemName>& result) {
  ASSERT_THAT(result, StatusIs(absl::StatusCode::kInvalidArgument));
  const std::optional<FieldViolation> violation =
      FieldViolationOf(result.status());
  ASSERT_TRUE(violation.has_value()) << result.status();
  EXPECT_EQ(violation->field, "name");
  EXPECT_FALSE(violation->description.empty());
}

void ExpectNameAccepted(absl::string_view input, absl::string_view expected) {
  absl::StatusOr<ItemName> name = ItemName::Create(input);
  ASSERT_THAT(name, IsOk());
  EXPECT_EQ(name->value(), expected);
}

TEST(ItemNameTest, MaxCharactersIsTwoHundred) {
  EXPECT_EQ(ItemName::kMaxCharacters, 200u);
}

TEST(ItemNameTest, SimpleNameIsAccepted) {
  ExpectNameAccepted("Blue widget", "Blue widget");
}

TEST(ItemNameTest, OneCharacterIsAccepted) { ExpectNameAccepted("x", "x"); }

TEST(ItemNameTest, EmptyIsRejected) {
  ExpectNameRejected(ItemName::Create(""));
}

TEST(ItemNameTest, TrimsSurroundingAsciiWhitespace) {
  ExpectNameAccepted("  Blue widget  ", "Blue widget");
  ExpectNameAccepted("\t\n\r\v\fBlue widget\f\v\r\n\t ", "Blue widget");
  ExpectNameAccepted(" x", "x");
  ExpectNameAccepted("x ", "x");
}

TEST(ItemNameTest, KeepsInnerSpaces) { ExpectNameAccepted("  a  b  ", "a  b"); }

TEST(ItemNameTest, WhitespaceOnlyIsRejected) {
  ExpectNameRejected(ItemName::Create(" "));
  ExpectNameRejected(ItemName::Create("     "));
  ExpectNameRejected(ItemName::Create(" \t\n\r "));
}

TEST(ItemNameTest, DoesNotTrimNonAsciiSpace) {
  // U+00A0 NO-BREAK SPACE is neither ASCII whitespace nor a control
  // character, so it is kept (and a name of only that is one character).
  ExpectNameAccepted("\xC2\xA0x\xC2\xA0", "\xC2\xA0x\xC2\xA0");
}

TEST(ItemNameTest, TwoHundredAsciiCharactersAreAccepted) {
  const std::string value(200, 'a');
  ExpectNameAccepted(value, value);
}

TEST(ItemNameTest, TwoHundredOneAsciiCharactersAreRejected) {
  ExpectNameRejected(ItemName::Create(std::string(201, 'a')));
}

TEST(ItemNameTest, LengthIsCountedAfterTrimming) {
  const std::string value(200, 'a');
  ExpectNameAccepted("   " + value + "   ", value);
}

TEST(ItemNameTest, LengthErrorMentionsBounds) {
  absl::StatusOr<ItemName> name = ItemName::Create(std::string(201, 'a'));
  ASSERT_FALSE(name.ok());
  EXPECT_THAT(std::string(name.status().message()), HasSubstr("name: "));
  EXPECT_THAT(std::string(name.status().message()), HasSubstr("200"));
}

TEST(ItemNameTest, TwoByteCharactersCountAsOneCharacter) {
  const std::string value = Repeat(kEAcute, 200);
  ASSERT_EQ(value.size(), 400u);
  ExpectNameAccepted(value, value);
  ExpectNameRejected(ItemName::Create(Repeat(kEAcute, 201)));
}

TEST(ItemNameTest, ThreeByteCharactersCountAsOneCharacter) {
  const std::string value = Repeat(kEuro, 200);
  ASSERT_EQ(value.size(), 600u);
  ExpectNameAccepted(value, value);
  ExpectNameRejected(ItemName::Create(Repeat(kEuro, 201)));
}

TEST(ItemNameTest, FourByteCharactersCountAsOneCharacter) {
  const std::string value = Repeat(kPackage, 200);
  ASSERT_EQ(value.size(), 800u);
  ExpectNameAccepted(value, value);
  ExpectNameRejected(ItemName::Create(Repeat(kPackage, 201)));
}

TEST(ItemNameTest, MixedWidthCharacters) {
  const std::string value = Repeat(absl::StrCat("a", kEAcute, kEuro, kPackage),
                                   50);  // 200 characters, 500 bytes
  ExpectNameAccepted(value, value);
  ExpectNameRejected(ItemName::Create(value + "a"));
}

TEST(ItemNameTest, LoneContinuationByteIsRejected) {
  ExpectNameRejected(ItemName::Create("\x80"));
  ExpectNameRejected(
      ItemName::Create("ab\x80"
                       "cd"));
}

TEST(ItemNameTest, TruncatedSequenceIsRejected) {
  ExpectNameRejected(ItemName::Create("ab\xC3"));
  ExpectNameRejected(ItemName::Create("ab\xE2\x82"));
  ExpectNameRejected(ItemName::Create("ab\xF0\x9F\x93"));
  ExpectNameRejected(ItemName::Create("\xE2\x82 x"));
}

TEST(ItemNameTest, OverlongEncodingIsRejected) {
  ExpectNameRejected(ItemName::Create("\xC0\xAF"));
  ExpectNameRejected(
      ItemName::Create("a\xE0\x80\xAF"
                       "b"));
}

TEST(ItemNameTest, SurrogateIsRejected) {
  ExpectNameRejected(ItemName::Create("\xED\xA0\x80"));
  ExpectNameRejected(
      ItemName::Create("a\xED\xBF\xBF"
                       "b"));
}

TEST(ItemNameTest, AboveMaxCodePointIsRejected) {
  ExpectNameRejected(ItemName::Create("\xF4\x90\x80\x80"));
}

TEST(ItemNameTest, InvalidUtf8ErrorMessage) {
  absl::StatusOr<ItemName> name = ItemName::Create("\x80");
  ASSERT_FALSE(name.ok());
  EXPECT_THAT(std::string(name.status().message()), HasSubstr("UTF-8"));
}

TEST(ItemNameTest, ControlCharactersAreRejected) {
  ExpectNameRejected(
      ItemName::Create("a\x01"
                       "b"));
  ExpectNameRejected(
      ItemName::Create("a\x7f"
                       "b"));
  ExpectNameRejected(ItemName::Create("a\tb"));
  ExpectNameRejected(ItemName::Create("a\nb"));
  ExpectNameRejected(
      ItemName::Create("a\xC2\x85"
                       "b"));  // U+0085 (NEL)
  ExpectNameRejected(
      ItemName::Create("a\xC2\x9F"
                       "b"));  // U+009F
  ExpectNameRejected(ItemName::Create(absl::string_view("a\0b", 3)));
}

TEST(ItemNameTest, ControlCharacterAtEdgeThatIsNotWhitespaceIsRejected) {
  ExpectNameRejected(
      ItemName::Create("\x01"
                       "abc"));
  ExpectNameRejected(ItemName::Create("abc\x7f"));
  ExpectNameRejected(ItemName::Create("abc\xC2\x85"));
}

TEST(ItemNameTest, ControlCharacterErrorMessage) {
  absl::StatusOr<ItemName> name = ItemName::Create(
      "a\x01"
      "b");
  ASSERT_FALSE(name.ok());
  EXPECT_THAT(std::string(name.status().message()), HasSubstr("control"));
}

TEST(ItemNameTest, Equality) {
  EXPECT_TRUE(ItemName::Create("x").value() == ItemName::Create(" x ").value());
  EXPECT_FALSE(ItemName::Create("x").value() == ItemName::Create("X").value());
}

}  // namespace
}  // namespace inventory
