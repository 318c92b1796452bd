#include "common/api/item_id.h"

#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/base/field_violation.h"
#include "common/base/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace inventory {
namespace {

using ::testing::HasSubstr;

// Expects `result` to be the INVALID_ARGUMENT error of field "item_id".
void ExpectItemIdRejected(const absl::StatusOr<ItemId>& result) {
  ASSERT_THAT(result, StatusIs(absl::StatusCode::kInvalidArgument));
  const std::optional<FieldViolation> violation =
      FieldViolationOf(result.status());
  ASSERT_TRUE(violation.has_value()) << result.status();
  EXPECT_EQ(violation->field, "item_id");
  EXPECT_FALSE(violation->description.empty());
}

TEST(ItemIdTest, EmptyIsRejected) { ExpectItemIdRejected(ItemId::Create("")); }

TEST(ItemIdTest, OneCharacterIsAccepted) {
  absl::StatusOr<ItemId> id = ItemId::Create("a");
  ASSERT_THAT(id, IsOk());
  EXPECT_EQ(id->value(), "a");
}

TEST(ItemIdTest, SixtyFourCharactersAreAccepted) {
  const std::string value(64, 'x');
  absl::StatusOr<ItemId> id = ItemId::Create(value);
  ASSERT_THAT(id, IsOk());
  EXPECT_EQ(id->value(), value);
  EXPECT_EQ(id->value().size(), ItemId::kMaxLength);
}

TEST(ItemIdTest, SixtyFiveCharactersAreRejected) {
  ExpectItemIdRejected(ItemId::Create(std::string(65, 'x')));
}

TEST(ItemIdTest, MaxLengthIsSixtyFour) { EXPECT_EQ(ItemId::kMaxLength, 64u); }

TEST(ItemIdTest, AcceptsEveryAllowedCharacterClass) {
  for (absl::string_view value :
       {"abcdefghijklmnopqrstuvwxyz", "ABCDEFGHIJKLMNOPQRSTUVWXYZ",
        "0123456789", "_", "-", "__", "--", "a-B_9", "-_-", "Item_42-x"}) {
    absl::StatusOr<ItemId> id = ItemId::Create(value);
    ASSERT_THAT(id, IsOk()) << "value: " << value << " status: " << id.status();
    EXPECT_EQ(id->value(), value);
  }
}

TEST(ItemIdTest, AcceptsEachAllowedCharacterAlone) {
  std::string allowed = "_-";
  for (char c = 'a'; c <= 'z'; ++c) allowed.push_back(c);
  for (char c = 'A'; c <= 'Z'; ++c) allowed.push_back(c);
  for (char c = '0'; c <= '9'; ++c) allowed.push_back(c);
  for (char c : allowed) {
    EXPECT_THAT(ItemId::Create(std::string(1, c)), IsOk()) << "char: " << c;
  }
}

TEST(ItemIdTest, RejectsEveryOtherByte) {
  for (int b = 0; b < 256; ++b) {
    const char c = static_cast<char>(b);
    const bool allowed = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                         (c >= '0' && c <= '9') || c == '_' || c == '-';
    if (allowed) continue;
    SCOPED_TRACE(testing::Message() << "byte " << b);
    ExpectItemIdRejected(ItemId::Create(std::string("ab") + c + "cd"));
  }
}

TEST(ItemIdTest, RejectsSpace) {
  ExpectItemIdRejected(ItemId::Create("a b"));
  ExpectItemIdRejected(ItemId::Create(" "));
  ExpectItemIdRejected(ItemId::Create(" ab"));
  ExpectItemIdRejected(ItemId::Create("ab "));
}

TEST(ItemIdTest, RejectsDot) {
  ExpectItemIdRejected(ItemId::Create("a.b"));
  ExpectItemIdRejected(ItemId::Create("."));
  ExpectItemIdRejected(ItemId::Create(".."));
}

TEST(ItemIdTest, RejectsSlash) {
  ExpectItemIdRejected(ItemId::Create("a/b"));
  ExpectItemIdRejected(ItemId::Create("../etc"));
}

TEST(ItemIdTest, RejectsNonAsciiBytes) {
  ExpectItemIdRejected(ItemId::Create("caf\xC3\xA9"));       // é
  ExpectItemIdRejected(ItemId::Create("\xF0\x9F\x93\xA6"));  // 📦
  ExpectItemIdRejected(
      ItemId::Create("a\xFF"
                     "b"));  // not UTF-8
  // Unicode letters and digits are not ASCII alphanumerics.
  ExpectItemIdRejected(ItemId::Create("\xD9\xA3"));  // ARABIC-INDIC DIGIT 3
}

TEST(ItemIdTest, RejectsNulByteInside) {
  const std::string value("ab\0cd", 5);
  ASSERT_EQ(value.size(), 5u);
  ExpectItemIdRejected(ItemId::Create(value));
  ExpectItemIdRejected(ItemId::Create(absl::string_view("\0", 1)));
  ExpectItemIdRejected(ItemId::Create(absl::string_view("abc\0", 4)));
}

TEST(ItemIdTest, ErrorMessageNamesFieldAndRule) {
  absl::StatusOr<ItemId> id = ItemId::Create("a b");
  ASSERT_FALSE(id.ok());
  EXPECT_THAT(std::string(id.status().message()), HasSubstr("item_id: "));
  EXPECT_THAT(std::string(id.status().message()), HasSubstr("64"));
}

TEST(ItemIdTest, TooLongErrorIsFieldViolation) {
  absl::StatusOr<ItemId> id = ItemId::Create(std::string(1000, 'a'));
  ExpectItemIdRejected(id);
}

TEST(ItemIdTest, StreamIdIsItemDashId) {
  EXPECT_EQ(ItemId::Create("a").value().StreamId(), "item-a");
  EXPECT_EQ(ItemId::Create("Widget_42-b").value().StreamId(),
            "item-Widget_42-b");
  const std::string long_id(64, 'z');
  EXPECT_EQ(ItemId::Create(long_id).value().StreamId(), "item-" + long_id);
}

TEST(ItemIdTest, StreamIdStartsWithPrefix) {
  EXPECT_EQ(kItemStreamPrefix, "item-");
  const std::string stream = ItemId::Create("x1").value().StreamId();
  EXPECT_EQ(absl::string_view(stream).substr(0, kItemStreamPrefix.size()),
            kItemStreamPrefix);
}

TEST(ItemIdTest, EqualityComparesValues) {
  EXPECT_TRUE(ItemId::Create("a").value() == ItemId::Create("a").value());
  EXPECT_FALSE(ItemId::Create("a").value() == ItemId::Create("A").value());
  EXPECT_FALSE(ItemId::Create("a").value() == ItemId::Create("ab").value());
}

TEST(ItemIdTest, IsCaseSensitive) {
  EXPECT_EQ(ItemId::Create("AbC").value().value(), "AbC");
}

}  // namespace
}  // namespace inventory
