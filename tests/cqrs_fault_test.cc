// The whole CQRS loop as real processes (PostgreSQL, command-service,
// query-service) under faults: kill -9 of either service while commands
// flow, and a PostgreSQL restart; and a chaos test with 32 concurrent
// clients, a subscriber that stalls for 30 seconds, and all of those faults
// in one run. After each, every acknowledged command is in the store
// exactly once, nothing else is, and the query-service's read model equals
// a fold of the store, reached without any manual step.
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
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/synchronization/mutex.h"
#include "common/event_codec.h"
#include "common/postgres_event_store.h"
#include "gmock/gmock.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "gtest/gtest.h"
#include "inventory/v1/command_service.grpc.pb.h"
#include "inventory/v1/event_stream_service.grpc.pb.h"
#include "inventory/v1/query_service.grpc.pb.h"
#include "query-service/read_model/item_projection.h"
#include "tests/support/postgres_test_main.h"
#include "tests/support/service_process.h"

namespace inventory {
namespace {

using test_support::ServiceProcess;
using HealthStatus = grpc::health::v1::HealthCheckResponse;

constexpr int kItems = 10;

std::unique_ptr<grpc::ClientContext> ContextWithDeadline(absl::Duration d) {
  auto context = std::make_unique<grpc::ClientContext>();
  context->set_deadline(absl::ToChronoTime(absl::Now() + d));
  return context;
}

// Sends commands one after another, each with its own request_id and
// retried with the same id until it is acknowledged, so that a response
// lost to a crash is answered by replay, never applied twice.
class CommandSender {
 public:
  explicit CommandSender(std::string address) : address_(std::move(address)) {}

  // Sends command number `i`: creates item i for i < kItems, then checks in
  // (i % 5 + 1) units of item i % kItems. Returns once acknowledged.
  void Send(int i) {
    const absl::Time give_up = absl::Now() + absl::Seconds(90);
    for (;;) {
      auto stub = inventory::v1::CommandService::NewStub(
          grpc::CreateChannel(address_, grpc::InsecureChannelCredentials()));
      auto context = ContextWithDeadline(absl::Seconds(5));
      grpc::Status status;
      if (i < kItems) {
        inventory::v1::CreateItemRequest request;
        request.set_item_id(absl::StrCat("item", i));
        request.set_sku("SKU-1");
        request.set_name(absl::StrCat("Item ", i));
        request.set_request_id(absl::StrCat("cmd-", i));
        inventory::v1::CreateItemResponse response;
        status = stub->CreateItem(context.get(), request, &response);
      } else {
        inventory::v1::CheckInItemsRequest request;
        request.set_item_id(absl::StrCat("item", i % kItems));
        request.set_quantity(i % 5 + 1);
        request.set_request_id(absl::StrCat("cmd-", i));
        inventory::v1::CheckInItemsResponse response;
        status = stub->CheckInItems(context.get(), request, &response);
      }
      if (status.ok()) break;
      ASSERT_TRUE(status.error_code() == grpc::StatusCode::UNAVAILABLE ||
                  status.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED)
          << "command " << i << ": " << status.error_message();
      ASSERT_LT(absl::Now(), give_up) << "command " << i << " never landed";
      // Waiting for the service to come back: nothing to block on.
      absl::SleepFor(absl::Milliseconds(50));
    }
    absl::MutexLock lock(&mu_);
    ++acknowledged_;
  }

  // Blocks until at least `count` commands were acknowledged.
  void AwaitAcknowledged(int count) {
    absl::MutexLock lock(&mu_);
    auto reached = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return acknowledged_ >= count;
    };
    ASSERT_TRUE(
        mu_.AwaitWithTimeout(absl::Condition(&reached), absl::Seconds(120)));
  }

 private:
  const std::string address_;
  absl::Mutex mu_;
  int acknowledged_ ABSL_GUARDED_BY(mu_) = 0;
};

// What the first `count` commands must have produced.
std::map<std::string, int64_t> ExpectedQuantities(int count) {
  std::map<std::string, int64_t> quantities;
  for (int i = 0; i < count; ++i) {
    if (i < kItems) {
      quantities[absl::StrCat("item", i)] = 0;
    } else {
      quantities[absl::StrCat("item", i % kItems)] += i % 5 + 1;
    }
  }
  return quantities;
}

// What a command's acknowledgement said.
struct Acknowledgement {
  std::string item_id;
  int64_t version = 0;
  int64_t global_position = 0;
};

// Every acknowledgement the chaos clients received, by request_id.
class AcknowledgementLedger {
 public:
  void Record(const std::string& request_id, Acknowledgement acknowledgement) {
    absl::MutexLock lock(&mu_);
    EXPECT_TRUE(by_request_.emplace(request_id, acknowledgement).second)
        << request_id << " acknowledged twice";
  }
  int count() {
    absl::MutexLock lock(&mu_);
    return static_cast<int>(by_request_.size());
  }
  // Blocks until `count` commands in all were acknowledged; false after a
  // minute without.
  bool AwaitCount(int count) {
    absl::MutexLock lock(&mu_);
    auto reached = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return static_cast<int>(by_request_.size()) >= count;
    };
    return mu_.AwaitWithTimeout(absl::Condition(&reached), absl::Seconds(60));
  }
  std::map<std::string, Acknowledgement> all() {
    absl::MutexLock lock(&mu_);
    return by_request_;
  }

 private:
  absl::Mutex mu_;
  std::map<std::string, Acknowledgement> by_request_ ABSL_GUARDED_BY(mu_);
};

constexpr char kSharedItem[] = "shared";

// One client of the chaos test. It owns its items, so it knows their state
// and sends only commands that must succeed (creating, renaming with
// expected_version, checking in, removing what is on hand, deactivating,
// reactivating), and now and then checks in on the item that every client
// shares. It retries each command with its request_id until it is
// acknowledged, through crashes and restarts, and records the answer.
class ChaosClient {
 public:
  ChaosClient(int index, const std::string& address,
              AcknowledgementLedger* ledger)
      : index_(index), ledger_(ledger), random_(index) {
    grpc::ChannelArguments args;
    // Reconnect quickly after a crash, each client on its own connection.
    args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 50);
    args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 250);
    args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
    stub_ = inventory::v1::CommandService::NewStub(grpc::CreateCustomChannel(
        address, grpc::InsecureChannelCredentials(), args));
  }

  // Sends commands until `stop` (finishing the one in flight).
  void Run(const std::atomic<bool>& stop) {
    while (!stop.load() && !failed_) SendOne();
  }

  // What this client's acknowledged commands made of its items.
  const std::map<std::string, inventory::v1::Item>& items() const {
    return items_;
  }
  // Units it checked in on the shared item, and in how many commands.
  int64_t shared_units() const { return shared_units_; }
  int shared_commands() const { return shared_commands_; }

 private:
  void SendOne() {
    const int roll = static_cast<int>(random_() % 100);
    if (items_.size() < 2 || (items_.size() < 6 && roll < 5)) {
      const std::string id = absl::StrCat("c", index_, "-", items_.size());
      inventory::v1::CreateItemRequest request;
      request.set_item_id(id);
      request.set_sku(absl::StrCat("CH-", index_));
      request.set_name(absl::StrCat("Chaos ", id));
      inventory::v1::CreateItemResponse response;
      if (!Send(&inventory::v1::CommandService::Stub::CreateItem, request,
                &response)) {
        return;
      }
      inventory::v1::Item& item = items_[id];
      item.set_item_id(id);
      item.set_sku(request.sku());
      item.set_name(request.name());
      item.set_active(true);
      item.set_version(response.version());
      return;
    }
    if (roll < 10) {
      const int64_t units = roll % 3 + 1;
      if (CheckIn(kSharedItem, units).has_value()) {
        shared_units_ += units;
        ++shared_commands_;
      }
      return;
    }
    auto it = items_.begin();
    std::advance(it, random_() % items_.size());
    inventory::v1::Item& item = it->second;
    const int64_t quantity = static_cast<int64_t>(random_() % 10) + 1;
    if (!item.active()) {
      inventory::v1::ReactivateItemRequest request;
      request.set_item_id(item.item_id());
      request.set_expected_version(item.version());
      inventory::v1::ReactivateItemResponse response;
      if (Send(&inventory::v1::CommandService::Stub::ReactivateItem, request,
               &response)) {
        item.set_active(true);
        item.set_version(response.version());
      }
    } else if (roll < 45 || (roll < 70 && item.quantity_on_hand() == 0)) {
      if (const std::optional<int64_t> version =
              CheckIn(item.item_id(), quantity)) {
        item.set_quantity_on_hand(item.quantity_on_hand() + quantity);
        item.set_version(*version);
      }
    } else if (roll < 70) {
      inventory::v1::RemoveItemsRequest request;
      request.set_item_id(item.item_id());
      request.set_quantity(std::min(quantity, item.quantity_on_hand()));
      inventory::v1::RemoveItemsResponse response;
      if (Send(&inventory::v1::CommandService::Stub::RemoveItems, request,
               &response)) {
        item.set_quantity_on_hand(item.quantity_on_hand() - request.quantity());
        item.set_version(response.version());
      }
    } else if (roll < 90) {
      inventory::v1::RenameItemRequest request;
      request.set_item_id(item.item_id());
      request.set_name(
          absl::StrCat("Chaos ", item.item_id(), " v", item.version() + 1));
      request.set_expected_version(item.version());
      inventory::v1::RenameItemResponse response;
      if (Send(&inventory::v1::CommandService::Stub::RenameItem, request,
               &response)) {
        item.set_name(request.name());
        item.set_version(response.version());
      }
    } else {
      inventory::v1::DeactivateItemRequest request;
      request.set_item_id(item.item_id());
      request.set_expected_version(item.version());
      inventory::v1::DeactivateItemResponse response;
      if (Send(&inventory::v1::CommandService::Stub::DeactivateItem, request,
               &response)) {
        item.set_active(false);
        item.set_version(response.version());
      }
    }
  }

  // Checks in `quantity` units of `item_id`; the item's new version once
  // acknowledged.
  std::optional<int64_t> CheckIn(const std::string& item_id, int64_t quantity) {
    inventory::v1::CheckInItemsRequest request;
    request.set_item_id(item_id);
    request.set_quantity(quantity);
    inventory::v1::CheckInItemsResponse response;
    if (!Send(&inventory::v1::CommandService::Stub::CheckInItems, request,
              &response)) {
      return std::nullopt;
    }
    return response.version();
  }

  // Sends `request` with the next request_id until it is acknowledged;
  // false (and a test failure) on an answer no fault explains, or after two
  // minutes.
  template <typename Request, typename Response, typename Method>
  bool Send(Method method, Request request, Response* response) {
    request.set_request_id(absl::StrCat("c", index_, "-r", ++sent_));
    const absl::Time give_up = absl::Now() + absl::Minutes(2);
    for (;;) {
      auto context = ContextWithDeadline(absl::Seconds(5));
      const grpc::Status status =
          (stub_.get()->*method)(context.get(), request, response);
      if (status.ok()) {
        ledger_->Record(request.request_id(),
                        {response->item_id(), response->version(),
                         response->global_position()});
        return true;
      }
      // A crash, a restart or a busy shared item: the same request again.
      const bool retry =
          status.error_code() == grpc::StatusCode::UNAVAILABLE ||
          status.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED ||
          (status.error_code() == grpc::StatusCode::ABORTED &&
           request.item_id() == kSharedItem);
      if (!retry || absl::Now() > give_up) {
        ADD_FAILURE() << request.request_id() << " on " << request.item_id()
                      << ": " << status.error_code() << " "
                      << status.error_message();
        failed_ = true;
        return false;
      }
      absl::SleepFor(absl::Milliseconds(20));  // the service is down: backoff
    }
  }

  const int index_;
  AcknowledgementLedger* const ledger_;
  std::unique_ptr<inventory::v1::CommandService::Stub> stub_;
  std::mt19937 random_;
  int sent_ = 0;
  bool failed_ = false;
  std::map<std::string, inventory::v1::Item> items_;
  int64_t shared_units_ = 0;
  int shared_commands_ = 0;
};

// The resident memory of process `pid`, in KiB (0 if unreadable).
int64_t ResidentKiB(pid_t pid) {
  std::ifstream status(absl::StrCat("/proc/", pid, "/status"));
  std::string line;
  while (std::getline(status, line)) {
    int64_t kib = 0;
    if (absl::StartsWith(line, "VmRSS:") &&
        absl::SimpleAtoi(absl::StripAsciiWhitespace(absl::StripSuffix(
                             absl::StripPrefix(line, "VmRSS:"), "kB")),
                         &kib)) {
      return kib;
    }
  }
  return 0;
}

class CqrsFaultTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto url = test_support::TestPostgres().CreateDatabase("faults");
    ASSERT_TRUE(url.ok()) << url.status();
    url_ = *url;
    StartCommandService("127.0.0.1:0");
    ASSERT_NE(command_, nullptr);
    command_port_ = command_->port();
    StartQueryService();
  }

  void StartCommandService(const std::string& listen) {
    auto process = ServiceProcess::Start(COMMAND_SERVICE_BINARY,
                                         {absl::StrCat("--listen=", listen)},
                                         {absl::StrCat("DATABASE_URL=", url_)});
    ASSERT_TRUE(process.ok()) << process.status();
    command_ = std::move(*process);
  }

  void StartQueryService() {
    auto process = ServiceProcess::Start(
        QUERY_SERVICE_BINARY,
        {"--listen=127.0.0.1:0",
         absl::StrCat("--command_service=127.0.0.1:", command_port_),
         "--max_backoff=500ms"});
    ASSERT_TRUE(process.ok()) << process.status();
    query_ = std::move(*process);
  }

  HealthStatus::ServingStatus QueryHealth() {
    auto health = grpc::health::v1::Health::NewStub(grpc::CreateChannel(
        query_->address(), grpc::InsecureChannelCredentials()));
    auto context = ContextWithDeadline(absl::Seconds(2));
    grpc::health::v1::HealthCheckResponse response;
    if (!health->Check(context.get(), {}, &response).ok()) {
      return HealthStatus::UNKNOWN;
    }
    return response.status();
  }

  void AwaitQueryServing() {
    const absl::Time give_up = absl::Now() + absl::Seconds(60);
    while (QueryHealth() != HealthStatus::SERVING) {
      ASSERT_LT(absl::Now(), give_up) << query_->Log();
      absl::SleepFor(absl::Milliseconds(20));  // polling a remote status
    }
  }

  // Every event in the store, in order.
  std::vector<RecordedEvent> ReadStore() {
    PostgresEventStoreOptions options;
    options.url = url_;
    auto store = PostgresEventStore::Open(options);
    EXPECT_TRUE(store.ok()) << store.status();
    std::vector<RecordedEvent> events;
    if (!store.ok()) return events;
    for (;;) {
      auto batch = (*store)->ReadAll(
          events.empty() ? 0 : events.back().global_position, 1000);
      EXPECT_TRUE(batch.ok()) << batch.status();
      if (!batch.ok() || batch->empty()) break;
      for (RecordedEvent& recorded : *batch) {
        events.push_back(std::move(recorded));
      }
    }
    return events;
  }

  // Every event in the store, folded into item views by the projection;
  // each request_id must have caused exactly one event.
  std::map<std::string, inventory::v1::Item> FoldStore(int64_t* head) {
    std::map<std::string, inventory::v1::Item> items;
    std::map<std::string, int> request_ids;
    *head = 0;
    for (const RecordedEvent& recorded : ReadStore()) {
      auto event = ToProtoEvent(recorded);
      EXPECT_TRUE(event.ok());
      if (!event.ok()) continue;
      ApplyToItem(*event, &items[ItemIdOf(*event)]);
      ++request_ids[recorded.metadata.request_id];
      EXPECT_EQ(recorded.global_position, *head + 1) << "positions are dense";
      *head = recorded.global_position;
    }
    for (const auto& [id, count] : request_ids) {
      EXPECT_EQ(count, 1) << "request " << id << " applied " << count
                          << " times";
    }
    return items;
  }

  // The query-service's items, read once it has applied `min_position`.
  std::map<std::string, inventory::v1::Item> QueryItems(int64_t min_position) {
    auto stub = inventory::v1::QueryService::NewStub(grpc::CreateChannel(
        query_->address(), grpc::InsecureChannelCredentials()));
    std::map<std::string, inventory::v1::Item> items;
    std::string token;
    do {
      auto context = ContextWithDeadline(absl::Seconds(60));
      inventory::v1::ListItemsRequest request;
      request.set_min_position(min_position);
      request.set_page_token(token);
      request.set_page_size(3);
      inventory::v1::ListItemsResponse response;
      grpc::Status status = stub->ListItems(context.get(), request, &response);
      EXPECT_TRUE(status.ok()) << status.error_message() << query_->Log();
      if (!status.ok()) break;
      EXPECT_GE(response.position(), min_position);
      for (const auto& item : response.items()) items[item.item_id()] = item;
      token = response.next_page_token();
    } while (!token.empty());
    return items;
  }

  // The store, the expectation and the read model all agree.
  void ExpectConverged(int commands) {
    int64_t head = 0;
    const auto folded = FoldStore(&head);
    EXPECT_EQ(head, commands) << "every acknowledged command exactly once";
    const auto expected = ExpectedQuantities(commands);
    ASSERT_EQ(folded.size(), expected.size());
    for (const auto& [id, quantity] : expected) {
      EXPECT_EQ(folded.at(id).quantity_on_hand(), quantity) << id;
    }
    ExpectReadModelEquals(folded, head);
  }

  // The query-service, once it has applied `head`, holds exactly `folded`.
  void ExpectReadModelEquals(
      const std::map<std::string, inventory::v1::Item>& folded, int64_t head) {
    const auto queried = QueryItems(head);
    ASSERT_EQ(queried.size(), folded.size());
    for (const auto& [id, item] : folded) {
      ASSERT_EQ(queried.count(id), 1u) << id;
      EXPECT_EQ(queried.at(id).SerializeAsString(), item.SerializeAsString())
          << id;
    }
  }

  std::string url_;
  int command_port_ = 0;
  std::unique_ptr<ServiceProcess> command_;
  std::unique_ptr<ServiceProcess> query_;
};

TEST_F(CqrsFaultTest, KillingTheCommandServiceMidStreamLosesNothing) {
  AwaitQueryServing();
  constexpr int kCommands = 300;
  CommandSender sender(absl::StrCat("127.0.0.1:", command_port_));
  std::thread client([&] {
    for (int i = 0; i < kCommands; ++i) sender.Send(i);
  });
  sender.AwaitAcknowledged(100);
  command_->Signal(SIGKILL);
  ASSERT_TRUE(command_->Wait(absl::Seconds(10)).ok());
  StartCommandService(absl::StrCat("127.0.0.1:", command_port_));
  sender.AwaitAcknowledged(200);
  command_->Signal(SIGKILL);
  ASSERT_TRUE(command_->Wait(absl::Seconds(10)).ok());
  StartCommandService(absl::StrCat("127.0.0.1:", command_port_));
  client.join();
  ExpectConverged(kCommands);
  EXPECT_EQ(QueryHealth(), HealthStatus::SERVING);
  // The query-service noticed the crashes and reconnected by itself.
  EXPECT_THAT(query_->Log(), ::testing::HasSubstr("event stream ended"));
}

TEST_F(CqrsFaultTest, RestartedQueryServiceRebuildsTheSameState) {
  AwaitQueryServing();
  constexpr int kCommands = 150;
  CommandSender sender(absl::StrCat("127.0.0.1:", command_port_));
  std::thread client([&] {
    for (int i = 0; i < kCommands; ++i) sender.Send(i);
  });
  sender.AwaitAcknowledged(60);
  query_->Signal(SIGKILL);
  ASSERT_TRUE(query_->Wait(absl::Seconds(10)).ok());
  client.join();
  StartQueryService();
  AwaitQueryServing();
  ExpectConverged(kCommands);
}

TEST_F(CqrsFaultTest, PostgresRestartWhileCommandsFlowLosesNothing) {
  if (!test_support::TestPostgres().owns_server())
    GTEST_SKIP() << "TEST_DATABASE_URL server";
  AwaitQueryServing();
  constexpr int kCommands = 150;
  CommandSender sender(absl::StrCat("127.0.0.1:", command_port_));
  std::thread client([&] {
    for (int i = 0; i < kCommands; ++i) sender.Send(i);
  });
  sender.AwaitAcknowledged(50);
  ASSERT_TRUE(test_support::TestPostgres().Stop().ok());
  ASSERT_TRUE(test_support::TestPostgres().Restart().ok());
  client.join();
  ExpectConverged(kCommands);
}

// The chaos test: 32 clients send commands without pause while a
// subscriber stalls for 30 seconds, then the command-service is killed
// three times, PostgreSQL restarts once and the query-service is killed
// once. Every acknowledgement must match exactly one event in the store,
// every event must belong to an acknowledged command, the clients' own
// view of their items must be the fold of the store, and so must the
// query-service's read model.
TEST_F(CqrsFaultTest, ChaosUnderLoadLosesNothingAcknowledged) {
  constexpr int kClients = 32;
  // The documented bound (README, Limits) on what a stalled subscriber may
  // add to the command-service's memory while writers go on.
  constexpr int64_t kStalledSubscriberBoundKiB = 24 * 1024;
  AwaitQueryServing();
  const std::string address = absl::StrCat("127.0.0.1:", command_port_);
  AcknowledgementLedger ledger;
  {
    auto stub = inventory::v1::CommandService::NewStub(
        grpc::CreateChannel(address, grpc::InsecureChannelCredentials()));
    auto context = ContextWithDeadline(absl::Seconds(10));
    inventory::v1::CreateItemRequest request;
    request.set_item_id(kSharedItem);
    request.set_sku("SHARED");
    request.set_name("Shared by every client");
    request.set_request_id("shared-create");
    inventory::v1::CreateItemResponse response;
    ASSERT_TRUE(stub->CreateItem(context.get(), request, &response).ok());
    ledger.Record(request.request_id(), {response.item_id(), response.version(),
                                         response.global_position()});
  }
  std::vector<std::unique_ptr<ChaosClient>> clients;
  std::vector<std::thread> threads;
  std::atomic<bool> stop{false};
  for (int i = 0; i < kClients; ++i) {
    clients.push_back(std::make_unique<ChaosClient>(i, address, &ledger));
  }
  for (auto& client : clients) {
    threads.emplace_back([&client, &stop] { client->Run(stop); });
  }
  // However the test ends, the clients stop.
  auto join = [&] {
    stop = true;
    for (std::thread& thread : threads) {
      if (thread.joinable()) thread.join();
    }
  };
  struct Joiner {
    std::function<void()> join;
    ~Joiner() { join(); }
  } joiner{join};
  ASSERT_TRUE(ledger.AwaitCount(300));

  // A subscriber that reads one message, then nothing for 30 seconds,
  // while the writers go on.
  {
    auto stream_stub = inventory::v1::EventStreamService::NewStub(
        grpc::CreateChannel(address, grpc::InsecureChannelCredentials()));
    grpc::ClientContext context;
    inventory::v1::SubscribeRequest request;
    auto reader = stream_stub->Subscribe(&context, request);
    inventory::v1::SubscribeResponse message;
    ASSERT_TRUE(reader->Read(&message));
    const int64_t before_kib = ResidentKiB(command_->pid());
    ASSERT_GT(before_kib, 0) << "cannot read the command-service's VmRSS";
    const int acknowledged_before = ledger.count();
    int64_t peak_kib = before_kib;
    const absl::Time resume = absl::Now() + absl::Seconds(30);
    while (absl::Now() < resume) {
      peak_kib = std::max(peak_kib, ResidentKiB(command_->pid()));
      // Sampling memory over the stall, which is a span of time by design.
      absl::SleepFor(absl::Milliseconds(100));
    }
    const int written = ledger.count() - acknowledged_before;
    std::cout << "stalled subscriber: " << written
              << " commands acknowledged in 30 s; command-service RSS "
              << before_kib / 1024 << " MiB before, peak " << peak_kib / 1024
              << " MiB (+" << (peak_kib - before_kib) / 1024 << " MiB)\n";
    EXPECT_GT(written, 1000) << "the writers went on";
    EXPECT_LE(peak_kib - before_kib, kStalledSubscriberBoundKiB);
    // Reading again, the subscriber gets every event in order, no gap.
    int64_t head = 0;
    for (const auto& [id, acknowledgement] : ledger.all()) {
      head = std::max(head, acknowledgement.global_position);
    }
    int64_t position = message.event().global_position();
    while (position < head && reader->Read(&message)) {
      if (!message.has_event()) continue;
      ASSERT_EQ(message.event().global_position(), position + 1);
      position = message.event().global_position();
    }
    EXPECT_EQ(position, head) << command_->Log();
    context.TryCancel();
    reader->Finish();
  }

  // The faults, each once enough commands went through since the last.
  auto after_more = [&](int more) {
    return ledger.AwaitCount(ledger.count() + more);
  };
  auto kill_command_service = [&] {
    command_->Signal(SIGKILL);
    ASSERT_TRUE(command_->Wait(absl::Seconds(10)).ok());
    StartCommandService(address);
  };
  ASSERT_TRUE(after_more(200)) << command_->Log();
  kill_command_service();
  ASSERT_TRUE(after_more(200)) << command_->Log();
  if (test_support::TestPostgres().owns_server()) {
    ASSERT_TRUE(test_support::TestPostgres().Stop().ok());
    ASSERT_TRUE(test_support::TestPostgres().Restart().ok());
  }
  ASSERT_TRUE(after_more(200)) << command_->Log();
  query_->Signal(SIGKILL);
  ASSERT_TRUE(query_->Wait(absl::Seconds(10)).ok());
  StartQueryService();
  ASSERT_TRUE(after_more(200));
  kill_command_service();
  ASSERT_TRUE(after_more(200)) << command_->Log();
  kill_command_service();
  ASSERT_TRUE(after_more(200)) << command_->Log();
  join();

  // Every acknowledgement is one event in the store, and every event is
  // an acknowledged command's.
  const std::map<std::string, Acknowledgement> acknowledged = ledger.all();
  const std::vector<RecordedEvent> events = ReadStore();
  std::cout << "chaos: " << acknowledged.size() << " commands acknowledged, "
            << events.size() << " events stored\n";
  EXPECT_EQ(events.size(), acknowledged.size());
  for (const RecordedEvent& recorded : events) {
    auto found = acknowledged.find(recorded.metadata.request_id);
    ASSERT_NE(found, acknowledged.end())
        << "event " << recorded.global_position << " of request "
        << recorded.metadata.request_id << " was never acknowledged";
    EXPECT_EQ(recorded.stream_id, absl::StrCat("item-", found->second.item_id));
    EXPECT_EQ(recorded.stream_version, found->second.version);
    EXPECT_EQ(recorded.global_position, found->second.global_position);
  }

  // The clients' view of their items is the fold of the store.
  int64_t head = 0;
  const auto folded = FoldStore(&head);
  size_t items = 1;
  int64_t shared_units = 0;
  int shared_commands = 0;
  for (const auto& client : clients) {
    for (const auto& [id, expected] : client->items()) {
      ++items;
      ASSERT_EQ(folded.count(id), 1u) << id;
      const inventory::v1::Item& item = folded.at(id);
      EXPECT_EQ(item.name(), expected.name()) << id;
      EXPECT_EQ(item.quantity_on_hand(), expected.quantity_on_hand()) << id;
      EXPECT_EQ(item.active(), expected.active()) << id;
      EXPECT_EQ(item.version(), expected.version()) << id;
    }
    shared_units += client->shared_units();
    shared_commands += client->shared_commands();
  }
  EXPECT_EQ(folded.size(), items);
  ASSERT_EQ(folded.count(kSharedItem), 1u);
  EXPECT_EQ(folded.at(kSharedItem).quantity_on_hand(), shared_units);
  EXPECT_EQ(folded.at(kSharedItem).version(), shared_commands + 1);

  // Both services recovered by themselves, and the read model is the fold.
  AwaitQueryServing();
  ExpectReadModelEquals(folded, head);
  EXPECT_THAT(query_->Log(), ::testing::HasSubstr("event stream ended"));
}

}  // namespace
}  // namespace inventory
