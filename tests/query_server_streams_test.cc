// The read side's streams (query_server_fixture.h): WatchItem, a query
// server started after the events, a command-service restart on the same
// port, and a break of the event stream logged once.
#include <grpcpp/grpcpp.h>

#include "tests/query_server_fixture.h"

namespace inventory::query_server_testing {
namespace {

// --- WatchItem ---------------------------------------------------------------

TEST_F(QueryServerTest, WatchItemSeesEveryChange) {
  ExpectedItem item = NewItem("watched");
  ExpectedItem bystander = NewItem("bystander");
  const int64_t created = CreateWithStock(item, 10);
  ASSERT_GT(CreateWithStock(bystander, 1), 0);

  std::unique_ptr<Watch> watch = StartWatch(queries(), item.id, created);
  v1::WatchItemResponse message;
  ASSERT_TRUE(watch->reader->Read(&message));
  // The first message: the current state.
  ExpectItemIs(message.item(), item);
  EXPECT_GE(message.position(), created);
  int64_t last_version = message.item().version();

  // In lock step: one message per change, each exactly that change.
  std::mt19937 rng(42);
  for (int i = 0; i < 30; ++i) {
    // A change of another item sends nothing.
    ASSERT_TRUE(CheckIn(commands(), bystander, 1).status.ok());
    const Reply reply = SendRandomCommand(commands(), item, rng);
    ASSERT_TRUE(reply.status.ok()) << reply.status.error_message();
    ASSERT_TRUE(watch->reader->Read(&message)) << i;
    SCOPED_TRACE(absl::StrCat("change ", i));
    ExpectItemIs(message.item(), item);
    EXPECT_EQ(message.item().version(), last_version + 1);
    EXPECT_GE(message.position(), reply.global_position);
    last_version = message.item().version();
  }

  // A burst: versions only go up, and the last message is the final state.
  for (int i = 0; i < 40; ++i) {
    ASSERT_TRUE(SendRandomCommand(commands(), item, rng).status.ok());
  }
  while (last_version < item.version) {
    ASSERT_TRUE(watch->reader->Read(&message));
    EXPECT_GT(message.item().version(), last_version);
    last_version = message.item().version();
  }
  ExpectItemIs(message.item(), item);

  watch->context.TryCancel();
  EXPECT_FALSE(watch->reader->Read(&message));
  EXPECT_THAT(watch->reader->Finish(), GrpcStatusIs(StatusCode::CANCELLED));
}

TEST_F(QueryServerTest, WatchItemEndsWhenTheServerShutsDown) {
  ExpectedItem item = NewItem("watched");
  const int64_t created = CreateWithStock(item, 0);
  std::unique_ptr<Watch> watch = StartWatch(queries(), item.id, created);
  v1::WatchItemResponse message;
  ASSERT_TRUE(watch->reader->Read(&message));
  const absl::Time start = absl::Now();
  query_->server->Shutdown(absl::Seconds(5));
  EXPECT_FALSE(watch->reader->Read(&message));
  EXPECT_THAT(watch->reader->Finish(), GrpcStatusIs(StatusCode::UNAVAILABLE));
  EXPECT_LT(absl::Now() - start, absl::Seconds(5));
}

// --- Catching up and reconnecting --------------------------------------------

TEST_F(QueryServerTest, AQueryServerStartedLaterCatchesUpToTheSameState) {
  constexpr int kThreads = 4;
  constexpr int kItemsPerThread = 25;
  constexpr int kCommandsPerThread = 200;  // 800 events, several batches
  std::vector<std::vector<ExpectedItem>> items(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    for (int i = 0; i < kItemsPerThread; ++i) {
      items[t].push_back(NewItem(absl::StrCat("late-", t, "-", i)));
    }
    threads.emplace_back([&, t] {
      std::mt19937 rng(static_cast<uint32_t>(99 + t));
      for (int c = 0; c < kCommandsPerThread; ++c) {
        const Reply reply =
            SendRandomCommand(commands(), items[t][c % kItemsPerThread], rng);
        if (!reply.status.ok()) {
          ADD_FAILURE() << reply.status.error_message();
          return;
        }
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  const int64_t head = kThreads * kCommandsPerThread;

  std::unique_ptr<QueryNode> late =
      StartQueryNode(QueryOptions(command_->server->port()));
  ASSERT_NE(late, nullptr);
  ASSERT_TRUE(AwaitHealth(*late->health, "", HealthCheckResponse::SERVING));
  // SERVING means caught up: no min_position needed.
  int64_t late_position = 0;
  const std::vector<v1::Item> late_items =
      ListAll(*late->queries, 7, 0, &late_position);
  EXPECT_EQ(late_position, head);
  const std::vector<v1::Item> early_items = ListAll(queries(), 1000, head);
  ASSERT_EQ(late_items.size(), static_cast<size_t>(kThreads * kItemsPerThread));
  ASSERT_EQ(late_items.size(), early_items.size());
  for (size_t i = 0; i < late_items.size(); ++i) {
    EXPECT_TRUE(MessageDifferencer::Equals(late_items[i], early_items[i]))
        << late_items[i].DebugString() << early_items[i].DebugString();
  }
  for (const auto& list : items) {
    for (const ExpectedItem& item : list) {
      v1::GetItemResponse response;
      ASSERT_TRUE(
          GetItem(*late->queries, ItemRequest(item.id, head), &response).ok());
      ExpectItemIs(response.item(), item);
    }
  }

  for (int64_t threshold : {0, 1, 50, 1000000}) {
    v1::GetInventoryStatsRequest request;
    request.set_low_stock_threshold(threshold);
    request.set_min_position(head);
    v1::GetInventoryStatsResponse late_stats;
    v1::GetInventoryStatsResponse early_stats;
    ASSERT_TRUE(GetStats(*late->queries, request, &late_stats).ok());
    ASSERT_TRUE(GetStats(queries(), request, &early_stats).ok());
    EXPECT_TRUE(MessageDifferencer::Equals(late_stats, early_stats))
        << late_stats.DebugString() << early_stats.DebugString();
  }

  const std::string id = items[0][0].id;
  const std::vector<v1::Event> late_history =
      HistoryOf(*late->queries, id, 3, head);
  const std::vector<v1::Event> early_history =
      HistoryOf(queries(), id, 1000, head);
  ASSERT_EQ(late_history.size(), early_history.size());
  ASSERT_EQ(static_cast<int64_t>(late_history.size()), items[0][0].version);
  for (size_t i = 0; i < late_history.size(); ++i) {
    EXPECT_TRUE(MessageDifferencer::Equals(late_history[i], early_history[i]));
  }
}

TEST_F(QueryServerTest, ReconnectsAfterTheCommandServiceRestarts) {
  ExpectedItem item = NewItem("restart");
  const int64_t before = CreateWithStock(item, 10);
  v1::GetItemResponse response;
  ASSERT_TRUE(GetItem(queries(), ItemRequest(item.id, before), &response).ok());
  const int connections_before = query_->server->subscriber().connections();

  // The command-service stops; the read side keeps answering.
  const int port = command_->server->port();
  command_.reset();
  ASSERT_TRUE(GetItem(queries(), ItemRequest(item.id, 0), &response).ok());
  EXPECT_EQ(response.item().quantity_on_hand(), 10);

  // Another writer appends while the stream is down.
  ItemCommandHandler handler(&store_, ItemCommandHandler::Options());
  const CommandEnvelope envelope{
      CheckInItems{*ItemId::Create(item.id), *Quantity::Create(5)},
      std::nullopt, "", ""};
  absl::StatusOr<CommandResult> offline = handler.Handle(envelope);
  ASSERT_TRUE(offline.ok()) << offline.status();
  item.quantity += 5;
  item.version = offline->version;

  // Back on the same port, on the same store.
  command_ = StartCommandNode(&store_, absl::StrCat("127.0.0.1:", port));
  ASSERT_NE(command_, nullptr);
  ASSERT_EQ(command_->server->port(), port);
  ASSERT_TRUE(GetItem(queries(), ItemRequest(item.id, offline->global_position),
                      &response, kWaitTimeout)
                  .ok());
  ExpectItemIs(response.item(), item);

  // Later commands arrive live.
  std::mt19937 rng(7);
  for (int i = 0; i < 20; ++i) {
    const Reply reply = SendRandomCommand(commands(), item, rng);
    ASSERT_TRUE(reply.status.ok()) << reply.status.error_message();
    ASSERT_TRUE(GetItem(queries(), ItemRequest(item.id, reply.global_position),
                        &response)
                    .ok());
    ExpectItemIs(response.item(), item);
  }
  EXPECT_GT(query_->server->subscriber().connections(), connections_before);

  // Every event exactly once, in order.
  const std::vector<v1::Event> history = HistoryOf(queries(), item.id, 0, 0);
  ASSERT_EQ(static_cast<int64_t>(history.size()), item.version);
  for (size_t i = 0; i < history.size(); ++i) {
    EXPECT_EQ(history[i].stream_version(), static_cast<int64_t>(i + 1));
    EXPECT_EQ(history[i].global_position(), static_cast<int64_t>(i + 1));
  }
}

TEST_F(QueryServerTest, LogsABreakOfTheEventStreamOnceAndItsResumption) {
  ExpectedItem item = NewItem("stream-break");
  const int64_t position = CreateWithStock(item, 4);
  v1::GetItemResponse response;
  ASSERT_TRUE(GetItem(queries(), ItemRequest(item.id, position), &response,
                      kWaitTimeout)
                  .ok());
  LogCapture log;
  const int connections = query_->server->subscriber().connections();
  const int port = command_->server->port();
  command_.reset();
  // Several attempts to reconnect fail while the command-service is away...
  ASSERT_TRUE(Eventually([&] {
    return query_->server->subscriber().connections() >= connections + 4;
  }));
  // ...but the break is one line.
  EXPECT_EQ(log.Count("event stream broken at position"), 1);
  EXPECT_EQ(log.Count(absl::StrCat("event stream broken at position ", position,
                                   ": ")),
            1);

  command_ = StartCommandNode(&store_, absl::StrCat("127.0.0.1:", port));
  ASSERT_NE(command_, nullptr);
  const std::string resumed =
      absl::StrCat("event stream resumed after position ", position);
  ASSERT_TRUE(log.WaitFor(resumed, kWaitTimeout));
  ExpectedItem later = NewItem("stream-break-later");
  const int64_t later_position = CreateWithStock(later, 0);
  ASSERT_TRUE(GetItem(queries(), ItemRequest(later.id, later_position),
                      &response, kWaitTimeout)
                  .ok());
  EXPECT_EQ(log.Count("event stream resumed"), 1);
  EXPECT_EQ(log.Count("event stream broken"), 1);
  // A broken stream leaves the read model fit to serve what it has.
  EXPECT_EQ(log.Count("health: SERVING (caught up") +
                log.Count("health: NOT_SERVING (not caught up") +
                log.Count("health: NOT_SERVING (the event log") +
                log.Count("health: NOT_SERVING (read model stopped"),
            0);
}

}  // namespace
}  // namespace inventory::query_server_testing
