#include "common/base/field_violation.h"

#include <optional>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/cord.h"
#include "absl/strings/string_view.h"
#include "common/base/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace inventory {
namespace {

TEST(InvalidFieldTest, IsInvalidArgumentWithFieldAndDescription) {
  const absl::Status status =
      InvalidField("quantity", "must be between 1 and 1000000");
  EXPECT_THAT(status, StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_EQ(status.message(), "quantity: must be between 1 and 1000000");
}

TEST(InvalidFieldTest, EmptyDescription) {
  const absl::Status status = InvalidField("sku", "");
  EXPECT_THAT(status, StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_EQ(status.message(), "sku: ");
}

TEST(FieldViolationOfTest, RoundTripsFieldAndDescription) {
  const std::optional<FieldViolation> violation =
      FieldViolationOf(InvalidField("item_id", "must be 1 to 64 characters"));
  ASSERT_TRUE(violation.has_value());
  EXPECT_EQ(violation->field, "item_id");
  EXPECT_EQ(violation->description, "must be 1 to 64 characters");
}

TEST(FieldViolationOfTest, RoundTripsDescriptionContainingTheSeparator) {
  const std::optional<FieldViolation> violation =
      FieldViolationOf(InvalidField("name", "a: b: c"));
  ASSERT_TRUE(violation.has_value());
  EXPECT_EQ(violation->field, "name");
  EXPECT_EQ(violation->description, "a: b: c");
}

TEST(FieldViolationOfTest, RoundTripsNestedFieldPath) {
  const std::optional<FieldViolation> violation =
      FieldViolationOf(InvalidField("items[2].sku", "too short"));
  ASSERT_TRUE(violation.has_value());
  EXPECT_EQ(violation->field, "items[2].sku");
  EXPECT_EQ(violation->description, "too short");
}

TEST(FieldViolationOfTest, RoundTripsNonAsciiDescription) {
  const std::optional<FieldViolation> violation =
      FieldViolationOf(InvalidField("name", "caf\xC3\xA9 is taken"));
  ASSERT_TRUE(violation.has_value());
  EXPECT_EQ(violation->description, "caf\xC3\xA9 is taken");
}

TEST(FieldViolationOfTest, SurvivesCopyAndMove) {
  const absl::Status original = InvalidField("sku", "bad");
  absl::Status copy = original;
  const absl::Status moved = std::move(copy);
  const std::optional<FieldViolation> violation = FieldViolationOf(moved);
  ASSERT_TRUE(violation.has_value());
  EXPECT_EQ(violation->field, "sku");
  EXPECT_EQ(violation->description, "bad");
}

TEST(FieldViolationOfTest, NulloptForOk) {
  EXPECT_FALSE(FieldViolationOf(absl::OkStatus()).has_value());
}

TEST(FieldViolationOfTest, NulloptForOtherCodes) {
  for (const absl::Status& status :
       {absl::NotFoundError("item_id: not found"),
        absl::FailedPreconditionError("name: same name"),
        absl::AlreadyExistsError("x"), absl::InternalError("x"),
        absl::OutOfRangeError("quantity: too big"), absl::UnknownError("")}) {
    SCOPED_TRACE(status.ToString());
    EXPECT_FALSE(FieldViolationOf(status).has_value());
  }
}

TEST(FieldViolationOfTest, NulloptForOtherCodeEvenWithThePayload) {
  // A status that carries the payload of InvalidField() but another code
  // is not a field violation.
  absl::Status status = InvalidField("sku", "bad");
  absl::Status other(absl::StatusCode::kFailedPrecondition, status.message());
  status.ForEachPayload([&other](absl::string_view key, const absl::Cord& v) {
    other.SetPayload(key, v);
  });
  EXPECT_FALSE(FieldViolationOf(other).has_value());
}

TEST(FieldViolationOfTest, NulloptForPlainInvalidArgument) {
  EXPECT_FALSE(FieldViolationOf(absl::InvalidArgumentError("quantity: bad"))
                   .has_value());
  EXPECT_FALSE(FieldViolationOf(absl::InvalidArgumentError("")).has_value());
}

TEST(FieldViolationOfTest, NulloptForInvalidArgumentWithUnrelatedPayload) {
  absl::Status status = absl::InvalidArgumentError("quantity: bad");
  status.SetPayload("type.googleapis.com/other", absl::Cord("quantity"));
  EXPECT_FALSE(FieldViolationOf(status).has_value());
}

}  // namespace
}  // namespace inventory
