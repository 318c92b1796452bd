#include "common/base/error_reason.h"

#include <map>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/cord.h"
#include "common/base/field_violation.h"
#include "common/base/status_matchers.h"
#include "gtest/gtest.h"

namespace inventory {
namespace {

TEST(ErrorReasonTest, AttachesReasonAndMetadataKeepingTheRest) {
  absl::Status status = absl::AbortedError("item is at version 3, expected 2");
  status.SetPayload("other/payload", absl::Cord("kept"));
  const absl::Status with =
      WithReason(status, reason::kVersionConflict,
                 {{"expected_version", "2"}, {"actual_version", "3"}});
  EXPECT_THAT(with, StatusIs(absl::StatusCode::kAborted));
  EXPECT_EQ(with.message(), "item is at version 3, expected 2");
  EXPECT_EQ(with.GetPayload("other/payload"), absl::Cord("kept"));
  const std::optional<ErrorReason> reason = ErrorReasonOf(with);
  ASSERT_TRUE(reason.has_value());
  EXPECT_EQ(reason->reason, "VERSION_CONFLICT");
  EXPECT_EQ(reason->metadata,
            (std::map<std::string, std::string>{{"expected_version", "2"},
                                                {"actual_version", "3"}}));
}

TEST(ErrorReasonTest, ANewReasonReplacesTheOld) {
  const absl::Status status =
      WithReason(WithReason(absl::NotFoundError("x"), reason::kItemNotFound,
                            {{"stale", "1"}}),
                 reason::kItemVersionNotFound);
  EXPECT_EQ(ErrorReasonOf(status), (ErrorReason{"ITEM_VERSION_NOT_FOUND", {}}));
}

TEST(ErrorReasonTest, MetadataOfAnyTextRoundTrips) {
  // Values that a client restores from a server's ErrorInfo may hold
  // anything, including the characters of the encoding.
  const std::map<std::string, std::string> metadata = {
      {"a", ""},
      {"b:c", "1:2"},
      {"new\nline", "x\ny=z"},
      {"nul", std::string("a\0b", 3)},
      {"", "empty key"}};
  const std::optional<ErrorReason> reason = ErrorReasonOf(
      WithReason(absl::UnavailableError("x"), "SOME_REASON", metadata));
  ASSERT_TRUE(reason.has_value());
  EXPECT_EQ(reason->reason, "SOME_REASON");
  EXPECT_EQ(reason->metadata, metadata);
}

TEST(ErrorReasonTest, InvalidFieldIsInvalidFieldWithoutBeingTold) {
  EXPECT_EQ(ErrorReasonOf(InvalidField("sku", "must be 3 to 32 characters")),
            (ErrorReason{"INVALID_FIELD", {}}));
}

TEST(ErrorReasonTest, OkAndPlainStatusesHaveNone) {
  EXPECT_FALSE(ErrorReasonOf(absl::OkStatus()).has_value());
  EXPECT_FALSE(ErrorReasonOf(absl::InternalError("boom")).has_value());
  EXPECT_FALSE(ErrorReasonOf(absl::InvalidArgumentError("bad")).has_value());
  // An OK status takes no reason.
  EXPECT_THAT(WithReason(absl::OkStatus(), reason::kItemNotFound), IsOk());
}

TEST(StatusForLogTest, CodeMessageAndReasonWithoutRawPayloads) {
  EXPECT_EQ(StatusForLog(WithReason(
                absl::AbortedError("conflict"), reason::kVersionConflict,
                {{"expected_version", "2"}, {"actual_version", "3"}})),
            "ABORTED: conflict (VERSION_CONFLICT actual_version=3 "
            "expected_version=2)");
  EXPECT_EQ(StatusForLog(InvalidField("sku", "too short")),
            "INVALID_ARGUMENT: sku: too short (INVALID_FIELD)");
  EXPECT_EQ(StatusForLog(absl::InternalError("boom")), "INTERNAL: boom");
  EXPECT_EQ(StatusForLog(absl::OkStatus()), "OK");
}

}  // namespace
}  // namespace inventory
