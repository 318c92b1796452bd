// The read side as a real gRPC server (query_server_fixture.h): health
// (NOT_SERVING until the first catch-up), read-your-writes for many
// concurrent commands (every query with a command's global_position as
// min_position sees that command), min_position deadlines, and a filtered
// ListItems that reaches the scan limit (short pages with a token, paging
// still complete).
#include <grpcpp/grpcpp.h>

#include "tests/query_server_fixture.h"

namespace inventory::query_server_testing {
namespace {

// --- Health ------------------------------------------------------------------

TEST(QueryServerHealthTest, NotServingUntilTheFirstCatchUp) {
  InMemoryEventStore store;
  // A command-service that records some events and goes away, leaving its
  // port free for the one started later.
  std::unique_ptr<CommandNode> first = StartCommandNode(&store, "127.0.0.1:0");
  ASSERT_NE(first, nullptr);
  const int port = first->server->port();
  int64_t head = 0;
  for (int i = 0; i < 20; ++i) {
    ExpectedItem item = NewItem(absl::StrCat("item-", i));
    Reply reply = Create(*first->commands, item);
    ASSERT_TRUE(reply.status.ok()) << reply.status.error_message();
    head = reply.global_position;
  }
  first.reset();

  std::unique_ptr<QueryNode> query = StartQueryNode(QueryOptions(port));
  ASSERT_NE(query, nullptr);
  // Nothing to catch up with: NOT_SERVING, for the server and the service.
  for (const std::string service : {"", kQueryService}) {
    HealthCheckResponse::ServingStatus status;
    const grpc::Status result = CheckHealth(*query->health, service, &status);
    ASSERT_TRUE(result.ok()) << result.error_message();
    EXPECT_EQ(status, HealthCheckResponse::NOT_SERVING) << service;
  }
  HealthCheckResponse::ServingStatus unknown_status;
  EXPECT_THAT(CheckHealth(*query->health, "no.such.Service", &unknown_status),
              GrpcStatusIs(StatusCode::NOT_FOUND));
  // Queries are answered from what has been applied (nothing yet).
  v1::GetItemResponse item_response;
  EXPECT_THAT(
      GetItem(*query->queries, ItemRequest("item-0", 0), &item_response),
      GrpcStatusIs(StatusCode::NOT_FOUND));
  EXPECT_FALSE(query->server->subscriber().serving());

  // The command-service comes (back) on the same port: the query server
  // connects, catches up and only then reports SERVING.
  std::unique_ptr<CommandNode> second =
      StartCommandNode(&store, absl::StrCat("127.0.0.1:", port));
  ASSERT_NE(second, nullptr);
  for (const std::string service : {"", kQueryService}) {
    EXPECT_TRUE(
        AwaitHealth(*query->health, service, HealthCheckResponse::SERVING))
        << service;
  }
  EXPECT_TRUE(query->server->subscriber().serving());
  EXPECT_GE(query->server->model().position(), head);
  int64_t position = 0;
  EXPECT_EQ(ListAll(*query->queries, 1000, 0, &position).size(), 20u);
  EXPECT_EQ(position, head);
}

// --- Read-your-writes --------------------------------------------------------

TEST_F(QueryServerTest, EveryCommandIsVisibleAtItsGlobalPosition) {
  constexpr int kThreads = 4;
  constexpr int kItemsPerThread = 2;
  constexpr int kCommandsPerThread = 50;  // 200 commands in all
  std::vector<std::vector<ExpectedItem>> items(kThreads);
  std::vector<std::vector<int64_t>> positions(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    for (int i = 0; i < kItemsPerThread; ++i) {
      items[t].push_back(NewItem(absl::StrCat("t", t, "-i", i)));
    }
    threads.emplace_back([&, t] {
      std::mt19937 rng(static_cast<uint32_t>(1234 + t));
      for (int c = 0; c < kCommandsPerThread; ++c) {
        ExpectedItem& item = items[t][c % kItemsPerThread];
        const int64_t version_before = item.version;
        const Reply reply = SendRandomCommand(commands(), item, rng);
        if (!reply.status.ok()) {
          ADD_FAILURE() << item.id << ": " << reply.status.error_message();
          return;
        }
        EXPECT_EQ(reply.version, version_before + 1);
        const int64_t position = reply.global_position;
        positions[t].push_back(position);

        // GetItem with the command's position always sees the command (and
        // nothing later: only this thread changes this item).
        v1::GetItemResponse got;
        const grpc::Status status =
            GetItem(queries(), ItemRequest(item.id, position), &got);
        if (!status.ok()) {
          ADD_FAILURE() << item.id << ": " << status.error_message();
          return;
        }
        SCOPED_TRACE(absl::StrCat(item.id, " at position ", position));
        EXPECT_GE(got.position(), position);
        ExpectItemIs(got.item(), item);

        if (c % 5 != 4) continue;
        // The other queries, now and then.
        v1::ListItemsRequest list;
        list.set_sku_prefix(item.sku);
        list.set_min_position(position);
        v1::ListItemsResponse listed;
        ASSERT_TRUE(ListItems(queries(), list, &listed).ok());
        EXPECT_GE(listed.position(), position);
        ASSERT_EQ(listed.items_size(), 1);
        ExpectItemIs(listed.items(0), item);

        const std::vector<v1::Event> history =
            HistoryOf(queries(), item.id, 0, position);
        ASSERT_EQ(static_cast<int64_t>(history.size()), item.version);
        EXPECT_EQ(history.back().global_position(), position);
        EXPECT_EQ(history.back().stream_version(), item.version);

        v1::GetInventoryStatsRequest stats_request;
        stats_request.set_min_position(position);
        v1::GetInventoryStatsResponse stats;
        ASSERT_TRUE(GetStats(queries(), stats_request, &stats).ok());
        EXPECT_GE(stats.position(), position);
      }
    });
  }
  for (std::thread& thread : threads) thread.join();

  // 200 commands, 200 distinct positions 1..200.
  std::set<int64_t> all_positions;
  for (const auto& list : positions) {
    all_positions.insert(list.begin(), list.end());
  }
  ASSERT_EQ(all_positions.size(),
            static_cast<size_t>(kThreads * kCommandsPerThread));
  EXPECT_EQ(*all_positions.begin(), 1);
  EXPECT_EQ(*all_positions.rbegin(), kThreads * kCommandsPerThread);

  // The totals agree with what the commands did.
  int64_t active = 0;
  int64_t units = 0;
  std::map<std::string, const ExpectedItem*> by_id;
  for (const auto& list : items) {
    for (const ExpectedItem& item : list) {
      active += item.active ? 1 : 0;
      units += item.quantity;
      by_id[item.id] = &item;
    }
  }
  v1::GetInventoryStatsRequest stats_request;
  stats_request.set_min_position(*all_positions.rbegin());
  v1::GetInventoryStatsResponse stats;
  ASSERT_TRUE(GetStats(queries(), stats_request, &stats).ok());
  EXPECT_EQ(stats.item_count(), kThreads * kItemsPerThread);
  EXPECT_EQ(stats.active_item_count(), active);
  EXPECT_EQ(stats.total_quantity_on_hand(), units);
  EXPECT_EQ(stats.position(), *all_positions.rbegin());
  const std::vector<v1::Item> listed =
      ListAll(queries(), 3, *all_positions.rbegin());
  ASSERT_EQ(listed.size(), by_id.size());
  auto expected = by_id.begin();
  for (const v1::Item& item : listed) {
    ExpectItemIs(item, *(expected++)->second);
  }
}

TEST_F(QueryServerTest, EveryQueryAnswersAtLeastAtMinPosition) {
  ExpectedItem item = NewItem("rw");
  Reply reply = Create(commands(), item);
  ASSERT_TRUE(reply.status.ok());
  for (int i = 1; i <= 10; ++i) {
    reply = CheckIn(commands(), item, i);
    ASSERT_TRUE(reply.status.ok());
    const int64_t position = reply.global_position;

    v1::ListItemsRequest list;
    list.set_min_position(position);
    v1::ListItemsResponse listed;
    ASSERT_TRUE(ListItems(queries(), list, &listed).ok());
    EXPECT_GE(listed.position(), position);
    ASSERT_EQ(listed.items_size(), 1);
    EXPECT_EQ(listed.items(0).version(), reply.version);

    v1::GetItemHistoryRequest history_request;
    history_request.set_item_id(item.id);
    history_request.set_min_position(position);
    v1::GetItemHistoryResponse history;
    ASSERT_TRUE(GetItemHistory(queries(), history_request, &history).ok());
    EXPECT_GE(history.position(), position);
    ASSERT_EQ(history.events_size(), reply.version);
    EXPECT_EQ(history.events(history.events_size() - 1).global_position(),
              position);

    v1::GetInventoryStatsRequest stats_request;
    stats_request.set_min_position(position);
    stats_request.set_low_stock_threshold(1000);
    v1::GetInventoryStatsResponse stats;
    ASSERT_TRUE(GetStats(queries(), stats_request, &stats).ok());
    EXPECT_GE(stats.position(), position);
    EXPECT_EQ(stats.total_quantity_on_hand(), item.quantity);
    EXPECT_EQ(stats.low_stock_item_count(), 1);
    EXPECT_THAT(stats.low_stock_item_ids(), ::testing::ElementsAre("rw"));

    std::unique_ptr<Watch> watch = StartWatch(queries(), item.id, position);
    v1::WatchItemResponse first;
    ASSERT_TRUE(watch->reader->Read(&first));
    EXPECT_GE(first.position(), position);
    ExpectItemIs(first.item(), item);
    watch->context.TryCancel();
    EXPECT_THAT(watch->reader->Finish(), GrpcStatusIs(StatusCode::CANCELLED));
  }
}

TEST_F(QueryServerTest, AFarMinPositionEndsPromptlyWithDeadlineExceeded) {
  ExpectedItem item = NewItem("late");
  ASSERT_GT(CreateWithStock(item, 5), 0);
  constexpr absl::Duration kShort = absl::Milliseconds(300);
  // Each query with a far min_position, on `stub`, within `timeout`.
  using FarCall = std::function<grpc::Status(QueryStub&, absl::Duration)>;
  const std::vector<std::pair<std::string, FarCall>> calls = {
      {"GetItem",
       [&](QueryStub& stub, absl::Duration timeout) {
         v1::GetItemResponse response;
         return GetItem(stub, ItemRequest(item.id, kFarPosition), &response,
                        timeout);
       }},
      {"ListItems",
       [&](QueryStub& stub, absl::Duration timeout) {
         v1::ListItemsRequest request;
         request.set_min_position(kFarPosition);
         v1::ListItemsResponse response;
         return ListItems(stub, request, &response, timeout);
       }},
      {"GetItemHistory",
       [&](QueryStub& stub, absl::Duration timeout) {
         v1::GetItemHistoryRequest request;
         request.set_item_id(item.id);
         request.set_min_position(kFarPosition);
         v1::GetItemHistoryResponse response;
         return GetItemHistory(stub, request, &response, timeout);
       }},
      {"GetInventoryStats",
       [&](QueryStub& stub, absl::Duration timeout) {
         v1::GetInventoryStatsRequest request;
         request.set_min_position(kFarPosition);
         v1::GetInventoryStatsResponse response;
         return GetStats(stub, request, &response, timeout);
       }},
      {"WatchItem",
       [&](QueryStub& stub, absl::Duration timeout) {
         return WatchFails(stub, item.id, kFarPosition, timeout);
       }},
  };
  // A server whose own bound on the wait (max_wait) is far shorter than
  // the client's deadline: the DEADLINE_EXCEEDED can only be its answer.
  QueryServerOptions options = QueryOptions(command_->server->port());
  options.query.max_wait = kShort;
  std::unique_ptr<QueryNode> impatient = StartQueryNode(options);
  ASSERT_NE(impatient, nullptr);
  const QueryService& service = query_->server->query_service();
  for (const auto& [name, call] : calls) {
    SCOPED_TRACE(name);
    // The call's own short deadline ends it promptly, and with it the
    // server's waiter (which would otherwise wait max_wait, 30 s).
    absl::Time start = absl::Now();
    grpc::Status status = call(queries(), kShort);
    EXPECT_THAT(status, GrpcStatusIs(StatusCode::DEADLINE_EXCEEDED));
    EXPECT_LT(absl::Now() - start, absl::Seconds(5));
    EXPECT_TRUE(Eventually([&] { return service.waiting_queries() == 0; },
                           absl::Seconds(5)))
        << service.waiting_queries() << " queries still waiting";

    start = absl::Now();
    status = call(*impatient->queries, kWaitTimeout);
    EXPECT_THAT(status,
                GrpcStatusIs(StatusCode::DEADLINE_EXCEEDED,
                             HasSubstr("has not reached min_position")));
    EXPECT_THAT(FromGrpcStatus(status), HasReason("MIN_POSITION_NOT_REACHED"));
    EXPECT_LT(absl::Now() - start, absl::Seconds(5));
  }
  // The server is fine afterwards.
  v1::GetItemResponse response;
  ASSERT_TRUE(GetItem(queries(), ItemRequest(item.id, 0), &response).ok());
  EXPECT_EQ(response.item().quantity_on_hand(), 5);
}

TEST_F(QueryServerTest, WithoutACallDeadlineTheWaitEndsAfterMaxWait) {
  ExpectedItem item = NewItem("late");
  const int64_t head = CreateWithStock(item, 5);
  QueryServerOptions options = QueryOptions(command_->server->port());
  options.query.max_wait = absl::Milliseconds(300);
  std::unique_ptr<QueryNode> impatient = StartQueryNode(options);
  ASSERT_NE(impatient, nullptr);

  const absl::Time start = absl::Now();
  v1::GetItemResponse response;
  // No deadline: the server's max_wait bounds the wait.
  const grpc::Status status =
      GetItem(*impatient->queries, ItemRequest(item.id, kFarPosition),
              &response, absl::InfiniteDuration());
  EXPECT_LT(absl::Now() - start, absl::Seconds(5));
  EXPECT_THAT(status, GrpcStatusIs(StatusCode::DEADLINE_EXCEEDED));
  EXPECT_THAT(status.error_message(), HasSubstr("min_position"));

  // A reachable position is waited for as usual, also without a deadline.
  ASSERT_TRUE(GetItem(*impatient->queries, ItemRequest(item.id, head),
                      &response, absl::InfiniteDuration())
                  .ok());
  EXPECT_EQ(response.item().quantity_on_hand(), 5);
}

// --- Bounded cost ------------------------------------------------------------

TEST(QueryServerScanLimitTest, AFilteredListingPagesPastTheScanLimit) {
  InMemoryEventStore store;
  std::unique_ptr<CommandNode> command =
      StartCommandNode(&store, "127.0.0.1:0");
  ASSERT_NE(command, nullptr);
  QueryServerOptions options = QueryOptions(command->server->port());
  options.query.list_scan_limit = 0;
  EXPECT_THAT(QueryServer::Start(options),
              StatusIs(absl::StatusCode::kInvalidArgument));
  constexpr int64_t kLimit = 5;
  options.query.list_scan_limit = kLimit;
  std::unique_ptr<QueryNode> query = StartQueryNode(options);
  ASSERT_NE(query, nullptr);

  // 12 items; only the last one's name holds "needle".
  constexpr int kItems = 12;
  int64_t head = 0;
  for (int i = 0; i < kItems; ++i) {
    ExpectedItem item = NewItem(absl::StrFormat("scan-%02d", i));
    if (i == kItems - 1) item.name = "A NeEdLe";
    const Reply reply = Create(*command->commands, item);
    ASSERT_TRUE(reply.status.ok()) << reply.status.error_message();
    head = reply.global_position;
  }

  v1::ListItemsRequest request;
  request.set_name_contains("needle");
  request.set_page_size(10);
  request.set_min_position(head);
  std::vector<std::string> found;
  std::vector<size_t> page_sizes;
  for (int call = 0;; ++call) {
    ASSERT_LT(call, kItems) << "the listing does not end";
    v1::ListItemsResponse response;
    const grpc::Status status = ListItems(*query->queries, request, &response);
    ASSERT_TRUE(status.ok()) << status.error_message();
    page_sizes.push_back(static_cast<size_t>(response.items_size()));
    for (const v1::Item& item : response.items()) {
      found.push_back(item.item_id());
    }
    if (response.next_page_token().empty()) break;
    request.set_page_token(response.next_page_token());
  }
  // 5 + 5 items checked yield nothing but a token each; the third call
  // checks the last 2 and finds the match.
  EXPECT_THAT(page_sizes, ::testing::ElementsAre(0u, 0u, 1u));
  EXPECT_THAT(found, ::testing::ElementsAre("scan-11"));

  // A token from an empty page is still bound to its filter.
  request.set_page_token("");
  v1::ListItemsResponse first;
  ASSERT_TRUE(ListItems(*query->queries, request, &first).ok());
  ASSERT_FALSE(first.next_page_token().empty());
  request.set_name_contains("needles");
  request.set_page_token(first.next_page_token());
  v1::ListItemsResponse wrong;
  EXPECT_THAT(ListItems(*query->queries, request, &wrong),
              GrpcStatusIs(StatusCode::INVALID_ARGUMENT));
}

}  // namespace
}  // namespace inventory::query_server_testing
