#include "query-service/subscriber/progress_line.h"

#include "gtest/gtest.h"

namespace inventory {
namespace {

const absl::Time kStart = absl::FromUnixSeconds(1'800'000'000);

TEST(ProgressLineTest, CountsTheEventsSinceThePreviousLineAndTheirRate) {
  // A rebuild of 34 events in half a second, caught up with a head of 34.
  EXPECT_EQ(
      ProgressLine({kStart, 0}, {kStart + absl::Milliseconds(500), 34}, 34),
      "applying the event log: 34 events applied in 500ms "
      "(68 events/s), position 34 of 34");
}

TEST(ProgressLineTest, AQuietLiveStreamIsNotRoundedToZero) {
  // Live: 2 events in 10 s since the line before, head not known.
  EXPECT_EQ(
      ProgressLine({kStart, 3}, {kStart + absl::Seconds(10), 5}, std::nullopt),
      "applying the event log: 2 events applied in 10s "
      "(0.2 events/s), position 5");
  EXPECT_EQ(ProgressLine({kStart, 5}, {kStart + absl::Seconds(300), 6}, 6),
            "applying the event log: 1 event applied in 5m "
            "(0.0033 events/s), position 6 of 6");
}

TEST(ProgressLineTest, AHeadBehindThePositionIsLeftOut) {
  // Events past the last head reported: "position 12 of 10" would mislead.
  EXPECT_EQ(ProgressLine({kStart, 0}, {kStart + absl::Seconds(4), 12}, 10),
            "applying the event log: 12 events applied in 4s "
            "(3.0 events/s), position 12");
}

TEST(ProgressLineTest, NoRateWithoutElapsedTime) {
  EXPECT_EQ(EventRate({kStart, 0}, {kStart, 10}), std::nullopt);
  EXPECT_EQ(EventRate({kStart, 0}, {kStart - absl::Seconds(1), 10}),
            std::nullopt);
  EXPECT_EQ(ProgressLine({kStart, 0}, {kStart, 10}, std::nullopt),
            "applying the event log: 10 events applied in 0, position 10");
}

TEST(ProgressLineTest, TheRateIsOverTheIntervalOnly) {
  const std::optional<double> rate = EventRate(
      {kStart + absl::Seconds(100), 1000}, {kStart + absl::Seconds(105), 1500});
  ASSERT_TRUE(rate.has_value());
  EXPECT_DOUBLE_EQ(*rate, 100.0);
}

}  // namespace
}  // namespace inventory
