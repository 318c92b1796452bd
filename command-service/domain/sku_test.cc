#include "command-service/domain/sku.h"

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

// Expects `result` to be the INVALID_ARGUMENT error of field "sku".
void ExpectSkuRejected(const absl::StatusOr<Sku>& result) {
  ASSERT_THAT(result, StatusIs(absl::StatusCode::kInvalidArgument));
  const std::optional<FieldViolation> violation =
      FieldViolationOf(result.status());
  ASSERT_TRUE(violation.has_value()) << result.status();
  EXPECT_EQ(violation->field, "sku");
  EXPECT_FALSE(violation->description.empty());
}

void ExpectSkuAccepted(absl::string_view value) {
  absl::StatusOr<Sku> sku = Sku::Create(value);
  ASSERT_THAT(sku, IsOk()) << "value: " << value << " status: " << sku.status();
  EXPECT_EQ(sku->value(), value);
}

TEST(SkuTest, LengthBounds) {
  EXPECT_EQ(Sku::kMinLength, 3u);
  EXPECT_EQ(Sku::kMaxLength, 32u);
}

TEST(SkuTest, EmptyIsRejected) { ExpectSkuRejected(Sku::Create("")); }

TEST(SkuTest, TwoCharactersAreRejected) {
  ExpectSkuRejected(Sku::Create("AB"));
}

TEST(SkuTest, ThreeCharactersAreAccepted) { ExpectSkuAccepted("ABC"); }

TEST(SkuTest, ThirtyTwoCharactersAreAccepted) {
  ExpectSkuAccepted(std::string(32, 'A'));
}

TEST(SkuTest, ThirtyThreeCharactersAreRejected) {
  ExpectSkuRejected(Sku::Create(std::string(33, 'A')));
}

TEST(SkuTest, LengthErrorMentionsBounds) {
  absl::StatusOr<Sku> sku = Sku::Create("AB");
  ASSERT_FALSE(sku.ok());
  EXPECT_THAT(std::string(sku.status().message()), HasSubstr("sku: "));
  EXPECT_THAT(std::string(sku.status().message()), HasSubstr("3"));
  EXPECT_THAT(std::string(sku.status().message()), HasSubstr("32"));
}

TEST(SkuTest, LowercaseIsRejected) {
  ExpectSkuRejected(Sku::Create("abc"));
  ExpectSkuRejected(Sku::Create("ABc"));
  ExpectSkuRejected(Sku::Create("sku-1"));
}

TEST(SkuTest, LowercaseIsNotSilentlyUppercased) {
  // Rejected rather than changed: no Sku comes out of lowercase input.
  EXPECT_FALSE(Sku::Create("wid-001").ok());
}

TEST(SkuTest, DigitsAreAllowed) {
  ExpectSkuAccepted("0123456789");
  ExpectSkuAccepted("000");
}

TEST(SkuTest, DashIsAllowed) {
  ExpectSkuAccepted("---");
  ExpectSkuAccepted("WID-001");
  ExpectSkuAccepted("-A-");
}

TEST(SkuTest, EveryUppercaseLetterIsAllowed) {
  ExpectSkuAccepted("ABCDEFGHIJKLMNOPQRSTUVWXYZ");
}

TEST(SkuTest, SpaceIsRejected) {
  ExpectSkuRejected(Sku::Create("AB C"));
  ExpectSkuRejected(Sku::Create(" ABC"));
  ExpectSkuRejected(Sku::Create("ABC "));
  ExpectSkuRejected(Sku::Create("   "));
}

TEST(SkuTest, UnderscoreIsRejected) {
  ExpectSkuRejected(Sku::Create("AB_C"));
  ExpectSkuRejected(Sku::Create("___"));
}

TEST(SkuTest, OtherCharactersAreRejected) {
  for (absl::string_view value : {"AB.C", "AB/C", "AB+C", "AB\tC",
                                  "\xC3\x89"
                                  "AB",
                                  "AB\xFF"}) {
    SCOPED_TRACE(value);
    ExpectSkuRejected(Sku::Create(value));
  }
  ExpectSkuRejected(Sku::Create(absl::string_view("AB\0C", 4)));
}

TEST(SkuTest, RejectsEveryOtherByte) {
  for (int b = 0; b < 256; ++b) {
    const char c = static_cast<char>(b);
    if ((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-') continue;
    SCOPED_TRACE(testing::Message() << "byte " << b);
    ExpectSkuRejected(Sku::Create(std::string("AB") + c));
  }
}

TEST(SkuTest, CharsetErrorMessage) {
  absl::StatusOr<Sku> sku = Sku::Create("abc");
  ASSERT_FALSE(sku.ok());
  EXPECT_THAT(std::string(sku.status().message()), HasSubstr("sku: "));
  EXPECT_THAT(std::string(sku.status().message()), HasSubstr("uppercase"));
}

TEST(SkuTest, Equality) {
  EXPECT_TRUE(Sku::Create("ABC").value() == Sku::Create("ABC").value());
  EXPECT_FALSE(Sku::Create("ABC").value() == Sku::Create("ABD").value());
}

}  // namespace
}  // namespace inventory
