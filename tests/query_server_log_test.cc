// The read side never skips (query_server_fixture.h): Subscribe out of
// range, an event it cannot project stops it there, and it rebuilds when
// the log becomes shorter than its checkpoint or is replaced.
#include <grpcpp/grpcpp.h>

#include "tests/query_server_fixture.h"

namespace inventory::query_server_testing {
namespace {

using ::testing::_;

// Subscribes with `request`: OK with the first message in *first, or the
// status the subscription ended with before sending any.
grpc::Status FirstMessage(v1::EventStreamService::Stub& events,
                          const v1::SubscribeRequest& request,
                          v1::SubscribeResponse* first) {
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(Deadline(kCallTimeout)));
  auto reader = events.Subscribe(&context, request);
  if (reader->Read(first)) {
    context.TryCancel();
    reader->Finish();
    return grpc::Status::OK;
  }
  return reader->Finish();
}

// --- The read side never skips -----------------------------------------------

TEST_F(QueryServerTest, SubscribePastTheHeadIsOutOfRangeNamingBothPositions) {
  ExpectedItem item = NewItem("head");
  const int64_t head = CreateWithStock(item, 3);
  ASSERT_EQ(head, 2);
  auto events = v1::EventStreamService::NewStub(command_->channel);
  auto subscribe = [&](int64_t after, v1::SubscribeResponse* first) {
    v1::SubscribeRequest request;
    request.set_after_position(after);
    return FirstMessage(*events, request, first);
  };

  v1::SubscribeResponse first;
  const grpc::Status beyond = subscribe(head + 5, &first);
  EXPECT_THAT(beyond, GrpcStatusIs(StatusCode::OUT_OF_RANGE))
      << beyond.error_message();
  EXPECT_THAT(beyond.error_message(), HasSubstr("after_position 7"));
  EXPECT_THAT(beyond.error_message(), HasSubstr("head position 2"));
  const std::optional<ErrorReason> reason =
      ErrorReasonOf(FromGrpcStatus(beyond));
  ASSERT_TRUE(reason.has_value()) << beyond.error_message();
  EXPECT_EQ(reason->reason, reason::kLogPositionOutOfRange);
  EXPECT_EQ(reason->metadata,
            (std::map<std::string, std::string>{{"requested_position", "7"},
                                                {"head_position", "2"}}));

  // At the head exactly: caught up at once.
  ASSERT_TRUE(subscribe(head, &first).ok());
  ASSERT_TRUE(first.has_caught_up()) << first.ShortDebugString();
  EXPECT_EQ(first.caught_up().head_position(), head);
}

TEST_F(QueryServerTest, SubscribeAfterAnEventTheLogDoesNotHoldIsOutOfRange) {
  ExpectedItem item = NewItem("diverged");
  ASSERT_EQ(CreateWithStock(item, 3), 2);
  const std::string first_id = (*store_.ReadAll(0, 1))[0].event_id;
  auto events = v1::EventStreamService::NewStub(command_->channel);
  auto subscribe = [&](int64_t after, const std::string& event_id,
                       v1::SubscribeResponse* first) {
    v1::SubscribeRequest request;
    request.set_after_position(after);
    request.set_after_event_id(event_id);
    return FirstMessage(*events, request, first);
  };

  v1::SubscribeResponse first;
  const std::string other = "00000000-0000-4000-8000-000000000000";
  const grpc::Status diverged = subscribe(1, other, &first);
  EXPECT_THAT(diverged, GrpcStatusIs(StatusCode::OUT_OF_RANGE))
      << diverged.error_message();
  const std::optional<ErrorReason> reason =
      ErrorReasonOf(FromGrpcStatus(diverged));
  ASSERT_TRUE(reason.has_value()) << diverged.error_message();
  EXPECT_EQ(reason->reason, reason::kLogDiverged);
  EXPECT_EQ(reason->metadata, (std::map<std::string, std::string>{
                                  {"position", "1"},
                                  {"expected_event_id", other},
                                  {"actual_event_id", first_id}}));

  // The right id: the events after it.
  ASSERT_TRUE(subscribe(1, first_id, &first).ok());
  ASSERT_EQ(first.event().global_position(), 2) << first.ShortDebugString();

  // An id needs a position.
  EXPECT_THAT(subscribe(0, first_id, &first),
              GrpcStatusIs(StatusCode::INVALID_ARGUMENT));
}

TEST_F(QueryServerTest, StopsAtAnEventItCannotProjectAndNeverSkipsIt) {
  ExpectedItem before = NewItem("before");
  const int64_t stop_after = CreateWithStock(before, 5);
  // An event of a type neither service knows, as a newer writer would
  // record it, between two known ones.
  AppendRequest unknown;
  unknown.stream_id = "item-teleported";
  unknown.events.push_back(
      {"inventory.v1.ItemTeleported", R"({"itemId":"teleported"})", {}});
  absl::StatusOr<AppendResult> appended = store_.Append(unknown);
  ASSERT_TRUE(appended.ok()) << appended.status();
  ASSERT_EQ(appended->global_position, stop_after + 1);
  ExpectedItem after = NewItem("after");
  const Reply created = Create(commands(), after);
  ASSERT_TRUE(created.status.ok()) << created.status.error_message();

  ASSERT_TRUE(
      AwaitHealth(*query_->health, "", HealthCheckResponse::NOT_SERVING));
  const InventoryReadModel& model = query_->server->model();
  EXPECT_EQ(model.position(), stop_after);
  const std::optional<ProjectionStop> stop = model.stop();
  ASSERT_TRUE(stop.has_value());
  EXPECT_EQ(stop->global_position, stop_after + 1);
  EXPECT_EQ(stop->event_type, "inventory.v1.ItemTeleported");

  // It subscribes again now and then, and never gets past the event.
  const int connections = query_->server->subscriber().connections();
  ASSERT_TRUE(Eventually([&] {
    return query_->server->subscriber().connections() >= connections + 3;
  }));
  EXPECT_EQ(model.position(), stop_after);
  EXPECT_FALSE(query_->server->subscriber().serving());

  // Queries answer at the position before the event; nothing after it.
  v1::GetItemResponse response;
  ASSERT_TRUE(GetItem(queries(), ItemRequest(before.id, 0), &response).ok());
  ExpectItemIs(response.item(), before);
  EXPECT_EQ(response.position(), stop_after);
  EXPECT_THAT(GetItem(queries(), ItemRequest(after.id, 0), &response),
              GrpcStatusIs(StatusCode::NOT_FOUND));
  int64_t position = 0;
  EXPECT_EQ(ListAll(queries(), 10, 0, &position).size(), 1u);
  EXPECT_EQ(position, stop_after);
  v1::GetInventoryStatsResponse stats;
  ASSERT_TRUE(GetStats(queries(), v1::GetInventoryStatsRequest(), &stats).ok());
  EXPECT_EQ(stats.position(), stop_after);
  EXPECT_EQ(stats.item_count(), 1);

  // A min_position beyond it is UNAVAILABLE at once, never a wrong answer.
  const absl::Time start = absl::Now();
  const grpc::Status beyond = GetItem(
      queries(), ItemRequest(before.id, created.global_position), &response);
  EXPECT_THAT(beyond, GrpcStatusIs(StatusCode::UNAVAILABLE))
      << beyond.error_message();
  EXPECT_THAT(beyond.error_message(),
              HasSubstr(absl::StrCat("position ", stop_after + 1)));
  EXPECT_THAT(beyond.error_message(), HasSubstr("inventory.v1.ItemTeleported"));
  EXPECT_LT(absl::Now() - start, kCallTimeout / 2);
  ASSERT_TRUE(
      GetItem(queries(), ItemRequest(before.id, stop_after), &response).ok());
}

// Writes the shorter log: 3 events of items "short-1" and "short-2".
std::vector<ExpectedItem> WriteShorterLog(EventStore* store) {
  std::unique_ptr<CommandNode> node = StartCommandNode(store, "127.0.0.1:0");
  if (node == nullptr) return {};
  std::vector<ExpectedItem> items = {NewItem("short-1"), NewItem("short-2")};
  EXPECT_TRUE(Create(*node->commands, items[0]).status.ok());
  EXPECT_TRUE(CheckIn(*node->commands, items[0], 4).status.ok());
  EXPECT_TRUE(Create(*node->commands, items[1]).status.ok());
  return items;
}

// Writes 10 events of items "long-1" and "long-2"; returns the head.
int64_t WriteLongerLog(CommandStub& commands) {
  ExpectedItem one = NewItem("long-1");
  ExpectedItem two = NewItem("long-2");
  EXPECT_TRUE(Create(commands, one).status.ok());
  EXPECT_TRUE(Create(commands, two).status.ok());
  Reply last;
  for (int i = 0; i < 8; ++i) {
    last = CheckIn(commands, i % 2 == 0 ? one : two, 1 + i);
    EXPECT_TRUE(last.status.ok()) << last.status.error_message();
  }
  return last.global_position;
}

// The query node answers exactly the shorter log: its two items, at
// position 3, and nothing of the longer one.
void ExpectExactlyTheShorterLog(QueryNode& query,
                                const std::vector<ExpectedItem>& items) {
  int64_t position = 0;
  const std::vector<v1::Item> listed =
      ListAll(*query.queries, 10, 0, &position);
  EXPECT_EQ(position, 3);
  ASSERT_EQ(listed.size(), items.size());
  for (size_t i = 0; i < items.size(); ++i) ExpectItemIs(listed[i], items[i]);
  v1::GetItemResponse response;
  EXPECT_THAT(GetItem(*query.queries, ItemRequest("long-1", 0), &response),
              GrpcStatusIs(StatusCode::NOT_FOUND));
  v1::GetInventoryStatsResponse stats;
  ASSERT_TRUE(
      GetStats(*query.queries, v1::GetInventoryStatsRequest(), &stats).ok());
  EXPECT_EQ(stats.item_count(), 2);
  EXPECT_EQ(stats.total_quantity_on_hand(), 4);
  EXPECT_EQ(stats.position(), 3);
}

TEST(QueryServerLogTest, RebuildsWhenTheCommandServiceReturnsWithAShorterLog) {
  LogCapture log;
  InMemoryEventStore shorter;
  const std::vector<ExpectedItem> short_items = WriteShorterLog(&shorter);
  ASSERT_EQ(short_items.size(), 2u);
  InMemoryEventStore longer;
  std::unique_ptr<CommandNode> command =
      StartCommandNode(&longer, "127.0.0.1:0");
  ASSERT_NE(command, nullptr);
  const int port = command->server->port();
  const int64_t head = WriteLongerLog(*command->commands);
  ASSERT_EQ(head, 10);
  std::unique_ptr<QueryNode> query = StartQueryNode(QueryOptions(port));
  ASSERT_NE(query, nullptr);
  v1::GetItemResponse response;
  ASSERT_TRUE(GetItem(*query->queries, ItemRequest("long-1", head), &response,
                      kWaitTimeout)
                  .ok());
  ASSERT_TRUE(AwaitHealth(*query->health, "", HealthCheckResponse::SERVING));

  // The command-service comes back on the same port with a restored,
  // shorter log.
  command.reset();
  command = StartCommandNode(&shorter, absl::StrCat("127.0.0.1:", port));
  ASSERT_NE(command, nullptr);
  ASSERT_TRUE(Eventually([&] {
    return query->server->subscriber().rebuilds() == 1 &&
           query->server->subscriber().serving();
  }));
  ASSERT_TRUE(AwaitHealth(*query->health, "", HealthCheckResponse::SERVING));
  ExpectExactlyTheShorterLog(*query, short_items);
  // Each change of health logged once, with its reason: not caught up at
  // the start, caught up, rebuilding, caught up again.
  EXPECT_EQ(log.Count("health: NOT_SERVING (not caught up with the event "
                      "log yet)"),
            1);
  EXPECT_EQ(log.Count("health: SERVING (caught up with the event log at "
                      "position 10)"),
            1);
  EXPECT_EQ(log.Count("health: NOT_SERVING (the event log is shorter than "
                      "the read model; rebuilding it from position 0)"),
            1);
  EXPECT_EQ(log.Count("health: SERVING (caught up with the event log at "
                      "position 3)"),
            1);
  // The command-service's own lines ("health: SERVING (database
  // answers)") are not the query-service's.
  EXPECT_EQ(log.Count("health: SERVING (caught up") +
                log.Count("health: NOT_SERVING (not caught up") +
                log.Count("health: NOT_SERVING (the event log"),
            4);

  // It follows the shorter log from there.
  ExpectedItem next = NewItem("short-3");
  const Reply created = Create(*command->commands, next);
  ASSERT_TRUE(created.status.ok()) << created.status.error_message();
  EXPECT_EQ(created.global_position, 4);
  ASSERT_TRUE(
      GetItem(*query->queries, ItemRequest(next.id, 4), &response).ok());
  ExpectItemIs(response.item(), next);
  EXPECT_EQ(query->server->subscriber().rebuilds(), 1);
}

// A restore that lost events, then more writes: the log is longer than
// the read model again, but is another log. Positions alone cannot tell;
// the event id at the checkpoint can.
TEST(QueryServerLogTest, RebuildsWhenTheCommandServiceReturnsWithAnotherLog) {
  InMemoryEventStore replaced;
  std::vector<ExpectedItem> replaced_items = WriteShorterLog(&replaced);
  ASSERT_EQ(replaced_items.size(), 2u);
  {
    std::unique_ptr<CommandNode> writer =
        StartCommandNode(&replaced, "127.0.0.1:0");
    ASSERT_NE(writer, nullptr);
    replaced_items.push_back(NewItem("other-1"));
    ASSERT_TRUE(Create(*writer->commands, replaced_items[2]).status.ok());
    for (int i = 0; i < 8; ++i) {
      ASSERT_TRUE(CheckIn(*writer->commands, replaced_items[2], 1).status.ok());
    }
  }
  ASSERT_EQ(*replaced.HeadPosition(), 12);
  InMemoryEventStore longer;
  std::unique_ptr<CommandNode> command =
      StartCommandNode(&longer, "127.0.0.1:0");
  ASSERT_NE(command, nullptr);
  const int port = command->server->port();
  ASSERT_EQ(WriteLongerLog(*command->commands), 10);
  std::unique_ptr<QueryNode> query = StartQueryNode(QueryOptions(port));
  ASSERT_NE(query, nullptr);
  v1::GetItemResponse response;
  ASSERT_TRUE(GetItem(*query->queries, ItemRequest("long-1", 10), &response,
                      kWaitTimeout)
                  .ok());

  command.reset();
  command = StartCommandNode(&replaced, absl::StrCat("127.0.0.1:", port));
  ASSERT_NE(command, nullptr);
  ASSERT_TRUE(Eventually([&] {
    return query->server->subscriber().rebuilds() == 1 &&
           query->server->subscriber().serving();
  })) << "the query-service resumed after position 10 of another log";
  ASSERT_TRUE(
      GetItem(*query->queries, ItemRequest("other-1", 12), &response).ok());
  EXPECT_EQ(response.item().quantity_on_hand(), 8);
  EXPECT_EQ(response.position(), 12);
  EXPECT_THAT(GetItem(*query->queries, ItemRequest("long-1", 0), &response),
              GrpcStatusIs(StatusCode::NOT_FOUND));
  int64_t position = 0;
  EXPECT_EQ(ListAll(*query->queries, 10, 0, &position).size(), 3u);
  EXPECT_EQ(position, 12);
}

TEST(QueryServerLogTest, RebuildsWhenTheLogShrinksUnderALiveSubscription) {
  InMemoryEventStore shorter;
  const std::vector<ExpectedItem> short_items = WriteShorterLog(&shorter);
  ASSERT_EQ(short_items.size(), 2u);
  InMemoryEventStore longer;
  // The command-service's store: `longer` until the database is "restored"
  // under it, then `shorter` for every call that reads or waits (nothing is
  // appended after the restore).
  std::atomic<bool> restored{false};
  auto current = [&]() -> EventStore& {
    if (restored) return shorter;
    return longer;
  };
  NiceMockEventStore store(&longer);
  ON_CALL(store, ReadAll(_, _))
      .WillByDefault([&](int64_t after_position, int64_t max_count) {
        return current().ReadAll(after_position, max_count);
      });
  ON_CALL(store, HeadPosition()).WillByDefault([&] {
    return current().HeadPosition();
  });
  ON_CALL(store, WaitForEventsAfter(_, _))
      .WillByDefault([&](int64_t after_position, absl::Time deadline) {
        return current().WaitForEventsAfter(after_position, deadline);
      });
  ON_CALL(store, StopWaiting()).WillByDefault([&] { current().StopWaiting(); });
  CommandServerOptions options = CommandOptions("127.0.0.1:0");
  options.live.head_check_interval = absl::Milliseconds(100);
  auto command = test_support::StartInProcessCommandService(&store, options);
  ASSERT_THAT(command, IsOk());
  const int64_t head = WriteLongerLog(*(*command)->commands);
  ASSERT_EQ(head, 10);
  std::unique_ptr<QueryNode> query =
      StartQueryNode(QueryOptions((*command)->server->port()));
  ASSERT_NE(query, nullptr);
  v1::GetItemResponse response;
  ASSERT_TRUE(GetItem(*query->queries, ItemRequest("long-1", head), &response,
                      kWaitTimeout)
                  .ok());

  // The database is restored under the running command-service.
  restored = true;
  ASSERT_TRUE(Eventually([&] {
    return query->server->subscriber().rebuilds() == 1 &&
           query->server->subscriber().serving();
  }));
  ASSERT_TRUE(AwaitHealth(*query->health, "", HealthCheckResponse::SERVING));
  ExpectExactlyTheShorterLog(*query, short_items);
}

}  // namespace
}  // namespace inventory::query_server_testing
