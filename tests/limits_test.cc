// The hard limits of both services, hit for real: servers in this process
// on free loopback ports, called through real channels, over an in-memory
// store or a real PostgreSQL (a throwaway server, postgres_test_main.h).
//
//   * open event-stream subscriptions (--max_subscribers);
//   * open WatchItem streams (--max_watchers) and queries waiting for their
//     min_position (--max_waiting_queries);
//   * a command's wait for the database (--command_timeout): a statement
//     that takes too long is DEADLINE_EXCEEDED and writes nothing; no free
//     connection in time is UNAVAILABLE.
// Each refusal is immediate and says which limit was hit. Nothing waits
// by sleeping: every wait is for a condition (a message, a counter, a lock
// showing up in pg_locks), checked every few milliseconds up to a deadline.
#include <grpcpp/grpcpp.h>

#include <functional>
#include <memory>
#include <pqxx/pqxx>
#include <string>
#include <thread>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "command-service/server/command_server.h"
#include "common/base/status_matchers.h"
#include "common/eventstore/in_memory_event_store.h"
#include "common/eventstore/postgres/postgres_event_store.h"
#include "gmock/gmock.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "gtest/gtest.h"
#include "inventory/v1/command_service.grpc.pb.h"
#include "inventory/v1/event_stream_service.grpc.pb.h"
#include "inventory/v1/query_service.grpc.pb.h"
#include "query-service/server/query_server.h"
#include "tests/support/grpc_status_matchers.h"
#include "tests/support/health_probe.h"
#include "tests/support/in_process_services.h"
#include "tests/support/postgres_test_main.h"

namespace inventory {
namespace {

using test_support::GrpcStatusIs;

using ::grpc::StatusCode;
using ::testing::HasSubstr;

constexpr absl::Duration kCallTimeout = absl::Seconds(20);
constexpr absl::Duration kWaitTimeout = absl::Seconds(30);
// A refusal by a limit comes at once; this bounds "at once" generously.
constexpr absl::Duration kPrompt = absl::Seconds(5);

std::chrono::system_clock::time_point Deadline(absl::Duration timeout) {
  return absl::ToChronoTime(absl::Now() + timeout);
}

// Checks `condition` every 10 ms until it holds or kWaitTimeout passes.
bool Eventually(const std::function<bool()>& condition) {
  const absl::Time give_up = absl::Now() + kWaitTimeout;
  while (!condition()) {
    if (absl::Now() > give_up) return false;
    absl::SleepFor(absl::Milliseconds(10));  // polling a condition
  }
  return true;
}

std::string Describe(const grpc::Status& status) {
  return absl::StrCat(status.error_code(), " ", status.error_message());
}

CommandServerOptions CommandOptions() {
  CommandServerOptions options;
  options.listen = "127.0.0.1:0";
  // The health probe would take a database connection now and then; these
  // tests count connections.
  options.health_probe_interval = absl::Hours(1);
  options.stream.heartbeat_interval = absl::Milliseconds(200);
  options.live.idle_wait = absl::Milliseconds(100);
  return options;
}

v1::CreateItemRequest Create(const std::string& id) {
  v1::CreateItemRequest request;
  request.set_item_id(id);
  request.set_sku("LIM-1");
  request.set_name("Limited");
  return request;
}

v1::CheckInItemsRequest CheckIn(const std::string& id, int64_t quantity) {
  v1::CheckInItemsRequest request;
  request.set_item_id(id);
  request.set_quantity(quantity);
  return request;
}

template <typename Request, typename Response>
grpc::Status Send(grpc::Status (v1::CommandService::Stub::*method)(
                      grpc::ClientContext*, const Request&, Response*),
                  v1::CommandService::Stub& stub, const Request& request,
                  Response* response = nullptr) {
  grpc::ClientContext context;
  context.set_deadline(Deadline(kCallTimeout));
  Response ignored;
  return (stub.*method)(&context, request,
                        response != nullptr ? response : &ignored);
}

// --- Event stream subscriptions ---------------------------------------------

// An open Subscribe call.
struct Subscription {
  grpc::ClientContext context;
  std::unique_ptr<grpc::ClientReader<v1::SubscribeResponse>> reader;
};

std::unique_ptr<Subscription> Subscribe(v1::EventStreamService::Stub& stub) {
  auto subscription = std::make_unique<Subscription>();
  subscription->context.set_deadline(Deadline(absl::Seconds(60)));
  subscription->reader =
      stub.Subscribe(&subscription->context, v1::SubscribeRequest());
  return subscription;
}

TEST(SubscriberLimitTest, OneSubscriptionTooManyIsResourceExhausted) {
  InMemoryEventStore store;
  CommandServerOptions options = CommandOptions();
  options.stream.max_subscribers = 2;
  auto started = test_support::StartInProcessCommandService(&store, options);
  ASSERT_THAT(started, IsOk());
  CommandServer* const server = (*started)->server.get();
  v1::EventStreamService::Stub* const stub = (*started)->events.get();

  std::vector<std::unique_ptr<Subscription>> open;
  for (int i = 0; i < 2; ++i) {
    open.push_back(Subscribe(*stub));
    v1::SubscribeResponse message;
    ASSERT_TRUE(open.back()->reader->Read(&message));
    EXPECT_TRUE(message.has_caught_up());
  }
  EXPECT_EQ(server->event_stream_service().subscribers(), 2);

  const absl::Time start = absl::Now();
  auto refused = Subscribe(*stub);
  v1::SubscribeResponse message;
  EXPECT_FALSE(refused->reader->Read(&message));
  const grpc::Status status = refused->reader->Finish();
  EXPECT_LT(absl::Now() - start, kPrompt);
  EXPECT_THAT(status, GrpcStatusIs(StatusCode::RESOURCE_EXHAUSTED))
      << Describe(status);
  EXPECT_THAT(status.error_message(),
              HasSubstr("too many open subscriptions (limit 2)"));

  // A subscription that ends frees its place.
  open.front()->context.TryCancel();
  EXPECT_THAT(open.front()->reader->Finish(),
              GrpcStatusIs(StatusCode::CANCELLED));
  open.erase(open.begin());
  ASSERT_TRUE(Eventually(
      [&] { return server->event_stream_service().subscribers() == 1; }));
  auto again = Subscribe(*stub);
  ASSERT_TRUE(again->reader->Read(&message));
  EXPECT_TRUE(message.has_caught_up());
  again->context.TryCancel();
  for (auto& subscription : open) subscription->context.TryCancel();
}

// --- Watchers and waiting queries
// ----------------------------------------------

class QueryLimitsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto command =
        test_support::StartInProcessCommandService(&store_, CommandOptions());
    ASSERT_THAT(command, IsOk());
    command_ = std::move(*command);

    QueryServerOptions options;
    options.listen = "127.0.0.1:0";
    options.command_service = command_->address();
    options.subscriber.initial_backoff = absl::Milliseconds(10);
    options.subscriber.max_backoff = absl::Milliseconds(200);
    options.query.max_watchers = 1;
    options.query.max_waiting_queries = 1;
    auto query = test_support::StartInProcessQueryService(options);
    ASSERT_THAT(query, IsOk());
    query_ = std::move(*query);
    ASSERT_TRUE(test_support::AwaitHealth(
        *query_->health, "", grpc::health::v1::HealthCheckResponse::SERVING));

    v1::CreateItemResponse created;
    ASSERT_TRUE(Send(&v1::CommandService::Stub::CreateItem, *command_->commands,
                     Create("w"), &created)
                    .ok());
    head_ = created.global_position();
  }

  grpc::Status GetItem(int64_t min_position, v1::GetItemResponse* response) {
    grpc::ClientContext context;
    context.set_deadline(Deadline(kCallTimeout));
    v1::GetItemRequest request;
    request.set_item_id("w");
    request.set_min_position(min_position);
    return query_->queries->GetItem(&context, request, response);
  }

  InMemoryEventStore store_;
  std::unique_ptr<test_support::InProcessCommandService> command_;
  std::unique_ptr<test_support::InProcessQueryService> query_;  // stopped first
  int64_t head_ = 0;
};

TEST_F(QueryLimitsTest, OneWatcherTooManyIsResourceExhausted) {
  grpc::ClientContext first_context;
  first_context.set_deadline(Deadline(absl::Seconds(60)));
  v1::WatchItemRequest request;
  request.set_item_id("w");
  request.set_min_position(head_);
  auto first = query_->queries->WatchItem(&first_context, request);
  v1::WatchItemResponse message;
  ASSERT_TRUE(first->Read(&message));
  EXPECT_EQ(query_->server->query_service().watchers(), 1);

  grpc::ClientContext second_context;
  second_context.set_deadline(Deadline(kCallTimeout));
  const absl::Time start = absl::Now();
  auto second = query_->queries->WatchItem(&second_context, request);
  EXPECT_FALSE(second->Read(&message));
  const grpc::Status status = second->Finish();
  EXPECT_LT(absl::Now() - start, kPrompt);
  EXPECT_THAT(status, GrpcStatusIs(StatusCode::RESOURCE_EXHAUSTED))
      << Describe(status);
  EXPECT_THAT(status.error_message(),
              HasSubstr("too many open WatchItem streams (limit 1)"));

  first_context.TryCancel();
  EXPECT_THAT(first->Finish(), GrpcStatusIs(StatusCode::CANCELLED));
  ASSERT_TRUE(Eventually(
      [&] { return query_->server->query_service().watchers() == 0; }));
  grpc::ClientContext third_context;
  third_context.set_deadline(Deadline(kCallTimeout));
  auto third = query_->queries->WatchItem(&third_context, request);
  EXPECT_TRUE(third->Read(&message));
  third_context.TryCancel();
}

TEST_F(QueryLimitsTest, OneWaitingQueryTooManyIsResourceExhausted) {
  // A query for the next position waits until a command reaches it.
  grpc::Status waiting_status;
  v1::GetItemResponse waited;
  std::thread waiting([&] { waiting_status = GetItem(head_ + 1, &waited); });
  ASSERT_TRUE(Eventually(
      [&] { return query_->server->query_service().waiting_queries() == 1; }));

  // A second one that would have to wait is refused at once...
  v1::GetItemResponse response;
  const absl::Time start = absl::Now();
  const grpc::Status refused = GetItem(head_ + 5, &response);
  EXPECT_LT(absl::Now() - start, kPrompt);
  EXPECT_THAT(refused, GrpcStatusIs(StatusCode::RESOURCE_EXHAUSTED))
      << Describe(refused);
  EXPECT_THAT(refused.error_message(),
              HasSubstr("too many queries waiting for min_position (limit 1)"));
  // ... while one whose position is already applied needs no place.
  EXPECT_TRUE(GetItem(head_, &response).ok());

  ASSERT_TRUE(Send(&v1::CommandService::Stub::CheckInItems, *command_->commands,
                   CheckIn("w", 3))
                  .ok());
  waiting.join();
  EXPECT_TRUE(waiting_status.ok()) << Describe(waiting_status);
  EXPECT_EQ(waited.item().quantity_on_hand(), 3);
  EXPECT_EQ(query_->server->query_service().waiting_queries(), 0);
}

// --- A command's wait for the database ------------------------------------

// A second connection that holds an exclusive lock on the events table,
// so that every statement touching it waits.
class TableLock {
 public:
  explicit TableLock(const std::string& url)
      : connection_(url), tx_(connection_) {
    tx_.exec0("LOCK TABLE events IN ACCESS EXCLUSIVE MODE");
  }
  // Backends of this database waiting for a lock now.
  int Waiters() {
    return tx_
        .exec1(
            "SELECT count(*) FROM pg_locks WHERE NOT granted AND database = "
            "(SELECT oid FROM pg_database WHERE datname = current_database())")
            [0]
        .as<int>();
  }
  void Release() { tx_.abort(); }

 private:
  pqxx::connection connection_;
  pqxx::work tx_;
};

class CommandTimeoutTest : public ::testing::Test {
 protected:
  // A store whose calls wait at most `statement_timeout` for a statement
  // and `acquire_timeout` for one of `pool_size` connections, and a
  // command server on it.
  void Start(absl::Duration statement_timeout, absl::Duration acquire_timeout,
             int pool_size) {
    auto url = test_support::TestPostgres().CreateDatabase("limits");
    ASSERT_TRUE(url.ok()) << url.status();
    url_ = *url;
    PostgresEventStoreOptions options;
    options.url = url_;
    options.pool_size = pool_size;
    options.statement_timeout = statement_timeout;
    options.acquire_timeout = acquire_timeout;
    auto store = PostgresEventStore::Open(options);
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = std::move(*store);
    auto server = test_support::StartInProcessCommandService(store_.get(),
                                                             CommandOptions());
    ASSERT_THAT(server, IsOk());
    server_ = std::move(*server);
  }

  std::string url_;
  std::unique_ptr<PostgresEventStore> store_;
  std::unique_ptr<test_support::InProcessCommandService> server_;  // first
};

TEST_F(CommandTimeoutTest,
       AStatementTooSlowIsDeadlineExceededAndWritesNothing) {
  ASSERT_NO_FATAL_FAILURE(Start(absl::Milliseconds(500), absl::Seconds(10), 4));
  using Stub = v1::CommandService::Stub;
  ASSERT_TRUE(Send(&Stub::CreateItem, *server_->commands, Create("a")).ok());

  auto lock = std::make_unique<TableLock>(url_);
  // Appending (the item's state is in the cache) ...
  absl::Time start = absl::Now();
  grpc::Status status =
      Send(&Stub::CheckInItems, *server_->commands, CheckIn("a", 2));
  EXPECT_LT(absl::Now() - start, kPrompt);
  EXPECT_THAT(status, GrpcStatusIs(StatusCode::DEADLINE_EXCEEDED))
      << Describe(status);
  EXPECT_THAT(status.error_message(), HasSubstr("timed out"));
  EXPECT_FALSE(absl::StrContains(status.error_message(), "events"));
  // ... and reading an item's events.
  start = absl::Now();
  status = Send(&Stub::CreateItem, *server_->commands, Create("b"));
  EXPECT_LT(absl::Now() - start, kPrompt);
  EXPECT_THAT(status, GrpcStatusIs(StatusCode::DEADLINE_EXCEEDED))
      << Describe(status);
  lock->Release();

  // Nothing was written: the next event of the log is the check-in.
  v1::CheckInItemsResponse checked_in;
  status = Send(&Stub::CheckInItems, *server_->commands, CheckIn("a", 2),
                &checked_in);
  ASSERT_TRUE(status.ok()) << Describe(status);
  EXPECT_EQ(checked_in.version(), 2);
  EXPECT_EQ(checked_in.global_position(), 2);
}

TEST_F(CommandTimeoutTest, NoFreeConnectionInTimeIsUnavailable) {
  ASSERT_NO_FATAL_FAILURE(
      Start(absl::Seconds(20), absl::Milliseconds(300), /*pool_size=*/1));
  using Stub = v1::CommandService::Stub;
  auto lock = std::make_unique<TableLock>(url_);
  // A command that takes the only connection and waits on the lock (or
  // finds the event-stream tailer waiting there already).
  std::thread blocked(
      [&] { Send(&Stub::CreateItem, *server_->commands, Create("first")); });
  ASSERT_TRUE(Eventually([&] { return lock->Waiters() >= 1; }));

  const absl::Time start = absl::Now();
  grpc::Status status =
      Send(&Stub::CreateItem, *server_->commands, Create("second"));
  EXPECT_LT(absl::Now() - start, kPrompt);
  EXPECT_THAT(status, GrpcStatusIs(StatusCode::UNAVAILABLE))
      << Describe(status);
  EXPECT_THAT(status.error_message(), HasSubstr("no database connection free"));

  lock->Release();
  blocked.join();
  status = Send(&Stub::CreateItem, *server_->commands, Create("second"));
  EXPECT_TRUE(status.ok()) << Describe(status);
}

}  // namespace
}  // namespace inventory
