// Shared by the tests of the read side as a real gRPC server
// (query_server_*_test.cc): a CommandServer (on an in-memory store) and a
// QueryServer subscribed to it, both in this process on free loopback
// ports, called through real channels with the generated stubs. Nothing
// waits by sleeping: every wait is on a condition (a min_position, a
// stream message, a health status polled until it changes), bounded by a
// deadline.
#ifndef INVENTORY_TESTS_QUERY_SERVER_FIXTURE_H_
#define INVENTORY_TESTS_QUERY_SERVER_FIXTURE_H_

#include <grpcpp/grpcpp.h>

#include <atomic>
#include <cctype>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "command-service/application/item_command_handler.h"
#include "command-service/server/command_server.h"
#include "common/base/error_reason.h"
#include "common/base/field_violation.h"
#include "common/base/log_capture.h"
#include "common/base/status_matchers.h"
#include "common/eventstore/in_memory_event_store.h"
#include "common/eventstore/mock_event_store.h"
#include "common/rpc/grpc_status.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/message_differencer.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "gtest/gtest.h"
#include "inventory/v1/command_service.grpc.pb.h"
#include "inventory/v1/event_stream_service.grpc.pb.h"
#include "inventory/v1/query_service.grpc.pb.h"
#include "query-service/server/query_server.h"
#include "tests/support/grpc_status_matchers.h"
#include "tests/support/health_probe.h"
#include "tests/support/in_process_services.h"

namespace inventory::query_server_testing {

using ::google::protobuf::util::MessageDifferencer;
using ::grpc::StatusCode;
using ::grpc::health::v1::Health;
using ::grpc::health::v1::HealthCheckRequest;
using ::grpc::health::v1::HealthCheckResponse;
using test_support::GrpcStatusIs;
using ::testing::HasSubstr;

// Deadline of every unary call.
constexpr absl::Duration kCallTimeout = absl::Seconds(10);
// How long a test waits for something that should happen.
constexpr absl::Duration kWaitTimeout = absl::Seconds(15);
// Deadline of every WatchItem call, so that no read can block forever.
constexpr absl::Duration kWatchDeadline = absl::Seconds(20);
// A position no test ever reaches.
constexpr int64_t kFarPosition = 1000000000000;

const char* const kQueryService = "inventory.v1.QueryService";

inline absl::Time Deadline(absl::Duration timeout) {
  return absl::Now() + timeout;
}

// --- The servers -------------------------------------------------------------

inline CommandServerOptions CommandOptions(const std::string& listen) {
  CommandServerOptions options;
  options.listen = listen;
  options.health_probe_interval = absl::Milliseconds(100);
  options.stream.heartbeat_interval = absl::Milliseconds(200);
  options.live.idle_wait = absl::Milliseconds(100);
  return options;
}

inline QueryServerOptions QueryOptions(int command_port) {
  QueryServerOptions options;
  options.listen = "127.0.0.1:0";
  options.command_service = absl::StrCat("127.0.0.1:", command_port);
  options.subscriber.initial_backoff = absl::Milliseconds(10);
  options.subscriber.max_backoff = absl::Milliseconds(200);
  options.subscriber.stopped_retry_interval = absl::Milliseconds(100);
  return options;
}

using CommandNode = test_support::InProcessCommandService;
using QueryNode = test_support::InProcessQueryService;

// Null (with a test failure) when the server cannot start.
inline std::unique_ptr<CommandNode> StartCommandNode(
    EventStore* store, const std::string& listen) {
  auto node =
      test_support::StartInProcessCommandService(store, CommandOptions(listen));
  EXPECT_TRUE(node.ok()) << node.status();
  return node.ok() ? std::move(*node) : nullptr;
}

// Null (with a test failure) when the server cannot start.
inline std::unique_ptr<QueryNode> StartQueryNode(
    const QueryServerOptions& options) {
  auto node = test_support::StartInProcessQueryService(options);
  EXPECT_TRUE(node.ok()) << node.status();
  if (!node.ok()) return nullptr;
  EXPECT_GT((*node)->server->port(), 0);
  return std::move(*node);
}

// --- Health ------------------------------------------------------------------

using test_support::AwaitHealth;
using test_support::CheckHealth;

// --- Commands ----------------------------------------------------------------

using CommandStub = v1::CommandService::Stub;
using QueryStub = v1::QueryService::Stub;

struct Reply {
  grpc::Status status;
  int64_t version = 0;
  int64_t global_position = 0;
};

template <typename Request, typename Response>
Reply Call(grpc::Status (CommandStub::*method)(grpc::ClientContext*,
                                               const Request&, Response*),
           CommandStub& stub, const Request& request) {
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(Deadline(kCallTimeout)));
  Response response;
  Reply reply;
  reply.status = (stub.*method)(&context, request, &response);
  reply.version = response.version();
  reply.global_position = response.global_position();
  return reply;
}

// What the test expects an item to be.
struct ExpectedItem {
  std::string id;
  std::string sku;
  std::string name;
  int64_t quantity = 0;
  bool active = false;
  int64_t version = 0;  // 0: not created yet
};

inline Reply Create(CommandStub& stub, ExpectedItem& item) {
  v1::CreateItemRequest request;
  request.set_item_id(item.id);
  request.set_sku(item.sku);
  request.set_name(item.name);
  Reply reply = Call(&CommandStub::CreateItem, stub, request);
  if (reply.status.ok()) {
    item.active = true;
    item.version = reply.version;
  }
  return reply;
}

inline Reply CheckIn(CommandStub& stub, ExpectedItem& item, int64_t quantity) {
  v1::CheckInItemsRequest request;
  request.set_item_id(item.id);
  request.set_quantity(quantity);
  Reply reply = Call(&CommandStub::CheckInItems, stub, request);
  if (reply.status.ok()) {
    item.quantity += quantity;
    item.version = reply.version;
  }
  return reply;
}

// One random command that the item accepts in its current state; updates
// `item` when it succeeds.
inline Reply SendRandomCommand(CommandStub& stub, ExpectedItem& item,
                               std::mt19937& rng) {
  if (item.version == 0) return Create(stub, item);
  Reply reply;
  if (!item.active) {
    v1::ReactivateItemRequest request;
    request.set_item_id(item.id);
    reply = Call(&CommandStub::ReactivateItem, stub, request);
    if (reply.status.ok()) item.active = true;
  } else {
    const int choice = static_cast<int>(rng() % 10);
    if (choice <= 3 || (choice <= 5 && item.quantity == 0)) {
      return CheckIn(stub, item, 1 + static_cast<int64_t>(rng() % 100));
    } else if (choice <= 5) {
      const int64_t quantity =
          1 +
          static_cast<int64_t>(rng() % static_cast<uint64_t>(item.quantity));
      v1::RemoveItemsRequest request;
      request.set_item_id(item.id);
      request.set_quantity(quantity);
      reply = Call(&CommandStub::RemoveItems, stub, request);
      if (reply.status.ok()) item.quantity -= quantity;
    } else if (choice <= 7) {
      const std::string name =
          absl::StrCat("Name of ", item.id, " v", item.version + 1);
      v1::RenameItemRequest request;
      request.set_item_id(item.id);
      request.set_name(name);
      reply = Call(&CommandStub::RenameItem, stub, request);
      if (reply.status.ok()) item.name = name;
    } else {
      v1::DeactivateItemRequest request;
      request.set_item_id(item.id);
      reply = Call(&CommandStub::DeactivateItem, stub, request);
      if (reply.status.ok()) item.active = false;
    }
  }
  if (reply.status.ok()) item.version = reply.version;
  return reply;
}

inline ExpectedItem NewItem(const std::string& id) {
  ExpectedItem item;
  item.id = id;
  item.sku = "SKU-" + id;
  for (char& c : item.sku) c = static_cast<char>(std::toupper(c));
  item.name = "Name of " + id;
  return item;
}

// --- Queries -----------------------------------------------------------------

template <typename Request, typename Response>
grpc::Status Query(grpc::Status (QueryStub::*method)(grpc::ClientContext*,
                                                     const Request&, Response*),
                   QueryStub& stub, const Request& request, Response* response,
                   absl::Duration timeout = kCallTimeout) {
  grpc::ClientContext context;
  if (timeout != absl::InfiniteDuration()) {
    context.set_deadline(absl::ToChronoTime(Deadline(timeout)));
  }
  return (stub.*method)(&context, request, response);
}

inline grpc::Status GetItem(QueryStub& stub, const v1::GetItemRequest& request,
                            v1::GetItemResponse* response,
                            absl::Duration timeout = kCallTimeout) {
  return Query(&QueryStub::GetItem, stub, request, response, timeout);
}
inline grpc::Status ListItems(QueryStub& stub,
                              const v1::ListItemsRequest& request,
                              v1::ListItemsResponse* response,
                              absl::Duration timeout = kCallTimeout) {
  return Query(&QueryStub::ListItems, stub, request, response, timeout);
}
inline grpc::Status GetItemHistory(QueryStub& stub,
                                   const v1::GetItemHistoryRequest& request,
                                   v1::GetItemHistoryResponse* response,
                                   absl::Duration timeout = kCallTimeout) {
  return Query(&QueryStub::GetItemHistory, stub, request, response, timeout);
}
inline grpc::Status GetStats(QueryStub& stub,
                             const v1::GetInventoryStatsRequest& request,
                             v1::GetInventoryStatsResponse* response,
                             absl::Duration timeout = kCallTimeout) {
  return Query(&QueryStub::GetInventoryStats, stub, request, response, timeout);
}

inline v1::GetItemRequest ItemRequest(
    const std::string& id, int64_t min_position,
    std::optional<int64_t> as_of = std::nullopt) {
  v1::GetItemRequest request;
  request.set_item_id(id);
  request.set_min_position(min_position);
  if (as_of.has_value()) request.set_as_of_version(*as_of);
  return request;
}

// Every item, following next_page_token with `page_size`; empty (with a
// test failure) on an error. `*position` gets the first page's position.
inline std::vector<v1::Item> ListAll(QueryStub& stub, int32_t page_size,
                                     int64_t min_position,
                                     int64_t* position = nullptr) {
  std::vector<v1::Item> items;
  v1::ListItemsRequest request;
  request.set_page_size(page_size);
  request.set_min_position(min_position);
  for (int page = 0;; ++page) {
    v1::ListItemsResponse response;
    const grpc::Status status = ListItems(stub, request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    if (!status.ok() || page > 100000) return {};
    if (page == 0 && position != nullptr) *position = response.position();
    EXPECT_GE(response.position(), min_position);
    items.insert(items.end(), response.items().begin(), response.items().end());
    if (response.next_page_token().empty()) return items;
    request.set_page_token(response.next_page_token());
  }
}

inline std::vector<v1::Event> HistoryOf(QueryStub& stub, const std::string& id,
                                        int32_t page_size,
                                        int64_t min_position) {
  std::vector<v1::Event> events;
  v1::GetItemHistoryRequest request;
  request.set_item_id(id);
  request.set_page_size(page_size);
  request.set_min_position(min_position);
  for (int page = 0;; ++page) {
    v1::GetItemHistoryResponse response;
    const grpc::Status status = GetItemHistory(stub, request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    if (!status.ok() || page > 100000) return {};
    EXPECT_GE(response.position(), min_position);
    events.insert(events.end(), response.events().begin(),
                  response.events().end());
    if (response.next_page_token().empty()) return events;
    request.set_page_token(response.next_page_token());
  }
}

// Non-fatal checks that `item` is what `expected` says.
inline void ExpectItemIs(const v1::Item& item, const ExpectedItem& expected) {
  EXPECT_EQ(item.item_id(), expected.id);
  EXPECT_EQ(item.sku(), expected.sku);
  EXPECT_EQ(item.name(), expected.name);
  EXPECT_EQ(item.quantity_on_hand(), expected.quantity);
  EXPECT_EQ(item.active(), expected.active);
  EXPECT_EQ(item.version(), expected.version);
  EXPECT_TRUE(item.has_created_at());
  EXPECT_TRUE(item.has_updated_at());
}

// The field an INVALID_ARGUMENT names, or "" when it names none.
inline std::string FieldOf(const grpc::Status& status) {
  const std::optional<FieldViolation> violation =
      FieldViolationOf(FromGrpcStatus(status));
  return violation.has_value() ? violation->field : "";
}

// An open WatchItem call.
struct Watch {
  grpc::ClientContext context;
  std::unique_ptr<grpc::ClientReader<v1::WatchItemResponse>> reader;
};

inline std::unique_ptr<Watch> StartWatch(
    QueryStub& stub, const std::string& id, int64_t min_position,
    absl::Duration timeout = kWatchDeadline) {
  auto watch = std::make_unique<Watch>();
  watch->context.set_deadline(absl::ToChronoTime(Deadline(timeout)));
  v1::WatchItemRequest request;
  request.set_item_id(id);
  request.set_min_position(min_position);
  watch->reader = stub.WatchItem(&watch->context, request);
  return watch;
}

// The status of a WatchItem call that is expected to fail before sending.
inline grpc::Status WatchFails(QueryStub& stub, const std::string& id,
                               int64_t min_position, absl::Duration timeout) {
  std::unique_ptr<Watch> watch = StartWatch(stub, id, min_position, timeout);
  v1::WatchItemResponse message;
  EXPECT_FALSE(watch->reader->Read(&message)) << message.DebugString();
  return watch->reader->Finish();
}

// --- The fixture -------------------------------------------------------------

// A command server on an in-memory store and a query server following it,
// caught up (SERVING) before the test body starts.
class QueryServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    command_ = StartCommandNode(&store_, "127.0.0.1:0");
    ASSERT_NE(command_, nullptr);
    query_ = StartQueryNode(QueryOptions(command_->server->port()));
    ASSERT_NE(query_, nullptr);
    ASSERT_TRUE(AwaitHealth(*query_->health, "", HealthCheckResponse::SERVING));
  }

  CommandStub& commands() { return *command_->commands; }
  QueryStub& queries() { return *query_->queries; }

  // Creates `item` and checks `quantity` units in; returns the position.
  int64_t CreateWithStock(ExpectedItem& item, int64_t quantity) {
    Reply reply = Create(commands(), item);
    EXPECT_TRUE(reply.status.ok()) << reply.status.error_message();
    if (quantity > 0) {
      reply = CheckIn(commands(), item, quantity);
      EXPECT_TRUE(reply.status.ok()) << reply.status.error_message();
    }
    return reply.global_position;
  }

  InMemoryEventStore store_;  // outlives both servers
  std::unique_ptr<CommandNode> command_;
  std::unique_ptr<QueryNode> query_;  // stopped first
};

// Polls `condition` every 20 ms until it holds; false when `timeout` passes
// first.
inline bool Eventually(const std::function<bool()>& condition,
                       absl::Duration timeout = kWaitTimeout) {
  const absl::Time deadline = Deadline(timeout);
  while (!condition()) {
    if (absl::Now() >= deadline) return false;
    absl::SleepFor(absl::Milliseconds(20));
  }
  return true;
}

}  // namespace inventory::query_server_testing

#endif  // INVENTORY_TESTS_QUERY_SERVER_FIXTURE_H_
