// The statuses the EventStore interface defines for its refusals.
#include "common/eventstore/event_store.h"

#include "absl/status/status.h"
#include "common/base/error_reason.h"
#include "common/base/status_matchers.h"
#include "gtest/gtest.h"

namespace inventory {
namespace {

TEST(EventStoreStatusTest, StoreRefusalsCarryTheirReasons) {
  const absl::Status conflict =
      WrongExpectedVersion("item-a", ExpectedVersion::Exact(2), 5);
  EXPECT_THAT(conflict, StatusIs(absl::StatusCode::kAborted));
  EXPECT_EQ(conflict.message(), "stream item-a is at version 5, expected 2");
  EXPECT_EQ(
      ErrorReasonOf(conflict),
      (ErrorReason{"VERSION_CONFLICT",
                   {{"expected_version", "2"}, {"actual_version", "5"}}}));
  // "no stream" is version 0.
  EXPECT_EQ(ErrorReasonOf(
                WrongExpectedVersion("item-a", ExpectedVersion::NoStream(), 1))
                ->metadata.at("expected_version"),
            "0");
  const absl::Status reused = RequestIdReused();
  EXPECT_THAT(reused, StatusIs(absl::StatusCode::kAlreadyExists));
  EXPECT_EQ(ErrorReasonOf(reused), (ErrorReason{"REQUEST_ID_REUSED", {}}));
}

}  // namespace
}  // namespace inventory
