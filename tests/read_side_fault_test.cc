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
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "inventory/v1/command_service.grpc.pb.h"
#include "inventory/v1/query_service.grpc.pb.h"
#include "tests/support/health_probe.h"
#include "tests/support/postgres_test_main.h"
#include "tests/support/service_process.h"

namespace inventory {
namespace {

namespace v1 = inventory::v1;
using ::grpc::health::v1::HealthCheckResponse;
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

absl::StatusOr<std::unique_ptr<ServiceProcess>> StartCommandService(
    const std::string& database_url, int port = 0) {
  return ServiceProcess::Start(COMMAND_SERVICE_BINARY,
                               {absl::StrCat("--listen=127.0.0.1:", port),
                                absl::StrCat("--database_url=", database_url),
                                "--heartbeat_interval=200ms"});
}

absl::StatusOr<std::unique_ptr<ServiceProcess>> StartQueryService(
    const std::string& command_address) {
  return ServiceProcess::Start(
      QUERY_SERVICE_BINARY,
      {"--listen=127.0.0.1:0",
       absl::StrCat("--command_service=", command_address),
       "--max_backoff=200ms", "--stopped_retry_interval=200ms"});
}

// Stubs of one command-service or query-service process.
struct Clients {
  explicit Clients(const std::string& address)
      : channel(
            grpc::CreateChannel(address, grpc::InsecureChannelCredentials())),
        commands(v1::CommandService::NewStub(channel)),
        queries(v1::QueryService::NewStub(channel)),
        health(grpc::health::v1::Health::NewStub(channel)) {}

  std::shared_ptr<grpc::Channel> channel;
  std::unique_ptr<v1::CommandService::Stub> commands;
  std::unique_ptr<v1::QueryService::Stub> queries;
  std::unique_ptr<grpc::health::v1::Health::Stub> health;
};

// Creates `id`; returns the global position (0 with a test failure).
int64_t CreateItem(Clients& command, const std::string& id) {
  v1::CreateItemRequest request;
  request.set_item_id(id);
  std::string sku = "SKU-" + id;
  for (char& c : sku) c = absl::ascii_toupper(c);
  request.set_sku(sku);
  request.set_name("Name of " + id);
  v1::CreateItemResponse response;
  const grpc::Status status =
      command.commands->CreateItem(Call().get(), request, &response);
  EXPECT_TRUE(status.ok()) << status.error_message();
  return response.global_position();
}

int64_t CheckIn(Clients& command, const std::string& id, int64_t quantity) {
  v1::CheckInItemsRequest request;
  request.set_item_id(id);
  request.set_quantity(quantity);
  v1::CheckInItemsResponse response;
  const grpc::Status status =
      command.commands->CheckInItems(Call().get(), request, &response);
  EXPECT_TRUE(status.ok()) << status.error_message();
  return response.global_position();
}

grpc::Status GetItem(Clients& query, const std::string& id,
                     int64_t min_position, v1::GetItemResponse* response) {
  v1::GetItemRequest request;
  request.set_item_id(id);
  request.set_min_position(min_position);
  return query.queries->GetItem(Call().get(), request, response);
}

v1::ListItemsResponse ListItems(Clients& query) {
  v1::ListItemsRequest request;
  request.set_page_size(100);
  v1::ListItemsResponse response;
  const grpc::Status status =
      query.queries->ListItems(Call().get(), request, &response);
  EXPECT_TRUE(status.ok()) << status.error_message();
  return response;
}

void Stop(ServiceProcess& process) {
  process.Signal(SIGTERM);
  const absl::StatusOr<int> exit_code = process.Wait(absl::Seconds(30));
  ASSERT_TRUE(exit_code.ok()) << exit_code.status();
  EXPECT_EQ(*exit_code, 0) << process.Log();
}

TEST(ReadSideFaultTest, QueryServiceRebuildsFromARestoredShorterLog) {
  // The "backup": a database with 3 events.
  absl::StatusOr<std::string> shorter_url =
      test_support::TestPostgres().CreateDatabase("shorter");
  ASSERT_TRUE(shorter_url.ok()) << shorter_url.status();
  {
    auto writer = StartCommandService(*shorter_url);
    ASSERT_TRUE(writer.ok()) << writer.status();
    Clients clients((*writer)->address());
    CreateItem(clients, "short-1");
    CheckIn(clients, "short-1", 4);
    ASSERT_EQ(CreateItem(clients, "short-2"), 3);
    Stop(**writer);
  }

  // The live database: 10 events, all applied by the query-service.
  absl::StatusOr<std::string> longer_url =
      test_support::TestPostgres().CreateDatabase("longer");
  ASSERT_TRUE(longer_url.ok()) << longer_url.status();
  auto command = StartCommandService(*longer_url);
  ASSERT_TRUE(command.ok()) << command.status();
  const int port = (*command)->port();
  Clients command_clients((*command)->address());
  CreateItem(command_clients, "long-1");
  CreateItem(command_clients, "long-2");
  int64_t head = 0;
  for (int i = 0; i < 8; ++i) {
    head = CheckIn(command_clients, i % 2 == 0 ? "long-1" : "long-2", i + 1);
  }
  ASSERT_EQ(head, 10);
  auto query = StartQueryService((*command)->address());
  ASSERT_TRUE(query.ok()) << query.status();
  Clients query_clients((*query)->address());
  ASSERT_TRUE(test_support::AwaitHealth(*query_clients.health, "",
                                        HealthCheckResponse::SERVING));
  v1::GetItemResponse item;
  ASSERT_TRUE(GetItem(query_clients, "long-1", head, &item).ok());

  // The database is "restored" from the backup: the command-service comes
  // back on the same port with the shorter log.
  Stop(**command);
  command = StartCommandService(*shorter_url, port);
  ASSERT_TRUE(command.ok()) << command.status();
  const std::string shorter_line =
      "the event log is shorter than, or replaced since, this read";
  ASSERT_TRUE(Eventually([&] {
    return absl::StrContains((*query)->Log(), shorter_line);
  })) << (*query)->Log();
  EXPECT_THAT((*query)->Log(), HasSubstr("NOT_SERVING; rebuilding it from "
                                         "position 0"));
  EXPECT_THAT((*query)->Log(), HasSubstr("head position 3"));
  ASSERT_TRUE(test_support::AwaitHealth(*query_clients.health, "",
                                        HealthCheckResponse::SERVING));

  // Exactly the shorter log's state.
  const v1::ListItemsResponse listed = ListItems(query_clients);
  EXPECT_EQ(listed.position(), 3);
  ASSERT_EQ(listed.items_size(), 2);
  EXPECT_EQ(listed.items(0).item_id(), "short-1");
  EXPECT_EQ(listed.items(0).quantity_on_hand(), 4);
  EXPECT_EQ(listed.items(0).version(), 2);
  EXPECT_EQ(listed.items(1).item_id(), "short-2");
  EXPECT_EQ(listed.items(1).version(), 1);
  EXPECT_EQ(GetItem(query_clients, "long-1", 0, &item).error_code(),
            grpc::StatusCode::NOT_FOUND);

  // And it follows the shorter log from there, having said it once.
  Clients restored((*command)->address());
  const int64_t next = CreateItem(restored, "short-3");
  EXPECT_EQ(next, 4);
  ASSERT_TRUE(GetItem(query_clients, "short-3", next, &item).ok());
  EXPECT_EQ(item.item().version(), 1);
  EXPECT_EQ(Occurrences((*query)->Log(), shorter_line), 1) << (*query)->Log();
}

TEST(ReadSideFaultTest, AnUnknownEventTypeStopsTheQueryServiceAtItsPosition) {
  absl::StatusOr<std::string> url =
      test_support::TestPostgres().CreateDatabase("unknown_type");
  ASSERT_TRUE(url.ok()) << url.status();
  auto command = StartCommandService(*url);
  ASSERT_TRUE(command.ok()) << command.status();
  Clients command_clients((*command)->address());
  CreateItem(command_clients, "before");
  const int64_t before = CheckIn(command_clients, "before", 5);
  ASSERT_EQ(before, 2);

  // A newer writer's event, inserted directly, between two known ones.
  {
    pqxx::connection connection(*url);
    pqxx::work work(connection);
    work.exec0(
        "INSERT INTO events (global_position, stream_id, stream_version, "
        "event_id, event_type, payload) SELECT max(global_position) + 1, "
        "'item-teleported', 1, gen_random_uuid(), "
        "'inventory.v1.ItemTeleported', '{\"itemId\": \"teleported\"}' "
        "FROM events");
    work.commit();
  }
  const int64_t after = CreateItem(command_clients, "after");
  ASSERT_EQ(after, 4);

  auto query = StartQueryService((*command)->address());
  ASSERT_TRUE(query.ok()) << query.status();
  Clients query_clients((*query)->address());
  const std::string stop_line = "read model stopped at position 2";
  ASSERT_TRUE(Eventually([&] {
    return absl::StrContains((*query)->Log(), stop_line);
  })) << (*query)->Log();
  EXPECT_THAT((*query)->Log(), HasSubstr("the event at position 3 (type "
                                         "\"inventory.v1.ItemTeleported\""));
  grpc::health::v1::HealthCheckResponse::ServingStatus status;
  ASSERT_TRUE(
      test_support::CheckHealth(*query_clients.health, "", &status).ok());
  EXPECT_EQ(status, HealthCheckResponse::NOT_SERVING);

  // For two seconds (ten retries of the subscription) it stays there: the
  // position before the event, nothing after it, NOT_SERVING.
  const absl::Time until = absl::Now() + absl::Seconds(2);
  while (absl::Now() < until) {
    v1::GetItemResponse item;
    ASSERT_TRUE(GetItem(query_clients, "before", 0, &item).ok());
    ASSERT_EQ(item.position(), before);
    ASSERT_EQ(item.item().quantity_on_hand(), 5);
    ASSERT_EQ(GetItem(query_clients, "after", 0, &item).error_code(),
              grpc::StatusCode::NOT_FOUND);
    ASSERT_TRUE(
        test_support::CheckHealth(*query_clients.health, "", &status).ok());
    ASSERT_EQ(status, HealthCheckResponse::NOT_SERVING);
    absl::SleepFor(absl::Milliseconds(50));
  }
  const v1::ListItemsResponse listed = ListItems(query_clients);
  EXPECT_EQ(listed.position(), before);
  EXPECT_EQ(listed.items_size(), 1);

  // Said once, not once per retry (counted before the refusal below, whose
  // warning repeats the sentence).
  EXPECT_EQ(Occurrences((*query)->Log(), stop_line), 1) << (*query)->Log();
  EXPECT_THAT((*query)->Log(), HasSubstr("Upgrade the query-service"));

  // A query that needs the later event is refused, not answered wrongly.
  v1::GetItemResponse item;
  const grpc::Status beyond = GetItem(query_clients, "after", after, &item);
  EXPECT_EQ(beyond.error_code(), grpc::StatusCode::UNAVAILABLE)
      << beyond.error_message();
  EXPECT_THAT(beyond.error_message(), HasSubstr("inventory.v1.ItemTeleported"));
}

}  // namespace
}  // namespace inventory
