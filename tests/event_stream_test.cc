// EventStreamService through a real gRPC server (command_server_fixture.h),
// over both event stores: catch-up, CaughtUp, live events, heartbeats,
// resuming, filters, batches, a slow subscriber that falls out of the live
// window and many subscribers.
#include <grpcpp/grpcpp.h>

#include "tests/command_server_fixture.h"
#include "tests/support/channels.h"

namespace inventory::command_server_testing {
namespace {

class EventStreamTest : public ServerTest {};

TEST_P(EventStreamTest, CatchUpThenCaughtUpThenLiveThenHeartbeat) {
  ASSERT_TRUE(Applied(Send(Create("a")), "a", 1, 1));
  ASSERT_TRUE(Applied(Send(CheckIn("a", 5)), "a", 2, 2));
  ASSERT_TRUE(Applied(Send(Rename("a", "Renamed")), "a", 3, 3));

  auto subscription = SubscribeCaughtUp();
  Messages messages = subscription->messages();
  ASSERT_GE(messages.size(), 4u);
  EXPECT_EQ(CaughtUpIndex(messages), 3) << Describe(messages);
  EXPECT_THAT(PositionsOf(Messages(messages.begin(), messages.begin() + 3)),
              ElementsAre(1, 2, 3));
  EXPECT_EQ(messages[3].caught_up().head_position(), 3);

  // Live.
  ASSERT_TRUE(Applied(Send(CheckIn("a", 7)), "a", 4, 4));
  ASSERT_TRUE(Applied(Send(Create("b")), "b", 1, 5));
  ASSERT_TRUE(subscription->WaitFor(HasEventsThrough(5)))
      << Describe(subscription->messages());
  messages = subscription->messages();
  const Messages live(messages.begin() + CaughtUpIndex(messages) + 1,
                      messages.end());
  const std::vector<v1::Event> live_events = EventsOf(live);
  ASSERT_THAT(PositionsOf(live_events), ElementsAre(4, 5)) << Describe(live);
  EXPECT_EQ(live_events[0].items_checked_in().quantity(), 7);
  EXPECT_EQ(live_events[1].item_created().item_id(), "b");

  // Idle: heartbeats, reporting the head.
  const size_t seen = messages.size();
  ASSERT_TRUE(subscription->WaitFor([seen](const Messages& m) {
    for (size_t i = seen; i < m.size(); ++i) {
      if (m[i].has_heartbeat()) return true;
    }
    return false;
  })) << Describe(subscription->messages());
  messages = subscription->messages();
  for (size_t i = seen; i < messages.size(); ++i) {
    ASSERT_TRUE(messages[i].has_heartbeat()) << Describe(messages);
    EXPECT_EQ(messages[i].heartbeat().head_position(), 5);
    EXPECT_GT(messages[i].heartbeat().sent_at().seconds(), 0);
  }
  EXPECT_EQ(CountCaughtUp(messages), 1) << Describe(messages);
  EXPECT_THAT(PositionsOf(messages), ElementsAreArray(Range(1, 5)));
  EXPECT_FALSE(subscription->ended());
}

TEST_P(EventStreamTest, EmptyLogCatchesUpAtZero) {
  auto subscription = SubscribeCaughtUp();
  Messages messages = subscription->messages();
  ASSERT_FALSE(messages.empty());
  ASSERT_TRUE(messages[0].has_caught_up()) << Describe(messages);
  EXPECT_EQ(messages[0].caught_up().head_position(), 0);
  ASSERT_TRUE(Applied(Send(Create("first")), "first", 1, 1));
  ASSERT_TRUE(subscription->WaitFor(HasEventsThrough(1)));
  EXPECT_THAT(PositionsOf(subscription->messages()), ElementsAre(1));
}

TEST_P(EventStreamTest, ResumingAfterAPositionGivesExactlyTheLaterEvents) {
  for (const char* id : {"a", "b", "c"}) {
    ASSERT_TRUE(Send(Create(id)).status.ok());
    ASSERT_TRUE(Send(CheckIn(id, 2)).status.ok());
  }
  ASSERT_EQ(Head(), 6);
  const std::vector<int64_t> starts = {0, 2, 5, 6};
  std::vector<std::unique_ptr<Subscription>> subscriptions;
  for (int64_t start : starts) {
    subscriptions.push_back(SubscribeCaughtUp(start));
  }
  for (size_t i = 0; i < starts.size(); ++i) {
    SCOPED_TRACE(absl::StrCat("after_position ", starts[i]));
    const Messages messages = subscriptions[i]->messages();
    const int caught_up = CaughtUpIndex(messages);
    ASSERT_GE(caught_up, 0);
    EXPECT_EQ(messages[caught_up].caught_up().head_position(), 6);
    EXPECT_THAT(
        PositionsOf(Messages(messages.begin(), messages.begin() + caught_up)),
        ElementsAreArray(Range(starts[i] + 1, 6)));
  }
  // And each goes on live from there.
  ASSERT_TRUE(Applied(Send(CheckIn("a", 1)), "a", 3, 7));
  for (size_t i = 0; i < starts.size(); ++i) {
    SCOPED_TRACE(absl::StrCat("after_position ", starts[i]));
    ASSERT_TRUE(subscriptions[i]->WaitFor(HasEventsThrough(7)));
    const Messages messages = subscriptions[i]->messages();
    EXPECT_THAT(PositionsOf(messages),
                ElementsAreArray(Range(starts[i] + 1, 7)));
    EXPECT_EQ(CountCaughtUp(messages), 1);
  }
}

TEST_P(EventStreamTest, FiltersByEventTypeAndStreamPrefix) {
  ASSERT_TRUE(Applied(Send(Create("a1")), "a1", 1, 1));
  ASSERT_TRUE(Applied(Send(Create("a2")), "a2", 1, 2));
  ASSERT_TRUE(Applied(Send(Create("b1")), "b1", 1, 3));
  ASSERT_TRUE(Applied(Send(CheckIn("a1", 1)), "a1", 2, 4));
  ASSERT_TRUE(Applied(Send(CheckIn("b1", 1)), "b1", 2, 5));
  ASSERT_TRUE(Applied(Send(Rename("a2", "Renamed")), "a2", 2, 6));

  v1::SubscribeRequest by_type;
  by_type.mutable_filter()->add_event_types(kCheckedIn);
  v1::SubscribeRequest by_prefix;
  by_prefix.mutable_filter()->set_stream_id_prefix("item-a");
  v1::SubscribeRequest by_both;
  by_both.mutable_filter()->add_event_types(kCheckedIn);
  by_both.mutable_filter()->add_event_types(kRenamed);
  by_both.mutable_filter()->set_stream_id_prefix("item-a");
  const std::vector<v1::SubscribeRequest> requests = {by_type, by_prefix,
                                                      by_both};
  std::vector<std::unique_ptr<Subscription>> subscriptions;
  for (const auto& request : requests) {
    subscriptions.push_back(Subscribe(request));
    ASSERT_TRUE(subscriptions.back()->WaitFor(HasCaughtUp));
  }

  // Live: each filter lets some of these through and not others.
  ASSERT_TRUE(Applied(Send(CheckIn("b1", 1)), "b1", 3, 7));
  ASSERT_TRUE(Applied(Send(Rename("a1", "Renamed")), "a1", 3, 8));
  ASSERT_TRUE(Applied(Send(Create("a3")), "a3", 1, 9));
  ASSERT_TRUE(Applied(Send(CheckIn("a3", 1)), "a3", 2, 10));

  const std::vector<std::vector<int64_t>> expected = {
      {4, 5, 7, 10},
      {1, 2, 4, 6, 8, 9, 10},
      {4, 6, 8, 10},
  };
  for (size_t i = 0; i < requests.size(); ++i) {
    SCOPED_TRACE(requests[i].ShortDebugString());
    // Position 10 matches every filter and comes last, so once it has
    // arrived every earlier match has too, and nothing else may have.
    ASSERT_TRUE(subscriptions[i]->WaitFor(HasEventsThrough(10)))
        << Describe(subscriptions[i]->messages());
    const Messages messages = subscriptions[i]->messages();
    EXPECT_THAT(PositionsOf(messages), ElementsAreArray(expected[i]))
        << Describe(messages);
    EXPECT_EQ(CountCaughtUp(messages), 1);
    EXPECT_EQ(messages[CaughtUpIndex(messages)].caught_up().head_position(), 6);
    const auto& filter = requests[i].filter();
    for (const v1::Event& event : EventsOf(messages)) {
      EXPECT_TRUE(
          absl::StartsWith(event.stream_id(), filter.stream_id_prefix()));
      if (!filter.event_types().empty()) {
        EXPECT_THAT(filter.event_types(),
                    ::testing::Contains(event.event_type()));
      }
    }
  }
}

TEST_P(EventStreamTest, InvalidRequestIsInvalidArgumentNamingTheField) {
  ASSERT_TRUE(Applied(Send(Create("a")), "a", 1, 1));
  v1::SubscribeRequest negative = After(-1);
  v1::SubscribeRequest unknown_type;
  unknown_type.mutable_filter()->add_event_types("inventory.v1.ItemDeleted");
  v1::SubscribeRequest unqualified_type;
  unqualified_type.mutable_filter()->add_event_types(kCreated);
  unqualified_type.mutable_filter()->add_event_types("ItemCreated");
  v1::SubscribeRequest long_prefix;
  long_prefix.mutable_filter()->set_stream_id_prefix(std::string(257, 'p'));
  v1::SubscribeRequest negative_batch;
  negative_batch.set_max_events_per_message(-1);
  const std::vector<std::pair<v1::SubscribeRequest, std::string>> cases = {
      {negative, "after_position"},
      {unknown_type, "filter.event_types"},
      {unqualified_type, "filter.event_types"},
      {long_prefix, "filter.stream_id_prefix"},
      {negative_batch, "max_events_per_message"},
  };
  for (const auto& [request, field] : cases) {
    SCOPED_TRACE(request.ShortDebugString());
    auto subscription = Subscribe(request);
    const std::optional<grpc::Status> end = subscription->WaitForEnd();
    ASSERT_TRUE(end.has_value()) << "stream did not end";
    EXPECT_TRUE(NamesField(*end, field));
    EXPECT_THAT(subscription->messages(), ::testing::IsEmpty());
  }
}

// Asked for batches, the stream sends the same events in the same order,
// several per message (never more than asked), in catch-up and live.
TEST_P(EventStreamTest, BatchedSubscriptionCarriesEveryEventInOrder) {
  constexpr int kItems = 40;
  for (int i = 1; i <= kItems; ++i) {
    ASSERT_TRUE(Applied(Send(Create(absl::StrCat("b", i))),
                        absl::StrCat("b", i), 1, i));
  }
  v1::SubscribeRequest request = After(3);
  request.set_max_events_per_message(16);
  auto batched = Subscribe(request);
  ASSERT_TRUE(batched->WaitFor(HasCaughtUp)) << Describe(batched->messages());
  ASSERT_TRUE(Applied(Send(CheckIn("b1", 2)), "b1", 2, kItems + 1));
  ASSERT_TRUE(batched->WaitFor(HasEventsThrough(kItems + 1)))
      << Describe(batched->messages());

  const Messages messages = batched->messages();
  EXPECT_EQ(PositionsOf(messages), Range(4, kItems + 1));
  size_t largest = 0;
  for (const auto& message : messages) {
    EXPECT_FALSE(message.has_event()) << Describe(messages);
    largest = std::max<size_t>(largest, message.events().events_size());
  }
  EXPECT_GT(largest, 1u) << Describe(messages);
  EXPECT_LE(largest, 16u) << Describe(messages);
  // The catch-up events all precede the CaughtUp marker.
  const int caught_up = CaughtUpIndex(messages);
  EXPECT_EQ(
      PositionsOf(Messages(messages.begin(), messages.begin() + caught_up)),
      Range(4, kItems));
  // Each event is whole: a payload and its envelope.
  for (const v1::Event& event : EventsOf(messages)) {
    EXPECT_NE(event.payload_case(), v1::Event::PAYLOAD_NOT_SET);
    EXPECT_FALSE(event.event_id().empty());
  }
}

// A subscriber that reads nothing while many events are appended falls out
// of the small live window; a fast subscriber meanwhile gets every event
// live. Afterwards the slow one still gets everything, complete and in
// order, from the store.
TEST_P(EventStreamTest, SlowSubscriberFallsBackToTheStoreWhileFastOneIsLive) {
  constexpr int kWriters = 4;
  constexpr int kPerWriter = 500;
  constexpr int64_t kTotal = kWriters * kPerWriter;

  // The slow subscriber has a connection of its own, with HTTP/2 flow
  // control at its default window (no BDP growth): the server can push only
  // a few dozen kilobytes at it before its writes block.
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_HTTP2_BDP_PROBE, 0);
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  auto slow_channel = test_support::ChannelTo(node_->target(), "", args);
  auto slow_stub = v1::EventStreamService::NewStub(slow_channel);
  Subscription slow(*slow_stub, After(0), /*read_in_background=*/false);
  v1::SubscribeResponse first;
  ASSERT_TRUE(slow.ReadNow(&first));
  ASSERT_TRUE(first.has_caught_up()) << first.ShortDebugString();
  EXPECT_EQ(first.caught_up().head_position(), 0);

  auto fast = SubscribeCaughtUp();

  // Watches the size of the live window while the events are appended.
  absl::Mutex monitor_mu;
  bool monitor_done = false;
  size_t max_window = 0;
  std::thread monitor([&] {
    absl::MutexLock lock(&monitor_mu);
    while (!monitor_done) {
      max_window = std::max(max_window, node_->server().live_buffer().size());
      monitor_mu.AwaitWithTimeout(absl::Condition(&monitor_done),
                                  absl::Milliseconds(1));
    }
    max_window = std::max(max_window, node_->server().live_buffer().size());
  });

  // Large names make large events, so the slow stream's flow-control window
  // fills after a small part of them.
  std::atomic<int> failures{0};
  std::vector<std::thread> writers;
  for (int w = 0; w < kWriters; ++w) {
    writers.emplace_back([&, w] {
      for (int i = 0; i < kPerWriter; ++i) {
        const Reply reply = Send(Create(
            absl::StrCat("slow-", w, "-", i), "SKU-1",
            absl::StrCat("Item ", w, "-", i, " ", std::string(180, 'x'))));
        if (!reply.status.ok() && failures++ == 0) {
          ADD_FAILURE() << Describe(reply.status);
        }
      }
    });
  }
  for (std::thread& writer : writers) writer.join();
  ASSERT_EQ(failures.load(), 0);
  ASSERT_EQ(Head(), kTotal);

  // The fast subscriber has every event, live (after its CaughtUp).
  ASSERT_TRUE(fast->WaitFor(HasEventsThrough(kTotal)))
      << "fast subscriber stopped at " << PositionsOf(fast->messages()).size()
      << " events";
  {
    absl::MutexLock lock(&monitor_mu);
    monitor_done = true;
  }
  monitor.join();
  const Messages fast_messages = fast->messages();
  ASSERT_EQ(CaughtUpIndex(fast_messages), 0);
  EXPECT_EQ(CountCaughtUp(fast_messages), 1);
  const std::vector<v1::Event> fast_events = EventsOf(fast_messages);
  ASSERT_THAT(PositionsOf(fast_events), ElementsAreArray(Range(1, kTotal)));
  EXPECT_GT(max_window, 0u);
  EXPECT_LE(max_window, kLiveCapacity);
  EXPECT_LE(node_->server().live_buffer().size(), kLiveCapacity);

  // Now the slow one reads. Everything it had not been sent yet is far out
  // of the window, so it is read from the store: ReadAll() calls well
  // behind the head (the window's own tailing reads at the head).
  node_->CountReadsBelow(kTotal - static_cast<int64_t>(kLiveCapacity));
  slow.StartReading();
  ASSERT_TRUE(slow.WaitFor(HasEventsThrough(kTotal)))
      << "slow subscriber stopped at " << PositionsOf(slow.messages()).size()
      << " events";
  const Messages slow_messages = slow.messages();
  EXPECT_EQ(CountCaughtUp(slow_messages), 1);
  const std::vector<v1::Event> slow_events = EventsOf(slow_messages);
  ASSERT_THAT(PositionsOf(slow_events), ElementsAreArray(Range(1, kTotal)));
  for (int64_t i = 0; i < kTotal; ++i) {
    ASSERT_EQ(slow_events[i].SerializeAsString(),
              fast_events[i].SerializeAsString())
        << "position " << i + 1;
  }
  EXPECT_GT(node_->reads_below.load(), 0)
      << "the slow subscriber was never served from the store";
  EXPECT_LE(node_->server().live_buffer().size(), kLiveCapacity);
  EXPECT_FALSE(slow.ended());
}

TEST_P(EventStreamTest, FiftySubscribersAllReceiveTheSameEvents) {
  constexpr int kSubscribers = 50;
  ASSERT_TRUE(Applied(Send(Create("m0")), "m0", 1, 1));
  ASSERT_TRUE(Applied(Send(CheckIn("m0", 3)), "m0", 2, 2));
  std::vector<std::unique_ptr<Subscription>> subscriptions;
  for (int i = 0; i < kSubscribers; ++i) subscriptions.push_back(Subscribe());
  for (auto& subscription : subscriptions) {
    ASSERT_TRUE(subscription->WaitFor(HasCaughtUp));
  }
  for (int i = 1; i <= 10; ++i) {
    const std::string id = absl::StrCat("m", i);
    ASSERT_TRUE(Send(Create(id)).status.ok());
    ASSERT_TRUE(Send(CheckIn(id, i)).status.ok());
  }
  constexpr int64_t kTotal = 22;
  ASSERT_EQ(Head(), kTotal);

  std::vector<std::string> reference;
  for (int i = 0; i < kSubscribers; ++i) {
    SCOPED_TRACE(absl::StrCat("subscriber ", i));
    ASSERT_TRUE(subscriptions[i]->WaitFor(HasEventsThrough(kTotal)))
        << Describe(subscriptions[i]->messages());
    const Messages messages = subscriptions[i]->messages();
    EXPECT_EQ(CountCaughtUp(messages), 1);
    const std::vector<v1::Event> events = EventsOf(messages);
    ASSERT_THAT(PositionsOf(events), ElementsAreArray(Range(1, kTotal)));
    std::vector<std::string> serialized;
    for (const v1::Event& event : events) {
      serialized.push_back(event.SerializeAsString());
    }
    if (i == 0) {
      reference = serialized;
    } else {
      EXPECT_TRUE(serialized == reference) << "differs from subscriber 0";
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Stores, EventStreamTest,
                         ::testing::Values(StoreKind::kInMemory,
                                           StoreKind::kPostgres),
                         StoreKindName);

}  // namespace
}  // namespace inventory::command_server_testing
