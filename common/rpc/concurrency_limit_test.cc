#include "common/rpc/concurrency_limit.h"

#include <optional>
#include <utility>
#include <vector>

#include "common/base/error_reason.h"
#include "common/base/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace inventory {
namespace {

using ::testing::HasSubstr;

TEST(ConcurrencyLimitTest, RefusesBeyondTheLimitUntilASlotIsReleased) {
  ConcurrencyLimit limit(2, "open subscriptions", "TOO_MANY_SUBSCRIBERS");
  std::vector<ConcurrencyLimit::Slot> slots;
  for (int i = 0; i < 2; ++i) {
    auto slot = limit.TryAcquire();
    ASSERT_THAT(slot, IsOk());
    slots.push_back(std::move(*slot));
  }
  EXPECT_EQ(limit.in_use(), 2);
  const auto refused = limit.TryAcquire();
  EXPECT_THAT(refused, StatusIs(absl::StatusCode::kResourceExhausted));
  EXPECT_THAT(refused.status().message(),
              HasSubstr("too many open subscriptions (limit 2)"));
  EXPECT_EQ(limit.in_use(), 2);

  slots.pop_back();
  EXPECT_EQ(limit.in_use(), 1);
  EXPECT_THAT(limit.TryAcquire(), IsOk());  // released again at once
  EXPECT_EQ(limit.in_use(), 1);
}

TEST(ConcurrencyLimitTest, AMovedSlotIsReleasedOnce) {
  ConcurrencyLimit limit(1, "watchers", "TOO_MANY_WATCHERS");
  {
    auto slot = limit.TryAcquire();
    ASSERT_THAT(slot, IsOk());
    std::optional<ConcurrencyLimit::Slot> moved(std::move(*slot));
    EXPECT_EQ(limit.in_use(), 1);
  }
  EXPECT_EQ(limit.in_use(), 0);
}

TEST(ConcurrencyLimitTest, ALimitBelowOneCountsAsOne) {
  ConcurrencyLimit limit(0, "waiters", "TOO_MANY_WAITING_QUERIES");
  EXPECT_EQ(limit.limit(), 1);
  auto slot = limit.TryAcquire();
  EXPECT_THAT(slot, IsOk());
  EXPECT_FALSE(limit.TryAcquire().ok());
}

TEST(ConcurrencyLimitTest, OneClientCannotTakeEverySlot) {
  ConcurrencyLimit limit(3, "open subscriptions", "TOO_MANY_SUBSCRIBERS",
                         /*per_client=*/2);
  std::vector<ConcurrencyLimit::Slot> slots;
  for (int i = 0; i < 2; ++i) {
    auto slot = limit.TryAcquire("ipv4:10.0.0.1");
    ASSERT_THAT(slot, IsOk());
    slots.push_back(std::move(*slot));
  }
  const auto refused = limit.TryAcquire("ipv4:10.0.0.1");
  EXPECT_THAT(refused, StatusIs(absl::StatusCode::kResourceExhausted));
  EXPECT_THAT(refused.status().message(),
              HasSubstr("from one client (limit 2 per client)"));
  EXPECT_EQ(limit.in_use_by("ipv4:10.0.0.1"), 2);
  const std::optional<ErrorReason> reason = ErrorReasonOf(refused.status());
  ASSERT_TRUE(reason.has_value());
  EXPECT_EQ(reason->reason, "TOO_MANY_SUBSCRIBERS");
  EXPECT_EQ(reason->metadata.at("per_client"), "2");
  EXPECT_EQ(reason->metadata.at("limit"), "3");

  // Another client still gets the slot that is left, and then the limit
  // of the whole holds for everyone.
  auto other = limit.TryAcquire("ipv4:10.0.0.2");
  ASSERT_THAT(other, IsOk());
  EXPECT_THAT(limit.TryAcquire("ipv4:10.0.0.3").status().message(),
              HasSubstr("too many open subscriptions (limit 3)"));

  slots.pop_back();  // the first client's slot comes back to it
  EXPECT_EQ(limit.in_use_by("ipv4:10.0.0.1"), 1);
  EXPECT_THAT(limit.TryAcquire("ipv4:10.0.0.1"), IsOk());
}

TEST(ConcurrencyLimitTest, NoCapPerClientByDefault) {
  ConcurrencyLimit limit(3, "watchers", "TOO_MANY_WATCHERS");
  std::vector<ConcurrencyLimit::Slot> slots;
  for (int i = 0; i < 3; ++i) {
    auto slot = limit.TryAcquire("ipv4:10.0.0.1");
    ASSERT_THAT(slot, IsOk());
    slots.push_back(std::move(*slot));
  }
  EXPECT_EQ(limit.in_use(), 3);
}

}  // namespace
}  // namespace inventory
