#include "command-service/server/event_subscription.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <future>
#include <string>
#include <utility>
#include <vector>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "common/base/error_reason.h"
#include "common/base/status_matchers.h"
#include "common/eventstore/in_memory_event_store.h"
#include "common/eventstore/mock_event_store.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace inventory {
namespace {

using inventory::v1::SubscribeRequest;
using inventory::v1::SubscribeResponse;
using ::testing::_;
using ::testing::DoDefault;
using ::testing::Each;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Le;
using ::testing::Return;

// Long enough for any wait of these tests on a loaded machine; a passing
// test never waits it out.
constexpr absl::Duration kTimeout = absl::Seconds(20);

// Appends `count` events, one per stream item-<n>, to `store`.
void AppendEvents(EventStore& store, int count) {
  static std::atomic<int> next_item{0};
  for (int i = 0; i < count; ++i) {
    AppendRequest request;
    request.stream_id = absl::StrCat("item-", next_item++);
    request.events.push_back({"inventory.v1.ItemCreated", "{}", {}});
    ASSERT_THAT(store.Append(request), IsOk());
  }
}

SubscribeRequest After(int64_t position, int max_events_per_message = 0) {
  SubscribeRequest request;
  request.set_after_position(position);
  request.set_max_events_per_message(max_events_per_message);
  return request;
}

// The positions of the events in `message` (`event` or `events`).
std::vector<int64_t> PositionsIn(const SubscribeResponse& message) {
  std::vector<int64_t> positions;
  if (message.has_event())
    positions.push_back(message.event().global_position());
  for (const auto& event : message.events().events()) {
    positions.push_back(event.global_position());
  }
  return positions;
}

// What a subscription sent, thread-safe; the sink hangs up once
// `hang_up_after` says so about a message.
class Recorder {
 public:
  explicit Recorder(
      std::function<bool(const SubscribeResponse&)> hang_up_after =
          [](const SubscribeResponse&) { return false; })
      : hang_up_after_(std::move(hang_up_after)) {}

  EventSubscription::Sink Sink() {
    return [this](const SubscribeResponse& message) {
      absl::MutexLock lock(&mu_);
      messages_.push_back(message);
      return !hang_up_after_(message);
    };
  }
  std::vector<SubscribeResponse> messages() const {
    absl::MutexLock lock(&mu_);
    return messages_;
  }
  // Every event position sent, in order.
  std::vector<int64_t> positions() const {
    std::vector<int64_t> all;
    for (const SubscribeResponse& message : messages()) {
      for (int64_t position : PositionsIn(message)) all.push_back(position);
    }
    return all;
  }
  // The number of events in each message that carries events.
  std::vector<size_t> batch_sizes() const {
    std::vector<size_t> sizes;
    for (const SubscribeResponse& message : messages()) {
      const size_t size = PositionsIn(message).size();
      if (size > 0) sizes.push_back(size);
    }
    return sizes;
  }
  // Waits until a message satisfies `predicate`; false after kTimeout.
  bool WaitFor(std::function<bool(const SubscribeResponse&)> predicate) {
    absl::MutexLock lock(&mu_);
    auto found = [&] {
      mu_.AssertHeld();
      for (const SubscribeResponse& m : messages_) {
        if (predicate(m)) return true;
      }
      return false;
    };
    return mu_.AwaitWithTimeout(absl::Condition(&found), kTimeout);
  }

 private:
  const std::function<bool(const SubscribeResponse&)> hang_up_after_;
  mutable absl::Mutex mu_;
  std::vector<SubscribeResponse> messages_ ABSL_GUARDED_BY(mu_);
};

// For failure messages: how a subscription run in the background ended.
std::string Outcome(std::future<absl::Status>& run) {
  if (run.wait_for(std::chrono::seconds(0)) != std::future_status::ready) {
    return "the subscription still runs";
  }
  return absl::StrCat("the subscription ended: ", run.get().ToString());
}

bool IsCaughtUp(const SubscribeResponse& message) {
  return message.has_caught_up();
}

class EventSubscriptionTest : public ::testing::Test {
 protected:
  // A buffer that notices its Stop() (at the end of each test) promptly.
  static LiveEventBuffer::Options BufferOptions() {
    LiveEventBuffer::Options options;
    options.idle_wait = absl::Milliseconds(50);
    return options;
  }
  EventSubscription::Options Options() const {
    EventSubscription::Options options;
    options.catch_up_batch = 3;
    return options;
  }
  // Runs a subscription over `store` (the buffer tails store_) on this
  // thread.
  absl::Status Run(EventStore& store, const SubscribeRequest& request,
                   Recorder& recorder) {
    EventSubscription subscription(&store, &live_, Options(), request,
                                   recorder.Sink(), NeverStop());
    return subscription.Run();
  }
  EventSubscription::Stop NeverStop() {
    return {[] { return false; }, [] { return false; }};
  }
  // Runs `subscription` on a thread of its own.
  static std::future<absl::Status> RunInBackground(
      EventSubscription& subscription) {
    return std::async(std::launch::async,
                      [&subscription] { return subscription.Run(); });
  }
  // Stop that reads the test's flags.
  EventSubscription::Stop StopFlags() {
    return {[this] { return cancelled_.load(); },
            [this] { return shutting_down_.load(); }};
  }

  InMemoryEventStore store_;
  LiveEventBuffer live_{&store_, BufferOptions()};
  std::atomic<bool> cancelled_{false};
  std::atomic<bool> shutting_down_{false};
};

TEST_F(EventSubscriptionTest, CatchesUpFromTheStartAPageAtATime) {
  AppendEvents(store_, 7);
  MockEventStore store(&store_);
  // Pages of catch_up_batch (3) events, each after the last one read.
  EXPECT_CALL(store, ReadAll(0, 3));
  EXPECT_CALL(store, ReadAll(3, 3));
  EXPECT_CALL(store, ReadAll(6, 3));
  Recorder recorder(IsCaughtUp);
  EXPECT_THAT(Run(store, After(0, 100), recorder),
              StatusIs(absl::StatusCode::kCancelled, "client went away"));
  EXPECT_THAT(recorder.positions(), ElementsAre(1, 2, 3, 4, 5, 6, 7));
  // Each page's events are sent before the next page's.
  EXPECT_THAT(recorder.batch_sizes(), ElementsAre(3, 3, 1));
  const std::vector<SubscribeResponse> messages = recorder.messages();
  ASSERT_TRUE(messages.back().has_caught_up());
  EXPECT_EQ(messages.back().caught_up().head_position(), 7);
}

TEST_F(EventSubscriptionTest, CatchesUpFromAMiddlePosition) {
  AppendEvents(store_, 7);
  Recorder recorder(IsCaughtUp);
  EXPECT_THAT(Run(store_, After(4), recorder),
              StatusIs(absl::StatusCode::kCancelled));
  EXPECT_THAT(recorder.positions(), ElementsAre(5, 6, 7));
  EXPECT_EQ(recorder.messages().back().caught_up().head_position(), 7);
}

TEST_F(EventSubscriptionTest, AtTheHeadIsCaughtUpAtOnce) {
  AppendEvents(store_, 3);
  Recorder recorder(IsCaughtUp);
  EXPECT_THAT(Run(store_, After(3), recorder),
              StatusIs(absl::StatusCode::kCancelled));
  ASSERT_EQ(recorder.messages().size(), 1u);
  EXPECT_EQ(recorder.messages()[0].caught_up().head_position(), 3);
}

// Today's behaviour: a checkpoint beyond the head belongs to another log.
TEST_F(EventSubscriptionTest, APositionBeyondTheHeadIsOutOfRange) {
  AppendEvents(store_, 3);
  Recorder recorder;
  const absl::Status status = Run(store_, After(10), recorder);
  EXPECT_THAT(status, StatusIs(absl::StatusCode::kOutOfRange,
                               HasSubstr("after_position 10 is beyond the "
                                         "event log's head position 3")));
  EXPECT_THAT(status, HasReason(reason::kLogPositionOutOfRange));
  EXPECT_TRUE(recorder.messages().empty());
}

TEST_F(EventSubscriptionTest, AnotherEventAtAfterPositionIsLogDiverged) {
  AppendEvents(store_, 3);
  SubscribeRequest request = After(2);
  request.set_after_event_id("not-the-event-at-2");
  Recorder recorder;
  const absl::Status status = Run(store_, request, recorder);
  EXPECT_THAT(status, StatusIs(absl::StatusCode::kOutOfRange));
  EXPECT_THAT(status, HasReason(reason::kLogDiverged));
  EXPECT_TRUE(recorder.messages().empty());
}

TEST_F(EventSubscriptionTest, SwitchesToLiveWithoutGapOrDuplicate) {
  AppendEvents(store_, 5);
  // Events appended while the catch-up runs (after it read the head) and
  // right at the CaughtUp come live, once each.
  bool appended_during_catch_up = false;
  Recorder recorder;
  EventSubscription::Sink record = recorder.Sink();
  EventSubscription subscription(
      &store_, &live_, Options(), After(0),
      [&](const SubscribeResponse& message) {
        if (!appended_during_catch_up && !PositionsIn(message).empty()) {
          appended_during_catch_up = true;
          AppendEvents(store_, 2);
        }
        if (message.has_caught_up()) AppendEvents(store_, 2);
        return record(message);
      },
      StopFlags());
  std::future<absl::Status> run = RunInBackground(subscription);
  // Ends it (and the wait for it) should the test fail before it does.
  absl::Cleanup end = [this] { cancelled_ = true; };
  EXPECT_TRUE(recorder.WaitFor([](const SubscribeResponse& message) {
    const std::vector<int64_t> positions = PositionsIn(message);
    return !positions.empty() && positions.back() == 9;
  }));
  cancelled_ = true;
  ASSERT_EQ(run.wait_for(std::chrono::seconds(20)), std::future_status::ready);
  EXPECT_THAT(run.get(), StatusIs(absl::StatusCode::kCancelled));
  EXPECT_THAT(recorder.positions(), ElementsAre(1, 2, 3, 4, 5, 6, 7, 8, 9));
  const std::vector<SubscribeResponse> messages = recorder.messages();
  const auto caught_up =
      std::find_if(messages.begin(), messages.end(), IsCaughtUp);
  ASSERT_NE(caught_up, messages.end());
  EXPECT_EQ(caught_up->caught_up().head_position(), 5);
  EXPECT_EQ(subscription.position(), 9);
}

TEST_F(EventSubscriptionTest, SendsOneEventPerMessageUnlessAskedForBatches) {
  AppendEvents(store_, 4);
  for (int max_events_per_message : {0, 1}) {
    Recorder recorder(IsCaughtUp);
    EXPECT_THAT(Run(store_, After(0, max_events_per_message), recorder),
                StatusIs(absl::StatusCode::kCancelled));
    const std::vector<SubscribeResponse> messages = recorder.messages();
    ASSERT_EQ(messages.size(), 5u);
    for (int i = 0; i < 4; ++i) {
      EXPECT_TRUE(messages[i].has_event()) << max_events_per_message;
      EXPECT_EQ(messages[i].event().global_position(), i + 1);
    }
  }
}

TEST_F(EventSubscriptionTest, BatchesHoldAtMostMaxEventsPerMessage) {
  AppendEvents(store_, 8);
  MockEventStore store(&store_);
  EventSubscription::Options options = Options();
  options.catch_up_batch = 1000;  // one page
  Recorder recorder(IsCaughtUp);
  EventSubscription subscription(&store, &live_, options, After(0, 3),
                                 recorder.Sink(), NeverStop());
  EXPECT_THAT(subscription.Run(), StatusIs(absl::StatusCode::kCancelled));
  EXPECT_THAT(recorder.batch_sizes(), ElementsAre(3, 3, 2));
}

TEST_F(EventSubscriptionTest, BatchesHoldAtMost1024Events) {
  AppendRequest request;
  request.stream_id = "item-many";
  request.events.assign(1100, {"inventory.v1.ItemCreated", "{}", {}});
  ASSERT_THAT(store_.Append(request), IsOk());
  EventSubscription::Options options = Options();
  options.catch_up_batch = 2000;
  Recorder recorder(IsCaughtUp);
  EventSubscription subscription(&store_, &live_, options, After(0, 5000),
                                 recorder.Sink(), NeverStop());
  EXPECT_THAT(subscription.Run(), StatusIs(absl::StatusCode::kCancelled));
  EXPECT_THAT(recorder.batch_sizes(), ElementsAre(1024, 76));
}

TEST_F(EventSubscriptionTest, LiveReadsTakeAtMostLiveBatchEvents) {
  EventSubscription::Options options = Options();
  options.live_batch = 2;
  Recorder recorder;
  EventSubscription subscription(&store_, &live_, options, After(0, 100),
                                 recorder.Sink(), StopFlags());
  std::future<absl::Status> run = RunInBackground(subscription);
  // Ends it (and the wait for it) should the test fail before it does.
  absl::Cleanup end = [this] { cancelled_ = true; };
  ASSERT_TRUE(recorder.WaitFor(IsCaughtUp)) << Outcome(run);
  AppendRequest request;
  request.stream_id = "item-live";
  request.events.assign(5, {"inventory.v1.ItemCreated", "{}", {}});
  ASSERT_THAT(store_.Append(request), IsOk());
  EXPECT_TRUE(recorder.WaitFor([](const SubscribeResponse& message) {
    const std::vector<int64_t> positions = PositionsIn(message);
    return !positions.empty() && positions.back() == 5;
  }));
  cancelled_ = true;
  ASSERT_EQ(run.wait_for(std::chrono::seconds(20)), std::future_status::ready);
  EXPECT_THAT(recorder.positions(), ElementsAre(1, 2, 3, 4, 5));
  EXPECT_THAT(recorder.batch_sizes(), Each(Le(2u)));
}

TEST_F(EventSubscriptionTest, AStoreErrorMidCatchUpEndsItAfterTheEventsBefore) {
  AppendEvents(store_, 7);
  MockEventStore store(&store_);
  EXPECT_CALL(store, ReadAll(_, _)).WillRepeatedly(DoDefault());
  EXPECT_CALL(store, ReadAll(3, 3))
      .WillOnce(Return(absl::UnavailableError("connection lost")));
  Recorder recorder;
  EXPECT_THAT(Run(store, After(0, 100), recorder),
              StatusIs(absl::StatusCode::kUnavailable, "connection lost"));
  EXPECT_THAT(recorder.positions(), ElementsAre(1, 2, 3));
  for (const SubscribeResponse& message : recorder.messages()) {
    EXPECT_FALSE(message.has_caught_up());
  }
}

TEST_F(EventSubscriptionTest, AStoreErrorReadingTheHeadEndsItAtOnce) {
  MockEventStore store(&store_);
  EXPECT_CALL(store, HeadPosition())
      .WillOnce(Return(absl::UnavailableError("connection lost")));
  Recorder recorder;
  EXPECT_THAT(Run(store, After(0), recorder),
              StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_TRUE(recorder.messages().empty());
}

TEST_F(EventSubscriptionTest, CancellationEndsALiveSubscription) {
  AppendEvents(store_, 2);
  Recorder recorder;
  EventSubscription subscription(&store_, &live_, Options(), After(0),
                                 recorder.Sink(), StopFlags());
  std::future<absl::Status> run = RunInBackground(subscription);
  // Ends it (and the wait for it) should the test fail before it does.
  absl::Cleanup end = [this] { cancelled_ = true; };
  ASSERT_TRUE(recorder.WaitFor(IsCaughtUp)) << Outcome(run);
  cancelled_ = true;
  ASSERT_EQ(run.wait_for(std::chrono::seconds(20)), std::future_status::ready);
  EXPECT_THAT(run.get(),
              StatusIs(absl::StatusCode::kCancelled, "client went away"));
}

TEST_F(EventSubscriptionTest, ShutdownEndsALiveSubscriptionUnavailable) {
  Recorder recorder;
  EventSubscription subscription(&store_, &live_, Options(), After(0),
                                 recorder.Sink(), StopFlags());
  std::future<absl::Status> run = RunInBackground(subscription);
  // Ends it (and the wait for it) should the test fail before it does.
  absl::Cleanup end = [this] { cancelled_ = true; };
  ASSERT_TRUE(recorder.WaitFor(IsCaughtUp)) << Outcome(run);
  shutting_down_ = true;
  ASSERT_EQ(run.wait_for(std::chrono::seconds(20)), std::future_status::ready);
  const absl::Status status = run.get();
  EXPECT_THAT(status, StatusIs(absl::StatusCode::kUnavailable,
                               "server is shutting down"));
  EXPECT_THAT(status, HasReason(reason::kShuttingDown));
}

TEST_F(EventSubscriptionTest, ShutdownBeforeTheFirstPageSendsNothing) {
  AppendEvents(store_, 3);
  shutting_down_ = true;
  Recorder recorder;
  EventSubscription subscription(&store_, &live_, Options(), After(0),
                                 recorder.Sink(), StopFlags());
  EXPECT_THAT(subscription.Run(), HasReason(reason::kShuttingDown));
  EXPECT_TRUE(recorder.messages().empty());
}

TEST_F(EventSubscriptionTest, AStoppedBufferEndsALiveSubscriptionUnavailable) {
  Recorder recorder;
  EventSubscription subscription(&store_, &live_, Options(), After(0),
                                 recorder.Sink(), StopFlags());
  std::future<absl::Status> run = RunInBackground(subscription);
  // Ends it (and the wait for it) should the test fail before it does.
  absl::Cleanup end = [this] { cancelled_ = true; };
  ASSERT_TRUE(recorder.WaitFor(IsCaughtUp)) << Outcome(run);
  live_.Stop();
  ASSERT_EQ(run.wait_for(std::chrono::seconds(20)), std::future_status::ready);
  EXPECT_THAT(run.get(), HasReason(reason::kShuttingDown));
}

TEST_F(EventSubscriptionTest, AnIdleSubscriptionGetsHeartbeatsWithTheHead) {
  AppendEvents(store_, 2);
  EventSubscription::Options options = Options();
  options.heartbeat_interval = absl::Milliseconds(50);
  Recorder recorder(
      [](const SubscribeResponse& message) { return message.has_heartbeat(); });
  EventSubscription subscription(&store_, &live_, options, After(0),
                                 recorder.Sink(), NeverStop());
  EXPECT_THAT(subscription.Run(), StatusIs(absl::StatusCode::kCancelled));
  const std::vector<SubscribeResponse> messages = recorder.messages();
  ASSERT_TRUE(messages.back().has_heartbeat());
  EXPECT_EQ(messages.back().heartbeat().head_position(), 2);
}

TEST_F(EventSubscriptionTest, TheFilterSkipsEventsButNotPositions) {
  AppendEvents(store_, 2);
  AppendRequest other;
  other.stream_id = "other-1";
  other.events.push_back({"inventory.v1.ItemCreated", "{}", {}});
  ASSERT_THAT(store_.Append(other), IsOk());
  SubscribeRequest request = After(0, 100);
  request.mutable_filter()->set_stream_id_prefix("other-");
  Recorder recorder(IsCaughtUp);
  EventSubscription subscription(&store_, &live_, Options(), request,
                                 recorder.Sink(), NeverStop());
  EXPECT_THAT(subscription.Run(), StatusIs(absl::StatusCode::kCancelled));
  EXPECT_THAT(recorder.positions(), ElementsAre(3));
  EXPECT_EQ(subscription.position(), 3);
}

}  // namespace
}  // namespace inventory
