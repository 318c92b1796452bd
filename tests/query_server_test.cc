// The read side as a real gRPC server: a CommandServer (on an in-memory
// store) and a QueryServer subscribed to it, both in this process on free
// loopback ports, called through real channels with the generated stubs.
//
// Covers health (NOT_SERVING until the first catch-up), read-your-writes for
// many concurrent commands (every query with a command's global_position as
// min_position sees that command), min_position deadlines, every validation
// error, NOT_FOUND, WatchItem, a query server started after the events, and
// a command-service restart on the same port; the read side never skipping
// (an event it cannot project stops it there) and rebuilding when the log
// becomes shorter than its checkpoint; a filtered ListItems that reaches
// the scan limit (short pages with a token, paging still complete). Nothing
// waits by sleeping: every wait is on a condition (a min_position, a stream
// message, a health status polled until it changes), bounded by a deadline.
#include "query-service/server/query_server.h"

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
#include "common/eventstore/in_memory_event_store.h"
#include "common/rpc/grpc_status.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/message_differencer.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "gtest/gtest.h"
#include "inventory/v1/command_service.grpc.pb.h"
#include "inventory/v1/event_stream_service.grpc.pb.h"
#include "inventory/v1/query_service.grpc.pb.h"
#include "tests/support/health_probe.h"

namespace inventory {
namespace {

using ::google::protobuf::util::MessageDifferencer;
using ::grpc::StatusCode;
using ::grpc::health::v1::Health;
using ::grpc::health::v1::HealthCheckRequest;
using ::grpc::health::v1::HealthCheckResponse;
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

absl::Time Deadline(absl::Duration timeout) { return absl::Now() + timeout; }

// --- The servers -------------------------------------------------------------

CommandServerOptions CommandOptions(const std::string& listen) {
  CommandServerOptions options;
  options.listen = listen;
  options.health_probe_interval = absl::Milliseconds(100);
  options.stream.heartbeat_interval = absl::Milliseconds(200);
  options.live.idle_wait = absl::Milliseconds(100);
  return options;
}

QueryServerOptions QueryOptions(int command_port) {
  QueryServerOptions options;
  options.listen = "127.0.0.1:0";
  options.command_service = absl::StrCat("127.0.0.1:", command_port);
  options.subscriber.initial_backoff = absl::Milliseconds(10);
  options.subscriber.max_backoff = absl::Milliseconds(200);
  options.subscriber.stopped_retry_interval = absl::Milliseconds(100);
  return options;
}

struct CommandNode {
  std::unique_ptr<CommandServer> server;
  std::shared_ptr<grpc::Channel> channel;
  std::unique_ptr<v1::CommandService::Stub> commands;
};

// Null (with a test failure) when the server cannot start.
std::unique_ptr<CommandNode> StartCommandNode(EventStore* store,
                                              const std::string& listen) {
  auto server = CommandServer::Start(store, CommandOptions(listen));
  EXPECT_TRUE(server.ok()) << server.status();
  if (!server.ok()) return nullptr;
  auto node = std::make_unique<CommandNode>();
  node->server = std::move(*server);
  node->channel =
      grpc::CreateChannel(absl::StrCat("127.0.0.1:", node->server->port()),
                          grpc::InsecureChannelCredentials());
  node->commands = v1::CommandService::NewStub(node->channel);
  return node;
}

struct QueryNode {
  std::unique_ptr<QueryServer> server;
  std::shared_ptr<grpc::Channel> channel;
  std::unique_ptr<v1::QueryService::Stub> queries;
  std::unique_ptr<Health::Stub> health;
};

std::unique_ptr<QueryNode> StartQueryNode(const QueryServerOptions& options) {
  auto server = QueryServer::Start(options);
  EXPECT_TRUE(server.ok()) << server.status();
  if (!server.ok()) return nullptr;
  auto node = std::make_unique<QueryNode>();
  node->server = std::move(*server);
  EXPECT_GT(node->server->port(), 0);
  node->channel =
      grpc::CreateChannel(absl::StrCat("127.0.0.1:", node->server->port()),
                          grpc::InsecureChannelCredentials());
  node->queries = v1::QueryService::NewStub(node->channel);
  node->health = Health::NewStub(node->channel);
  return node;
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

Reply Create(CommandStub& stub, ExpectedItem& item) {
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

Reply CheckIn(CommandStub& stub, ExpectedItem& item, int64_t quantity) {
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
Reply SendRandomCommand(CommandStub& stub, ExpectedItem& item,
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

ExpectedItem NewItem(const std::string& id) {
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

grpc::Status GetItem(QueryStub& stub, const v1::GetItemRequest& request,
                     v1::GetItemResponse* response,
                     absl::Duration timeout = kCallTimeout) {
  return Query(&QueryStub::GetItem, stub, request, response, timeout);
}
grpc::Status ListItems(QueryStub& stub, const v1::ListItemsRequest& request,
                       v1::ListItemsResponse* response,
                       absl::Duration timeout = kCallTimeout) {
  return Query(&QueryStub::ListItems, stub, request, response, timeout);
}
grpc::Status GetItemHistory(QueryStub& stub,
                            const v1::GetItemHistoryRequest& request,
                            v1::GetItemHistoryResponse* response,
                            absl::Duration timeout = kCallTimeout) {
  return Query(&QueryStub::GetItemHistory, stub, request, response, timeout);
}
grpc::Status GetStats(QueryStub& stub,
                      const v1::GetInventoryStatsRequest& request,
                      v1::GetInventoryStatsResponse* response,
                      absl::Duration timeout = kCallTimeout) {
  return Query(&QueryStub::GetInventoryStats, stub, request, response, timeout);
}

v1::GetItemRequest ItemRequest(const std::string& id, int64_t min_position,
                               std::optional<int64_t> as_of = std::nullopt) {
  v1::GetItemRequest request;
  request.set_item_id(id);
  request.set_min_position(min_position);
  if (as_of.has_value()) request.set_as_of_version(*as_of);
  return request;
}

// Every item, following next_page_token with `page_size`; empty (with a
// test failure) on an error. `*position` gets the first page's position.
std::vector<v1::Item> ListAll(QueryStub& stub, int32_t page_size,
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

std::vector<v1::Event> HistoryOf(QueryStub& stub, const std::string& id,
                                 int32_t page_size, int64_t min_position) {
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
void ExpectItemIs(const v1::Item& item, const ExpectedItem& expected) {
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
std::string FieldOf(const grpc::Status& status) {
  const std::optional<FieldViolation> violation =
      FieldViolationOf(FromGrpcStatus(status));
  return violation.has_value() ? violation->field : "";
}

// An open WatchItem call.
struct Watch {
  grpc::ClientContext context;
  std::unique_ptr<grpc::ClientReader<v1::WatchItemResponse>> reader;
};

std::unique_ptr<Watch> StartWatch(QueryStub& stub, const std::string& id,
                                  int64_t min_position,
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
grpc::Status WatchFails(QueryStub& stub, const std::string& id,
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
  EXPECT_EQ(CheckHealth(*query->health, "no.such.Service", &unknown_status)
                .error_code(),
            StatusCode::NOT_FOUND);
  // Queries are answered from what has been applied (nothing yet).
  v1::GetItemResponse item_response;
  EXPECT_EQ(GetItem(*query->queries, ItemRequest("item-0", 0), &item_response)
                .error_code(),
            StatusCode::NOT_FOUND);
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
    EXPECT_EQ(watch->reader->Finish().error_code(), StatusCode::CANCELLED);
  }
}

TEST_F(QueryServerTest, AFarMinPositionEndsPromptlyWithDeadlineExceeded) {
  ExpectedItem item = NewItem("late");
  ASSERT_GT(CreateWithStock(item, 5), 0);
  constexpr absl::Duration kShort = absl::Milliseconds(300);
  const std::vector<std::pair<std::string, std::function<grpc::Status()>>>
      calls = {
          {"GetItem",
           [&] {
             v1::GetItemResponse response;
             return GetItem(queries(), ItemRequest(item.id, kFarPosition),
                            &response, kShort);
           }},
          {"ListItems",
           [&] {
             v1::ListItemsRequest request;
             request.set_min_position(kFarPosition);
             v1::ListItemsResponse response;
             return ListItems(queries(), request, &response, kShort);
           }},
          {"GetItemHistory",
           [&] {
             v1::GetItemHistoryRequest request;
             request.set_item_id(item.id);
             request.set_min_position(kFarPosition);
             v1::GetItemHistoryResponse response;
             return GetItemHistory(queries(), request, &response, kShort);
           }},
          {"GetInventoryStats",
           [&] {
             v1::GetInventoryStatsRequest request;
             request.set_min_position(kFarPosition);
             v1::GetInventoryStatsResponse response;
             return GetStats(queries(), request, &response, kShort);
           }},
          {"WatchItem",
           [&] {
             return WatchFails(queries(), item.id, kFarPosition, kShort);
           }},
      };
  for (const auto& [name, call] : calls) {
    SCOPED_TRACE(name);
    const absl::Time start = absl::Now();
    const grpc::Status status = call();
    const absl::Duration took = absl::Now() - start;
    EXPECT_EQ(status.error_code(), StatusCode::DEADLINE_EXCEEDED)
        << status.error_message();
    EXPECT_LT(took, absl::Seconds(5));
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
  EXPECT_EQ(status.error_code(), StatusCode::DEADLINE_EXCEEDED);
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
  EXPECT_EQ(QueryServer::Start(options).status().code(),
            absl::StatusCode::kInvalidArgument);
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
  EXPECT_EQ(ListItems(*query->queries, request, &wrong).error_code(),
            StatusCode::INVALID_ARGUMENT);
}

// --- Errors ------------------------------------------------------------------

TEST_F(QueryServerTest, EveryValidationErrorIsInvalidArgumentNamingTheField) {
  ExpectedItem item = NewItem("valid");
  ASSERT_GT(CreateWithStock(item, 5), 0);
  ExpectedItem other = NewItem("other");
  const int64_t head = CreateWithStock(other, 5);
  ASSERT_GT(head, 0);
  // A real token, for the wrong query.
  v1::GetItemHistoryRequest first_page;
  first_page.set_item_id(item.id);
  first_page.set_page_size(1);
  first_page.set_min_position(head);
  v1::GetItemHistoryResponse history_page;
  ASSERT_TRUE(GetItemHistory(queries(), first_page, &history_page).ok());
  ASSERT_FALSE(history_page.next_page_token().empty());
  const std::string history_token = history_page.next_page_token();

  auto get_item = [&](const std::string& id, int64_t min_position,
                      std::optional<int64_t> as_of) {
    return [&, id, min_position, as_of] {
      v1::GetItemResponse response;
      return GetItem(queries(), ItemRequest(id, min_position, as_of),
                     &response);
    };
  };
  auto list = [&](std::function<void(v1::ListItemsRequest&)> edit) {
    return [&, edit] {
      v1::ListItemsRequest request;
      edit(request);
      v1::ListItemsResponse response;
      return ListItems(queries(), request, &response);
    };
  };
  auto history = [&](std::function<void(v1::GetItemHistoryRequest&)> edit) {
    return [&, edit] {
      v1::GetItemHistoryRequest request;
      request.set_item_id(item.id);
      edit(request);
      v1::GetItemHistoryResponse response;
      return GetItemHistory(queries(), request, &response);
    };
  };
  auto stats = [&](int64_t threshold, int64_t min_position) {
    return [&, threshold, min_position] {
      v1::GetInventoryStatsRequest request;
      request.set_low_stock_threshold(threshold);
      request.set_min_position(min_position);
      v1::GetInventoryStatsResponse response;
      return GetStats(queries(), request, &response);
    };
  };
  auto watch = [&](const std::string& id, int64_t min_position) {
    return [&, id, min_position] {
      return WatchFails(queries(), id, min_position, kCallTimeout);
    };
  };

  struct Case {
    std::string name;
    std::function<grpc::Status()> call;
    std::string field;
  };
  const std::string long_id(65, 'a');
  const std::vector<Case> cases = {
      {"GetItem empty item_id", get_item("", 0, std::nullopt), "item_id"},
      {"GetItem bad item_id", get_item("bad id!", 0, std::nullopt), "item_id"},
      {"GetItem long item_id", get_item(long_id, 0, std::nullopt), "item_id"},
      {"GetItem as_of_version 0", get_item(item.id, 0, 0), "as_of_version"},
      {"GetItem as_of_version -1", get_item(item.id, 0, -1), "as_of_version"},
      {"GetItem min_position -1", get_item(item.id, -1, std::nullopt),
       "min_position"},
      {"ListItems page_size -1", list([](auto& r) { r.set_page_size(-1); }),
       "page_size"},
      {"ListItems page_size 1001", list([](auto& r) { r.set_page_size(1001); }),
       "page_size"},
      {"ListItems min_position -1",
       list([](auto& r) { r.set_min_position(-1); }), "min_position"},
      {"ListItems garbage page_token",
       list([](auto& r) { r.set_page_token("garbage!!"); }), "page_token"},
      {"ListItems base64 page_token",
       list([](auto& r) { r.set_page_token("Z2FyYmFnZQ"); }), "page_token"},
      {"ListItems history page_token",
       list([&](auto& r) { r.set_page_token(history_token); }), "page_token"},
      {"ListItems huge page_token",
       list([](auto& r) { r.set_page_token(std::string(2000, 'A')); }),
       "page_token"},
      {"ListItems long name_contains",
       list([](auto& r) { r.set_name_contains(std::string(201, 'x')); }),
       "name_contains"},
      {"ListItems long sku_prefix",
       list([](auto& r) { r.set_sku_prefix(std::string(33, 'X')); }),
       "sku_prefix"},
      {"GetItemHistory bad item_id",
       history([](auto& r) { r.set_item_id("no/slash"); }), "item_id"},
      {"GetItemHistory empty item_id",
       history([](auto& r) { r.set_item_id(""); }), "item_id"},
      {"GetItemHistory page_size -1",
       history([](auto& r) { r.set_page_size(-1); }), "page_size"},
      {"GetItemHistory page_size 1001",
       history([](auto& r) { r.set_page_size(1001); }), "page_size"},
      {"GetItemHistory min_position -1",
       history([](auto& r) { r.set_min_position(-1); }), "min_position"},
      {"GetItemHistory garbage page_token",
       history([](auto& r) { r.set_page_token("garbage!!"); }), "page_token"},
      {"GetItemHistory other item's page_token", history([&](auto& r) {
         r.set_item_id(other.id);
         r.set_page_token(history_token);
       }),
       "page_token"},
      {"GetInventoryStats low_stock_threshold -1", stats(-1, 0),
       "low_stock_threshold"},
      {"GetInventoryStats min_position -1", stats(0, -1), "min_position"},
      {"WatchItem bad item_id", watch("bad id!", 0), "item_id"},
      {"WatchItem empty item_id", watch("", 0), "item_id"},
      {"WatchItem min_position -1", watch(item.id, -1), "min_position"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    const grpc::Status status = c.call();
    EXPECT_EQ(status.error_code(), StatusCode::INVALID_ARGUMENT)
        << status.error_message();
    EXPECT_EQ(FieldOf(status), c.field) << status.error_message();
    EXPECT_THAT(status.error_message(), HasSubstr(c.field));
  }

  // A token the service never issued is not called one of another query;
  // a real one of another query is.
  for (const std::string token : {"garbage", "Z2FyYmFnZQ", "garbage!!"}) {
    SCOPED_TRACE(token);
    const grpc::Status status =
        list([&](auto& r) { r.set_page_token(token); })();
    EXPECT_EQ(status.error_message(),
              "page_token: not a token issued by this service");
  }
  EXPECT_EQ(
      list([&](auto& r) { r.set_page_token(history_token); })().error_message(),
      "page_token: was issued for a different query or filter");

  // The limits themselves are fine.
  const std::vector<std::pair<std::string, std::function<grpc::Status()>>>
      valid = {
          {"page_size 0", list([](auto& r) { r.set_page_size(0); })},
          {"page_size 1000", list([](auto& r) { r.set_page_size(1000); })},
          {"page_size 1", list([](auto& r) { r.set_page_size(1); })},
          {"history page_size 1000",
           history([](auto& r) { r.set_page_size(1000); })},
          {"history token",
           history([&](auto& r) { r.set_page_token(history_token); })},
          {"as_of_version 1", get_item(item.id, 0, 1)},
          {"64-character item_id (unknown)",
           get_item(std::string(64, 'a'), 0, std::nullopt)},
          {"low_stock_threshold 0", stats(0, 0)},
          {"name_contains 200 bytes",
           list([](auto& r) { r.set_name_contains(std::string(200, 'x')); })},
          {"sku_prefix 32 bytes",
           list([](auto& r) { r.set_sku_prefix(std::string(32, 'X')); })},
      };
  for (const auto& [name, call] : valid) {
    SCOPED_TRACE(name);
    const grpc::Status status = call();
    EXPECT_NE(status.error_code(), StatusCode::INVALID_ARGUMENT)
        << status.error_message();
  }
}

TEST_F(QueryServerTest, UnknownItemsAndVersionsAreNotFound) {
  ExpectedItem item = NewItem("known");
  const int64_t position = CreateWithStock(item, 5);  // versions 1 and 2

  v1::GetItemResponse response;
  EXPECT_EQ(GetItem(queries(), ItemRequest("unknown", position), &response)
                .error_code(),
            StatusCode::NOT_FOUND);
  EXPECT_EQ(GetItem(queries(), ItemRequest(item.id, position, 3), &response)
                .error_code(),
            StatusCode::NOT_FOUND);
  v1::GetItemHistoryRequest history_request;
  history_request.set_item_id("unknown");
  history_request.set_min_position(position);
  v1::GetItemHistoryResponse history;
  EXPECT_EQ(GetItemHistory(queries(), history_request, &history).error_code(),
            StatusCode::NOT_FOUND);
  EXPECT_EQ(
      WatchFails(queries(), "unknown", position, kCallTimeout).error_code(),
      StatusCode::NOT_FOUND);

  // Temporal queries over gRPC: each version as it was.
  ASSERT_TRUE(
      GetItem(queries(), ItemRequest(item.id, position, 1), &response).ok());
  EXPECT_EQ(response.item().version(), 1);
  EXPECT_EQ(response.item().quantity_on_hand(), 0);
  EXPECT_EQ(response.position(), position);
  ASSERT_TRUE(
      GetItem(queries(), ItemRequest(item.id, position, 2), &response).ok());
  EXPECT_EQ(response.item().version(), 2);
  EXPECT_EQ(response.item().quantity_on_hand(), 5);
}

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
  EXPECT_EQ(watch->reader->Finish().error_code(), StatusCode::CANCELLED);
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
  EXPECT_EQ(watch->reader->Finish().error_code(), StatusCode::UNAVAILABLE);
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

// --- The read side never skips -----------------------------------------------

// Polls `condition` every 20 ms until it holds; false when `timeout` passes
// first.
bool Eventually(const std::function<bool()>& condition,
                absl::Duration timeout = kWaitTimeout) {
  const absl::Time deadline = Deadline(timeout);
  while (!condition()) {
    if (absl::Now() >= deadline) return false;
    absl::SleepFor(absl::Milliseconds(20));
  }
  return true;
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
  EXPECT_EQ(beyond.error_code(), StatusCode::OUT_OF_RANGE)
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
  EXPECT_EQ(diverged.error_code(), StatusCode::OUT_OF_RANGE)
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
  EXPECT_EQ(subscribe(0, first_id, &first).error_code(),
            StatusCode::INVALID_ARGUMENT);
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
  EXPECT_EQ(
      GetItem(queries(), ItemRequest(after.id, 0), &response).error_code(),
      StatusCode::NOT_FOUND);
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
  EXPECT_EQ(beyond.error_code(), StatusCode::UNAVAILABLE)
      << beyond.error_message();
  EXPECT_THAT(beyond.error_message(),
              HasSubstr(absl::StrCat("position ", stop_after + 1)));
  EXPECT_THAT(beyond.error_message(), HasSubstr("inventory.v1.ItemTeleported"));
  EXPECT_LT(absl::Now() - start, kCallTimeout / 2);
  ASSERT_TRUE(
      GetItem(queries(), ItemRequest(before.id, stop_after), &response).ok());
}

// An EventStore that forwards to one of two stores, switched at will: a
// database "restored" under a running command-service.
class SwitchableStore final : public EventStore {
 public:
  explicit SwitchableStore(EventStore* store) : current_(store) {}
  void Use(EventStore* store) { current_ = store; }

  absl::StatusOr<AppendResult> Append(const AppendRequest& request) override {
    return current_.load()->Append(request);
  }
  absl::StatusOr<std::vector<RecordedEvent>> ReadStream(
      absl::string_view stream_id, int64_t from_version,
      int64_t max_count) override {
    return current_.load()->ReadStream(stream_id, from_version, max_count);
  }
  absl::StatusOr<std::vector<RecordedEvent>> ReadAll(
      int64_t after_position, int64_t max_count) override {
    return current_.load()->ReadAll(after_position, max_count);
  }
  absl::StatusOr<int64_t> HeadPosition() override {
    return current_.load()->HeadPosition();
  }
  absl::StatusOr<bool> WaitForEventsAfter(int64_t after_position,
                                          absl::Time deadline) override {
    return current_.load()->WaitForEventsAfter(after_position, deadline);
  }
  void StopWaiting() override { current_.load()->StopWaiting(); }
  absl::StatusOr<std::optional<RecordedRequest>> FindRequest(
      absl::string_view request_id) override {
    return current_.load()->FindRequest(request_id);
  }

 private:
  std::atomic<EventStore*> current_;
};

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
  EXPECT_EQ(
      GetItem(*query.queries, ItemRequest("long-1", 0), &response).error_code(),
      StatusCode::NOT_FOUND);
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
  EXPECT_EQ(GetItem(*query->queries, ItemRequest("long-1", 0), &response)
                .error_code(),
            StatusCode::NOT_FOUND);
  int64_t position = 0;
  EXPECT_EQ(ListAll(*query->queries, 10, 0, &position).size(), 3u);
  EXPECT_EQ(position, 12);
}

TEST(QueryServerLogTest, RebuildsWhenTheLogShrinksUnderALiveSubscription) {
  InMemoryEventStore shorter;
  const std::vector<ExpectedItem> short_items = WriteShorterLog(&shorter);
  ASSERT_EQ(short_items.size(), 2u);
  InMemoryEventStore longer;
  SwitchableStore store(&longer);
  CommandServerOptions options = CommandOptions("127.0.0.1:0");
  options.live.head_check_interval = absl::Milliseconds(100);
  auto command = CommandServer::Start(&store, options);
  ASSERT_TRUE(command.ok()) << command.status();
  auto channel =
      grpc::CreateChannel(absl::StrCat("127.0.0.1:", (*command)->port()),
                          grpc::InsecureChannelCredentials());
  auto commands = v1::CommandService::NewStub(channel);
  const int64_t head = WriteLongerLog(*commands);
  ASSERT_EQ(head, 10);
  std::unique_ptr<QueryNode> query =
      StartQueryNode(QueryOptions((*command)->port()));
  ASSERT_NE(query, nullptr);
  v1::GetItemResponse response;
  ASSERT_TRUE(GetItem(*query->queries, ItemRequest("long-1", head), &response,
                      kWaitTimeout)
                  .ok());

  // The database is restored under the running command-service.
  store.Use(&shorter);
  ASSERT_TRUE(Eventually([&] {
    return query->server->subscriber().rebuilds() == 1 &&
           query->server->subscriber().serving();
  }));
  ASSERT_TRUE(AwaitHealth(*query->health, "", HealthCheckResponse::SERVING));
  ExpectExactlyTheShorterLog(*query, short_items);
}

}  // namespace
}  // namespace inventory
