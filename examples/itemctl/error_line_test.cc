#include "examples/itemctl/error_line.h"

#include "common/base/error_reason.h"
#include "common/base/field_violation.h"
#include "gtest/gtest.h"

namespace inventory::itemctl {
namespace {

TEST(ErrorLineTest, ServerErrorsShowTheirCode) {
  EXPECT_EQ(ErrorLine(absl::FailedPreconditionError(
                "cannot remove 10 units: only 5 on hand")),
            "error: FAILED_PRECONDITION: cannot remove 10 units: only 5 on "
            "hand");
  EXPECT_EQ(ErrorLine(absl::InvalidArgumentError("bad")),
            "error: INVALID_ARGUMENT: bad");
}

TEST(ErrorLineTest, ReasonFollowsTheCode) {
  EXPECT_EQ(ErrorLine(WithReason(absl::FailedPreconditionError(
                                     "cannot remove 10 units: only 5 on hand"),
                                 reason::kInsufficientStock,
                                 {{"quantity_on_hand", "5"}})),
            "error: FAILED_PRECONDITION (INSUFFICIENT_STOCK): cannot remove 10 "
            "units: only 5 on hand");
}

TEST(ErrorLineTest, InvalidFieldNamesTheField) {
  EXPECT_EQ(ErrorLine(InvalidField("sku", "must be 3 to 32 characters")),
            "error: INVALID_ARGUMENT (INVALID_FIELD): field sku: must be 3 to "
            "32 characters");
}

TEST(ErrorLineTest, UsageErrorsHaveNoCode) {
  const absl::Status usage = UsageError("usage: show <id>");
  EXPECT_TRUE(IsUsageError(usage));
  EXPECT_FALSE(IsUsageError(absl::InvalidArgumentError("usage: show <id>")));
  EXPECT_EQ(ErrorLine(usage), "error: usage: show <id>");
}

}  // namespace
}  // namespace inventory::itemctl
