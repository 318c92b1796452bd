#include "common/concurrency_limit.h"

#include <optional>
#include <utility>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace inventory {
namespace {

using ::testing::HasSubstr;

TEST(ConcurrencyLimitTest, RefusesBeyondTheLimitUntilASlotIsReleased) {
  ConcurrencyLimit limit(2, "open subscriptions");
  std::vector<ConcurrencyLimit::Slot> slots;
  for (int i = 0; i < 2; ++i) {
    auto slot = limit.TryAcquire();
    ASSERT_TRUE(slot.ok()) << slot.status();
    slots.push_back(std::move(*slot));
  }
  EXPECT_EQ(limit.in_use(), 2);
  const auto refused = limit.TryAcquire();
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(refused.status().message(),
              HasSubstr("too many open subscriptions (limit 2)"));
  EXPECT_EQ(limit.in_use(), 2);

  slots.pop_back();
  EXPECT_EQ(limit.in_use(), 1);
  EXPECT_TRUE(limit.TryAcquire().ok());  // released again at once
  EXPECT_EQ(limit.in_use(), 1);
}

TEST(ConcurrencyLimitTest, AMovedSlotIsReleasedOnce) {
  ConcurrencyLimit limit(1, "watchers");
  {
    auto slot = limit.TryAcquire();
    ASSERT_TRUE(slot.ok());
    std::optional<ConcurrencyLimit::Slot> moved(std::move(*slot));
    EXPECT_EQ(limit.in_use(), 1);
  }
  EXPECT_EQ(limit.in_use(), 0);
}

TEST(ConcurrencyLimitTest, ALimitBelowOneCountsAsOne) {
  ConcurrencyLimit limit(0, "waiters");
  EXPECT_EQ(limit.limit(), 1);
  auto slot = limit.TryAcquire();
  EXPECT_TRUE(slot.ok());
  EXPECT_FALSE(limit.TryAcquire().ok());
}

}  // namespace
}  // namespace inventory
