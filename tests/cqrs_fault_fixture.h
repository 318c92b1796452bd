// The fixture of the fault tests of the whole CQRS loop as real processes
// (cqrs_fault_test.cc, cqrs_chaos_test.cc): PostgreSQL, the command-service
// and the query-service (support/inventory_system.h), and the checks that
// the store, the test's fold and the read model agree.
#ifndef INVENTORY_TESTS_CQRS_FAULT_FIXTURE_H_
#define INVENTORY_TESTS_CQRS_FAULT_FIXTURE_H_

#include <google/protobuf/util/json_util.h>
#include <google/protobuf/util/message_differencer.h>
#include <grpcpp/grpcpp.h>
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <fstream>
#include <functional>
#include <iostream>
#include <iterator>
#include <map>
#include <memory>
#include <optional>
#include <pqxx/pqxx>
#include <random>
#include <regex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/base/error_reason.h"
#include "common/base/status_matchers.h"
#include "common/rpc/grpc_status.h"
#include "gmock/gmock.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "gtest/gtest.h"
#include "inventory/v1/command_service.grpc.pb.h"
#include "inventory/v1/event_stream_service.grpc.pb.h"
#include "inventory/v1/events.pb.h"
#include "inventory/v1/query_service.grpc.pb.h"
#include "tests/cqrs_chaos_writers.h"
#include "tests/support/health_probe.h"
#include "tests/support/inventory_system.h"
#include "tests/support/postgres_test_main.h"
#include "tests/support/service_process.h"

namespace inventory::cqrs_fault_testing {

class CqrsFaultTest : public ::testing::Test {
 protected:
  void SetUp() override { StartServices(test_support::TestPostgres()); }

  // Creates a database on `server` and starts both services on it.
  void StartServices(PostgresServer& server) {
    server_ = &server;
    test_support::InventorySystemOptions options;
    options.command_binary = COMMAND_SERVICE_BINARY;
    options.query_binary = QUERY_SERVICE_BINARY;
    options.postgres = &server;
    options.database_prefix = "faults";
    options.database_url_in_environment = true;
    options.query_flags = {"--max_backoff=500ms"};
    auto system = test_support::InventorySystem::Start(options);
    ASSERT_TRUE(system.ok()) << system.status();
    system_ = std::move(*system);
    url_ = system_->database_url();
  }

  ServiceProcess& command() { return system_->command(); }
  ServiceProcess& query() { return system_->query(); }
  std::string command_address() const { return system_->command_address(); }

  // Starts a command-service on the same port, after counting the
  // recoveries in the log of the one it replaces (its log goes with it),
  // and killing that one if it still runs.
  void RestartCommandService() {
    retired_recoveries_.CountIn(command().Log());
    ASSERT_THAT(system_->RestartCommandService(), IsOk());
  }

  void StartQueryService() {
    ASSERT_THAT(system_->StartQueryService(), IsOk());
  }

  // Freezes the command-service (SIGSTOP) at a moment when an append of
  // its own is running in PostgreSQL, waits until every statement it had
  // sent has finished (that append commits, its answer unread), then kills
  // it (SIGKILL) and starts a new one on the same port: a crash that loses
  // the answers of committed commands, which writers with request ids then
  // get replayed.
  void KillCommandServiceWithAnswersInFlight() {
    pqxx::connection connection(url_);
    const absl::Time give_up = absl::Now() + absl::Seconds(30);
    for (;;) {
      command().Signal(SIGSTOP);
      if (StatementsRunning(connection, /*appends_only=*/true) > 0) break;
      command().Signal(SIGCONT);
      ASSERT_LT(absl::Now(), give_up) << "no append seen running";
    }
    while (StatementsRunning(connection, /*appends_only=*/false) > 0) {
      ASSERT_LT(absl::Now(), give_up) << "statements still running";
      // Polling the server's view of its sessions: nothing to block on.
      absl::SleepFor(absl::Milliseconds(5));
    }
    command().Signal(SIGKILL);
    ASSERT_TRUE(command().Wait(absl::Seconds(10)).ok());
    RestartCommandService();
  }

  // The store's recoveries of lost answers, over every command-service of
  // the test.
  Recoveries StoreRecoveries() {
    Recoveries recoveries = retired_recoveries_;
    recoveries.CountIn(command().Log());
    return recoveries;
  }

  HealthStatus::ServingStatus QueryHealth() {
    HealthStatus::ServingStatus status = HealthStatus::UNKNOWN;
    if (!test_support::CheckHealth(system_->query_health(), "", &status).ok()) {
      return HealthStatus::UNKNOWN;
    }
    return status;
  }

  void AwaitQueryServing() {
    ASSERT_TRUE(system_->AwaitQueryServing()) << query().Log();
  }

  // The query-service's items, read once it has applied `min_position`.
  std::map<std::string, Item> QueryItems(int64_t min_position) {
    inventory::v1::QueryService::Stub* stub = &system_->queries();
    std::map<std::string, Item> items;
    std::string token;
    do {
      auto context = ContextWithDeadline(absl::Seconds(60));
      inventory::v1::ListItemsRequest request;
      request.set_min_position(min_position);
      request.set_page_token(token);
      request.set_page_size(3);
      inventory::v1::ListItemsResponse response;
      grpc::Status status = stub->ListItems(context.get(), request, &response);
      EXPECT_TRUE(status.ok()) << status.error_message() << query().Log();
      if (!status.ok()) break;
      EXPECT_GE(response.position(), min_position);
      for (const auto& item : response.items()) {
        EXPECT_TRUE(items.emplace(item.item_id(), item).second)
            << item.item_id() << " listed twice";
      }
      token = response.next_page_token();
    } while (!token.empty());
    return items;
  }

  // The store, the expectation and the read model all agree, and each
  // request_id caused exactly one event.
  void ExpectConverged(int commands) {
    const std::vector<StoredEvent> events = ReadStoredEvents(url_);
    std::map<std::string, int> request_ids;
    for (const StoredEvent& event : events) ++request_ids[event.request_id];
    for (const auto& [id, count] : request_ids) {
      EXPECT_EQ(count, 1) << "request '" << id << "' applied " << count
                          << " times";
    }
    const ReferenceFold fold = FoldOf(events);
    EXPECT_EQ(fold.head(), commands) << "every acknowledged command once";
    const auto expected = ExpectedQuantities(commands);
    ASSERT_EQ(fold.items().size(), expected.size());
    for (const auto& [id, quantity] : expected) {
      ASSERT_EQ(fold.items().count(id), 1u) << id;
      EXPECT_EQ(fold.items().at(id).quantity_on_hand(), quantity) << id;
    }
    ExpectReadModelEquals(fold);
  }

  // The query-service, once it has applied the fold's head, holds exactly
  // the folded items: every field of every item, and no other item.
  void ExpectReadModelEquals(const ReferenceFold& fold) {
    const auto queried = QueryItems(fold.head());
    EXPECT_EQ(queried.size(), fold.items().size());
    int differing = 0;
    for (const auto& [id, item] : fold.items()) {
      const auto found = queried.find(id);
      if (found == queried.end()) {
        ADD_FAILURE() << id << " is in the store but not in the read model";
        continue;
      }
      if (!MessageDifferencer::Equals(found->second, item) &&
          ++differing <= 5) {
        ADD_FAILURE() << id
                      << "\nread model: " << found->second.ShortDebugString()
                      << "\nfold:       " << item.ShortDebugString();
      }
    }
    EXPECT_EQ(differing, 0) << "items whose read model differs from the fold";
  }

  // Checks a chaos run of `writers` (stopped) against the store and the
  // read model, and prints its figures. `name` labels the output.
  void ExpectRunExactlyOnce(const std::string& name, CommandLedger& ledger,
                            const ChaosWriters& writers) {
    const std::vector<StoredEvent> events = ReadStoredEvents(url_);
    const RunFigures figures = ExpectExactlyOnce(ledger, events);
    const ReferenceFold fold = FoldOf(events);
    ExpectWritersMatchFold(writers, events, fold);
    const Recoveries recoveries = StoreRecoveries();
    std::cout << name << ": " << figures.events << " events; acknowledged "
              << figures.acknowledged_with_request_id << " with request_id + "
              << figures.acknowledged_without
              << " without, each exactly one event; unacknowledged "
              << figures.unacknowledged << " (recorded once "
              << figures.unacknowledged_applied << ", never "
              << figures.unacknowledged - figures.unacknowledged_applied
              << ", twice 0); first attempts retried after a fault "
              << ledger.retried() << "; replayed answers " << ledger.replayed()
              << "; store recoveries of lost answers " << recoveries.batches
              << " batch(es), " << recoveries.requests << " request(s); "
              << fold.items().size() << " items compared field by field\n";
    AwaitQueryServing();
    ExpectReadModelEquals(fold);
  }

  PostgresServer* server_ = nullptr;
  // The cluster of a test that starts its own; outlives the services.
  std::unique_ptr<PostgresServer> own_server_;
  std::unique_ptr<test_support::InventorySystem> system_;
  std::string url_;
  Recoveries retired_recoveries_;
};

// The same, on a cluster of its own with fsync=on and synchronous_commit=on,
// so that a crash of the server is a real test of durability.
class DurableCqrsFaultTest : public CqrsFaultTest {
 protected:
  void SetUp() override {
    if (!test_support::TestPostgres().owns_server()) {
      GTEST_SKIP() << "TEST_DATABASE_URL is set: the crash test needs a "
                      "cluster of its own (fsync=on) to crash; skipped";
    }
    test_support::PostgresServerOptions options;
    options.durable = true;
    auto server = PostgresServer::Start(options);
    ASSERT_TRUE(server.ok()) << server.status();
    own_server_ = std::move(*server);
    ASSERT_TRUE(own_server_->durable());
    StartServices(*own_server_);
  }
};

}  // namespace inventory::cqrs_fault_testing

#endif  // INVENTORY_TESTS_CQRS_FAULT_FIXTURE_H_
