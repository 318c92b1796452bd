#include "command-service/domain/quantity.h"

#include <cstdint>
#include <limits>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/base/field_violation.h"
#include "common/base/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace inventory {
namespace {

using ::testing::HasSubstr;

// Expects `result` to be the INVALID_ARGUMENT error of field "quantity"
// whose message states the bounds.
void ExpectQuantityRejected(const absl::StatusOr<Quantity>& result) {
  ASSERT_THAT(result, StatusIs(absl::StatusCode::kInvalidArgument));
  const std::optional<FieldViolation> violation =
      FieldViolationOf(result.status());
  ASSERT_TRUE(violation.has_value()) << result.status();
  EXPECT_EQ(violation->field, "quantity");
  const std::string message(result.status().message());
  EXPECT_THAT(message, HasSubstr("quantity: "));
  EXPECT_THAT(message, HasSubstr("1"));
  EXPECT_THAT(message, HasSubstr("1000000"));
}

void ExpectQuantityAccepted(int64_t value) {
  absl::StatusOr<Quantity> quantity = Quantity::Create(value);
  ASSERT_THAT(quantity, IsOk());
  EXPECT_EQ(quantity->value(), value);
}

TEST(QuantityTest, Bounds) {
  EXPECT_EQ(Quantity::kMin, 1);
  EXPECT_EQ(Quantity::kMax, 1000000);
}

TEST(QuantityTest, ZeroIsRejected) {
  ExpectQuantityRejected(Quantity::Create(0));
}

TEST(QuantityTest, MinusOneIsRejected) {
  ExpectQuantityRejected(Quantity::Create(-1));
}

TEST(QuantityTest, OneIsAccepted) { ExpectQuantityAccepted(1); }

TEST(QuantityTest, OneMillionIsAccepted) { ExpectQuantityAccepted(1000000); }

TEST(QuantityTest, OneMillionAndOneIsRejected) {
  ExpectQuantityRejected(Quantity::Create(1000001));
}

TEST(QuantityTest, Int64MinIsRejected) {
  ExpectQuantityRejected(Quantity::Create(std::numeric_limits<int64_t>::min()));
}

TEST(QuantityTest, Int64MaxIsRejected) {
  ExpectQuantityRejected(Quantity::Create(std::numeric_limits<int64_t>::max()));
}

TEST(QuantityTest, ValuesInsideRangeAreAccepted) {
  for (int64_t value : {2, 42, 999, 500000, 999999}) {
    ExpectQuantityAccepted(value);
  }
}

TEST(QuantityTest, MessageMentionsBoundsAndValue) {
  absl::StatusOr<Quantity> quantity = Quantity::Create(-7);
  ASSERT_FALSE(quantity.ok());
  const std::optional<FieldViolation> violation =
      FieldViolationOf(quantity.status());
  ASSERT_TRUE(violation.has_value());
  EXPECT_THAT(violation->description, HasSubstr("between 1 and 1000000"));
  EXPECT_THAT(violation->description, HasSubstr("-7"));
}

TEST(QuantityTest, Equality) {
  EXPECT_TRUE(Quantity::Create(5).value() == Quantity::Create(5).value());
  EXPECT_FALSE(Quantity::Create(5).value() == Quantity::Create(6).value());
}

}  // namespace
}  // namespace inventory
