#include "common/base/log_rate_limiter.h"

#include "gtest/gtest.h"

namespace inventory {
namespace {

// A limiter whose clock the test moves.
class LogRateLimiterTest : public ::testing::Test {
 protected:
  LogRateLimiter::Decision Admit(absl::string_view kind = "UNAUTHENTICATED") {
    return limiter_.Admit(kind);
  }

  absl::Time now_ = absl::FromUnixSeconds(1000);
  LogRateLimiter limiter_{
      LogRateLimiterOptions{3, absl::Seconds(10), [this] { return now_; }}};
};

TEST_F(LogRateLimiterTest, LetsMaxLinesThroughPerWindow) {
  for (int i = 0; i < 3; ++i) {
    const LogRateLimiter::Decision decision = Admit();
    EXPECT_TRUE(decision.log) << i;
    EXPECT_EQ(decision.suppressed, 0) << i;
  }
  now_ += absl::Seconds(9);
  EXPECT_FALSE(Admit().log);
  EXPECT_FALSE(Admit().log);
}

TEST_F(LogRateLimiterTest, TheNextWindowsFirstLineCountsTheSuppressedOnes) {
  for (int i = 0; i < 8; ++i) Admit();  // 3 logged, 5 suppressed
  now_ += absl::Seconds(10);
  const LogRateLimiter::Decision reopened = Admit();
  EXPECT_TRUE(reopened.log);
  EXPECT_EQ(reopened.suppressed, 5);
  // Reported once: the window's next lines carry no count.
  const LogRateLimiter::Decision next = Admit();
  EXPECT_TRUE(next.log);
  EXPECT_EQ(next.suppressed, 0);
}

TEST_F(LogRateLimiterTest, AWindowOpensAtTheFirstLineAfterTheLastOneEnds) {
  for (int i = 0; i < 4; ++i) Admit();  // window [1000s, 1010s): 1 dropped
  now_ += absl::Minutes(5);
  EXPECT_EQ(Admit().suppressed, 1);  // window [1300s, 1310s)
  Admit();
  Admit();
  now_ += absl::Seconds(9);
  EXPECT_FALSE(Admit().log);
  now_ += absl::Seconds(1);
  EXPECT_TRUE(Admit().log);
}

TEST_F(LogRateLimiterTest, KindsAreCountedApart) {
  for (int i = 0; i < 5; ++i) Admit("UNAUTHENTICATED");
  EXPECT_TRUE(Admit("PERMISSION_DENIED").log);
  EXPECT_FALSE(Admit("UNAUTHENTICATED").log);
  now_ += absl::Seconds(10);
  EXPECT_EQ(Admit("PERMISSION_DENIED").suppressed, 0);
  EXPECT_EQ(Admit("UNAUTHENTICATED").suppressed, 3);
}

}  // namespace
}  // namespace inventory
