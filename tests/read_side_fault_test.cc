// The read side against faults of the log itself, with the real binaries
// and PostgreSQL: a log restored to a shorter state under a running
// query-service (it rebuilds from position 0 and then answers exactly the
// shorter log), and an event of a type no build knows, inserted with SQL
// between known events (the query-service stops at it: NOT_SERVING, its
// queries stay at the position before it, and it says so once).
//
// Nothing waits by sleeping: every wait polls a condition (a log line, a
// health status, a query) until it holds, bounded by a timeout.
#include <grpcpp/grpcpp.h>
#include <signal.h>

#include <functional>
#include <memory>
#include <pqxx/pqxx>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/base/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "inventory/v1/command_service.grpc.pb.h"
#include "inventory/v1/query_service.grpc.pb.h"
#include "tests/support/grpc_status_matchers.h"
#include "tests/support/health_probe.h"
#include "tests/support/inventory_system.h"
#include "tests/support/postgres_test_main.h"

namespace inventory {
namespace {

namespace v1 = inventory::v1;
using ::grpc::health::v1::HealthCheckResponse;
using test_support::GrpcStatusIs;
using test_support::InventorySystem;
using test_support::ServiceProcess;
using ::testing::HasSubstr;

constexpr absl::Duration kWaitTimeout = absl::Seconds(30);

std::unique_ptr<grpc::ClientContext> Call() {
  auto context = std::make_unique<grpc::ClientContext>();
  context->set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(20)));
  return context;
}

// Polls `condition` every 20 ms until it holds; false after `timeout`.
bool Eventually(const std::function<bool()>& condition,
                absl::Duration timeout = kWaitTimeout) {
  const absl::Time deadline = absl::Now() + timeout;
  while (!condition()) {
    if (absl::Now() >= deadline) return false;
    absl::SleepFor(absl::Milliseconds(20));
  }
  return true;
}

int Occurrences(const std::string& text, const std::string& part) {
  int count = 0;
  for (size_t at = text.find(part); at != std::string::npos;
       at = text.find(part, at + part.size())) {
    ++count;
  }
  return count;
}

// A command-service on a new database of the test's PostgreSQL (named
// after `database`), and a query-service once the test starts one.
absl::StatusOr<std::unique_ptr<InventorySystem>> StartSystem(
    const std::string& database) {
  test_support::InventorySystemOptions options;
  options.command_binary = COMMAND_SERVICE_BINARY;
  options.query_binary = QUERY_SERVICE_BINARY;
  options.postgres = &test_support::TestPostgres();
  options.database_prefix = database;
  options.command_flags = {"--heartbeat_interval=200ms"};
  options.query_flags = {"--max_backoff=200ms",
                         "--stopped_retry_interval=200ms"};
  options.start_query_service = false;
  return InventorySystem::Start(options);
}

using CommandStub = v1::CommandService::Stub;
using QueryStub = v1::QueryService::Stub;

// Creates `id`; returns the global position (0 with a test failure).
int64_t CreateItem(CommandStub& commands, const std::string& id) {
  v1::CreateItemRequest request;
  request.set_item_id(id);
  std::string sku = "SKU-" + id;
  for (char& c : sku) c = absl::ascii_toupper(c);
  request.set_sku(sku);
  request.set_name("Name of " + id);
  v1::CreateItemResponse response;
  const grpc::Status status =
      commands.CreateItem(Call().get(), request, &response);
  EXPECT_TRUE(status.ok()) << status.error_message();
  return response.global_position();
}

int64_t CheckIn(CommandStub& commands, const std::string& id,
                int64_t quantity) {
  v1::CheckInItemsRequest request;
  request.set_item_id(id);
  request.set_quantity(quantity);
  v1::CheckInItemsResponse response;
  const grpc::Status status =
      commands.CheckInItems(Call().get(), request, &response);
  EXPECT_TRUE(status.ok()) << status.error_message();
  return response.global_position();
}

grpc::Status GetItem(QueryStub& queries, const std::string& id,
                     int64_t min_position, v1::GetItemResponse* response) {
  v1::GetItemRequest request;
  request.set_item_id(id);
  request.set_min_position(min_position);
  return queries.GetItem(Call().get(), request, response);
}

v1::ListItemsResponse ListItems(QueryStub& queries) {
  v1::ListItemsRequest request;
  request.set_page_size(100);
  v1::ListItemsResponse response;
  const grpc::Status status =
      queries.ListItems(Call().get(), request, &response);
  EXPECT_TRUE(status.ok()) << status.error_message();
  return response;
}

TEST(ReadSideFaultTest, QueryServiceRebuildsFromARestoredShorterLog) {
  // The "backup": a database with 3 events.
  std::string shorter_url;
  {
    auto writer = StartSystem("shorter");
    ASSERT_THAT(writer, IsOk());
    shorter_url = (*writer)->database_url();
    CreateItem((*writer)->commands(), "short-1");
    CheckIn((*writer)->commands(), "short-1", 4);
    ASSERT_EQ(CreateItem((*writer)->commands(), "short-2"), 3);
    EXPECT_THAT((*writer)->StopCommandService(), IsOkAndHolds(0))
        << (*writer)->command().Log();
  }

  // The live database: 10 events, all applied by the query-service.
  auto system = StartSystem("longer");
  ASSERT_THAT(system, IsOk());
  InventorySystem& live = **system;
  CreateItem(live.commands(), "long-1");
  CreateItem(live.commands(), "long-2");
  int64_t head = 0;
  for (int i = 0; i < 8; ++i) {
    head = CheckIn(live.commands(), i % 2 == 0 ? "long-1" : "long-2", i + 1);
  }
  ASSERT_EQ(head, 10);
  ASSERT_THAT(live.StartQueryService(), IsOk());
  ASSERT_TRUE(live.AwaitQueryServing());
  v1::GetItemResponse item;
  ASSERT_TRUE(GetItem(live.queries(), "long-1", head, &item).ok());

  // The database is "restored" from the backup: the command-service comes
  // back on the same port with the shorter log.
  EXPECT_THAT(live.StopCommandService(), IsOkAndHolds(0))
      << live.command().Log();
  ASSERT_THAT(live.RestartCommandService(shorter_url), IsOk());
  const std::string shorter_line =
      "the event log is shorter than, or replaced since, this read";
  ASSERT_TRUE(Eventually([&] {
    return absl::StrContains(live.query().Log(), shorter_line);
  })) << live.query().Log();
  EXPECT_THAT(live.query().Log(), HasSubstr("NOT_SERVING; rebuilding it from "
                                            "position 0"));
  EXPECT_THAT(live.query().Log(), HasSubstr("head position 3"));
  ASSERT_TRUE(live.AwaitQueryServing());

  // Exactly the shorter log's state.
  const v1::ListItemsResponse listed = ListItems(live.queries());
  EXPECT_EQ(listed.position(), 3);
  ASSERT_EQ(listed.items_size(), 2);
  EXPECT_EQ(listed.items(0).item_id(), "short-1");
  EXPECT_EQ(listed.items(0).quantity_on_hand(), 4);
  EXPECT_EQ(listed.items(0).version(), 2);
  EXPECT_EQ(listed.items(1).item_id(), "short-2");
  EXPECT_EQ(listed.items(1).version(), 1);
  EXPECT_THAT(GetItem(live.queries(), "long-1", 0, &item),
              GrpcStatusIs(grpc::StatusCode::NOT_FOUND));

  // And it follows the shorter log from there, having said it once.
  const int64_t next = CreateItem(live.commands(), "short-3");
  EXPECT_EQ(next, 4);
  ASSERT_TRUE(GetItem(live.queries(), "short-3", next, &item).ok());
  EXPECT_EQ(item.item().version(), 1);
  EXPECT_EQ(Occurrences(live.query().Log(), shorter_line), 1)
      << live.query().Log();
}

TEST(ReadSideFaultTest, AnUnknownEventTypeStopsTheQueryServiceAtItsPosition) {
  auto started = StartSystem("unknown_type");
  ASSERT_THAT(started, IsOk());
  InventorySystem& system = **started;
  CreateItem(system.commands(), "before");
  const int64_t before = CheckIn(system.commands(), "before", 5);
  ASSERT_EQ(before, 2);

  // A newer writer's event, inserted directly, between two known ones.
  {
    pqxx::connection connection(system.database_url());
    pqxx::work work(connection);
    work.exec0(
        "INSERT INTO events (global_position, stream_id, stream_version, "
        "event_id, event_type, payload) SELECT max(global_position) + 1, "
        "'item-teleported', 1, gen_random_uuid(), "
        "'inventory.v1.ItemTeleported', '{\"itemId\": \"teleported\"}' "
        "FROM events");
    work.commit();
  }
  const int64_t after = CreateItem(system.commands(), "after");
  ASSERT_EQ(after, 4);

  ASSERT_THAT(system.StartQueryService(), IsOk());
  ServiceProcess& query = system.query();
  const std::string stop_line = "read model stopped at position 2";
  ASSERT_TRUE(Eventually([&] {
    return absl::StrContains(query.Log(), stop_line);
  })) << query.Log();
  EXPECT_THAT(query.Log(), HasSubstr("the event at position 3 (type "
                                     "\"inventory.v1.ItemTeleported\""));
  grpc::health::v1::HealthCheckResponse::ServingStatus status;
  ASSERT_TRUE(
      test_support::CheckHealth(system.query_health(), "", &status).ok());
  EXPECT_EQ(status, HealthCheckResponse::NOT_SERVING);

  // For two seconds (ten retries of the subscription) it stays there: the
  // position before the event, nothing after it, NOT_SERVING.
  const absl::Time until = absl::Now() + absl::Seconds(2);
  while (absl::Now() < until) {
    v1::GetItemResponse item;
    ASSERT_TRUE(GetItem(system.queries(), "before", 0, &item).ok());
    ASSERT_EQ(item.position(), before);
    ASSERT_EQ(item.item().quantity_on_hand(), 5);
    ASSERT_THAT(GetItem(system.queries(), "after", 0, &item),
                GrpcStatusIs(grpc::StatusCode::NOT_FOUND));
    ASSERT_TRUE(
        test_support::CheckHealth(system.query_health(), "", &status).ok());
    ASSERT_EQ(status, HealthCheckResponse::NOT_SERVING);
    absl::SleepFor(absl::Milliseconds(50));
  }
  const v1::ListItemsResponse listed = ListItems(system.queries());
  EXPECT_EQ(listed.position(), before);
  EXPECT_EQ(listed.items_size(), 1);

  // Said once, not once per retry (counted before the refusal below, whose
  // warning repeats the sentence).
  EXPECT_EQ(Occurrences(query.Log(), stop_line), 1) << query.Log();
  EXPECT_THAT(query.Log(), HasSubstr("Upgrade the query-service"));

  // A query that needs the later event is refused, not answered wrongly.
  v1::GetItemResponse item;
  const grpc::Status beyond = GetItem(system.queries(), "after", after, &item);
  EXPECT_THAT(beyond, GrpcStatusIs(grpc::StatusCode::UNAVAILABLE,
                                   HasSubstr("inventory.v1.ItemTeleported")));
}

}  // namespace
}  // namespace inventory
