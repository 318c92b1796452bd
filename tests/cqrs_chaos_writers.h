// The writers of the fault tests of the whole CQRS loop (cqrs_fault_test.cc,
// cqrs_chaos_test.cc): a CommandSender that retries with its request_id,
// the chaos writers (half without request ids) with the ledger of every
// command they sent, and the checks of a run against the store: exactly
// once, and the writers' own view equal to the fold.
#ifndef INVENTORY_TESTS_CQRS_CHAOS_WRITERS_H_
#define INVENTORY_TESTS_CQRS_CHAOS_WRITERS_H_

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
#include "common/rpc/grpc_status.h"
#include "gmock/gmock.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "gtest/gtest.h"
#include "inventory/v1/command_service.grpc.pb.h"
#include "inventory/v1/event_stream_service.grpc.pb.h"
#include "inventory/v1/events.pb.h"
#include "inventory/v1/query_service.grpc.pb.h"
#include "tests/cqrs_fault_store.h"
#include "tests/support/channels.h"
#include "tests/support/postgres_test_main.h"
#include "tests/support/service_process.h"

namespace inventory::cqrs_fault_testing {

inline std::unique_ptr<grpc::ClientContext> ContextWithDeadline(
    absl::Duration d) {
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
          test_support::ChannelTo(address_));
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

// A command of the chaos writers, registered under its correlation id
// before its first attempt.
struct CommandRecord {
  std::string request_id;  // empty for writers without
  bool acknowledged = false;
  // What the acknowledgement said.
  std::string item_id;
  int64_t version = 0;
  int64_t global_position = 0;
};

inline CommandRecord MakeRecord(const std::string& request_id) {
  CommandRecord record;
  record.request_id = request_id;
  return record;
}

// Every command the chaos writers sent, what became of it, and how often a
// fault hit one in flight. Thread-safe.
class CommandLedger {
 public:
  void Register(const std::string& correlation_id,
                const std::string& request_id) {
    absl::MutexLock lock(&mu_);
    EXPECT_TRUE(records_.emplace(correlation_id, MakeRecord(request_id)).second)
        << correlation_id << " sent twice";
  }
  void Acknowledge(const std::string& correlation_id,
                   const std::string& item_id, int64_t version,
                   int64_t global_position, bool replayed) {
    absl::MutexLock lock(&mu_);
    CommandRecord& record = records_[correlation_id];
    EXPECT_FALSE(record.acknowledged) << correlation_id;
    record.acknowledged = true;
    record.item_id = item_id;
    record.version = version;
    record.global_position = global_position;
    ++acknowledged_;
    if (replayed) ++replayed_;
  }
  // A command whose first attempt failed with a fault was sent again.
  void CountRetried() {
    absl::MutexLock lock(&mu_);
    ++retried_;
  }

  int acknowledged() {
    absl::MutexLock lock(&mu_);
    return acknowledged_;
  }
  int retried() {
    absl::MutexLock lock(&mu_);
    return retried_;
  }
  int replayed() {
    absl::MutexLock lock(&mu_);
    return replayed_;
  }
  // Blocks until `count` commands in all were acknowledged; false after a
  // minute without.
  bool AwaitAcknowledged(int count) {
    absl::MutexLock lock(&mu_);
    auto reached = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return acknowledged_ >= count;
    };
    return mu_.AwaitWithTimeout(absl::Condition(&reached), absl::Seconds(60));
  }
  // The highest position an acknowledgement named.
  int64_t head() {
    absl::MutexLock lock(&mu_);
    int64_t head = 0;
    for (const auto& [id, record] : records_) {
      head = std::max(head, record.global_position);
    }
    return head;
  }
  std::map<std::string, CommandRecord> records() {
    absl::MutexLock lock(&mu_);
    return records_;
  }

 private:
  absl::Mutex mu_;
  std::map<std::string, CommandRecord> records_ ABSL_GUARDED_BY(mu_);
  int acknowledged_ ABSL_GUARDED_BY(mu_) = 0;
  int retried_ ABSL_GUARDED_BY(mu_) = 0;
  int replayed_ ABSL_GUARDED_BY(mu_) = 0;
};

constexpr char kSharedItem[] = "shared";

// One writer of the chaos test. It owns its items, so it knows their state
// and sends only commands that must succeed (creating, renaming with
// expected_version, checking in, removing what is on hand, deactivating,
// reactivating), and now and then checks in on the item that every writer
// shares. Each command carries a new correlation id.
//
// A writer with request ids resends a command whose answer it lost (a
// crash, a restart) with the same request_id until it is acknowledged. A
// writer without never resends a command that may have been applied: only
// a refusal that says nothing was recorded (a conflict on the shared item,
// DATABASE_UNAVAILABLE) is retried; any other failure leaves the command
// unacknowledged, and the item it was about is set aside with the two
// states it may be in, to be checked against the store at the end.
class ChaosClient {
 public:
  // What a command with an unknown outcome may have done to an item.
  struct UncertainItem {
    std::string correlation_id;
    std::optional<Item> before;  // nullopt: the item did not exist
    Item after;
  };
  // Units checked in on the shared item by a command with an unknown
  // outcome.
  struct UncertainUnits {
    std::string correlation_id;
    int64_t units = 0;
  };

  ChaosClient(int index, bool with_request_ids, const std::string& address,
              CommandLedger* ledger)
      : index_(index),
        with_request_ids_(with_request_ids),
        ledger_(ledger),
        random_(index) {
    grpc::ChannelArguments args;
    // Reconnect quickly after a crash, each client on its own connection.
    args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 50);
    args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 250);
    args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
    stub_ = inventory::v1::CommandService::NewStub(
        test_support::ChannelTo(address, "", args));
  }

  // Sends commands until `stop` (finishing the one in flight).
  void Run(const std::atomic<bool>& stop) {
    while (!stop.load() && !failed_) SendOne();
  }

  bool with_request_ids() const { return with_request_ids_; }
  // The items whose every command was acknowledged, as those commands made
  // them (timestamps aside).
  const std::map<std::string, Item>& items() const { return items_; }
  const std::vector<UncertainItem>& uncertain_items() const {
    return uncertain_items_;
  }
  // Units it checked in on the shared item with acknowledgement, and in how
  // many commands; and those without.
  int64_t shared_units() const { return shared_units_; }
  int shared_commands() const { return shared_commands_; }
  const std::vector<UncertainUnits>& uncertain_units() const {
    return uncertain_units_;
  }

 private:
  enum class Outcome { kAcknowledged, kUnknown, kFailed };
  struct Sent {
    Outcome outcome = Outcome::kFailed;
    std::string correlation_id;
    int64_t version = 0;  // the acknowledged version
  };

  void SendOne() {
    const int roll = static_cast<int>(random_() % 100);
    if (items_.size() < 2 || (items_.size() < 6 && roll < 5)) {
      Item after;
      after.set_item_id(absl::StrCat("c", index_, "-", created_++));
      after.set_sku(absl::StrCat("CH-", index_));
      after.set_name(absl::StrCat("Chaos ", after.item_id()));
      after.set_active(true);
      after.set_version(1);
      inventory::v1::CreateItemRequest request;
      request.set_item_id(after.item_id());
      request.set_sku(after.sku());
      request.set_name(after.name());
      inventory::v1::CreateItemResponse response;
      Settle(std::nullopt, after,
             Send(&inventory::v1::CommandService::Stub::CreateItem, request,
                  &response));
      return;
    }
    if (roll < 10) {
      CheckInShared(roll % 3 + 1);
      return;
    }
    auto it = items_.begin();
    std::advance(it, random_() % items_.size());
    const Item before = it->second;
    Item after = before;
    after.set_version(before.version() + 1);
    const int64_t quantity = static_cast<int64_t>(random_() % 10) + 1;
    if (!before.active()) {
      inventory::v1::ReactivateItemRequest request;
      request.set_item_id(before.item_id());
      request.set_expected_version(before.version());
      inventory::v1::ReactivateItemResponse response;
      after.set_active(true);
      Settle(before, after,
             Send(&inventory::v1::CommandService::Stub::ReactivateItem, request,
                  &response));
    } else if (roll < 45 || (roll < 70 && before.quantity_on_hand() == 0)) {
      inventory::v1::CheckInItemsRequest request;
      request.set_item_id(before.item_id());
      request.set_quantity(quantity);
      inventory::v1::CheckInItemsResponse response;
      after.set_quantity_on_hand(before.quantity_on_hand() + quantity);
      Settle(before, after,
             Send(&inventory::v1::CommandService::Stub::CheckInItems, request,
                  &response));
    } else if (roll < 70) {
      inventory::v1::RemoveItemsRequest request;
      request.set_item_id(before.item_id());
      request.set_quantity(std::min(quantity, before.quantity_on_hand()));
      inventory::v1::RemoveItemsResponse response;
      after.set_quantity_on_hand(before.quantity_on_hand() -
                                 request.quantity());
      Settle(before, after,
             Send(&inventory::v1::CommandService::Stub::RemoveItems, request,
                  &response));
    } else if (roll < 90) {
      inventory::v1::RenameItemRequest request;
      request.set_item_id(before.item_id());
      request.set_name(
          absl::StrCat("Chaos ", before.item_id(), " v", after.version()));
      request.set_expected_version(before.version());
      inventory::v1::RenameItemResponse response;
      after.set_name(request.name());
      Settle(before, after,
             Send(&inventory::v1::CommandService::Stub::RenameItem, request,
                  &response));
    } else {
      inventory::v1::DeactivateItemRequest request;
      request.set_item_id(before.item_id());
      request.set_expected_version(before.version());
      inventory::v1::DeactivateItemResponse response;
      after.set_active(false);
      Settle(before, after,
             Send(&inventory::v1::CommandService::Stub::DeactivateItem, request,
                  &response));
    }
  }

  // Records what a command on one of this writer's items did: `after` once
  // acknowledged (at the version it predicted: nobody else writes the
  // item); either state, later decided by the store, when unknown.
  void Settle(const std::optional<Item>& before, const Item& after,
              const Sent& sent) {
    switch (sent.outcome) {
      case Outcome::kAcknowledged:
        EXPECT_EQ(sent.version, after.version()) << after.item_id();
        items_[after.item_id()] = after;
        break;
      case Outcome::kUnknown:
        items_.erase(after.item_id());
        uncertain_items_.push_back({sent.correlation_id, before, after});
        break;
      case Outcome::kFailed:
        break;
    }
  }

  void CheckInShared(int64_t units) {
    inventory::v1::CheckInItemsRequest request;
    request.set_item_id(kSharedItem);
    request.set_quantity(units);
    inventory::v1::CheckInItemsResponse response;
    const Sent sent = Send(&inventory::v1::CommandService::Stub::CheckInItems,
                           request, &response);
    if (sent.outcome == Outcome::kAcknowledged) {
      shared_units_ += units;
      ++shared_commands_;
    } else if (sent.outcome == Outcome::kUnknown) {
      uncertain_units_.push_back({sent.correlation_id, units});
    }
  }

  // Sends `request` under a new correlation id (and request_id, for a
  // writer with request ids) until it is acknowledged or, for a writer
  // without, its outcome is unknown. kFailed (and a test failure) on an
  // answer no fault explains, or after two minutes.
  template <typename Request, typename Response, typename Method>
  Sent Send(Method method, Request request, Response* response) {
    Sent sent;
    sent.correlation_id = absl::StrCat("c", index_, "-k", ++sent_);
    if (with_request_ids_) {
      request.set_request_id(absl::StrCat("c", index_, "-r", sent_));
    }
    ledger_->Register(sent.correlation_id, request.request_id());
    const absl::Time give_up = absl::Now() + absl::Minutes(2);
    bool retried = false;
    for (;;) {
      auto context = ContextWithDeadline(absl::Seconds(5));
      context->AddMetadata(kCorrelationHeader, sent.correlation_id);
      // Without a request_id, a call must not fail merely because the
      // service is restarting: it waits for the connection instead, so an
      // error means the call may have reached the service.
      context->set_wait_for_ready(!with_request_ids_);
      const grpc::Status status =
          (stub_.get()->*method)(context.get(), request, response);
      if (status.ok()) {
        ledger_->Acknowledge(sent.correlation_id, response->item_id(),
                             response->version(), response->global_position(),
                             response->replayed());
        unknown_backoff_ = absl::ZeroDuration();
        sent.outcome = Outcome::kAcknowledged;
        sent.version = response->version();
        return sent;
      }
      const bool fault =
          status.error_code() == grpc::StatusCode::UNAVAILABLE ||
          status.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED;
      const bool conflict = status.error_code() == grpc::StatusCode::ABORTED &&
                            request.item_id() == kSharedItem;
      if ((!fault && !conflict) || absl::Now() > give_up) {
        ADD_FAILURE() << sent.correlation_id << " on " << request.item_id()
                      << ": " << status.error_code() << " "
                      << status.error_message();
        failed_ = true;
        return sent;
      }
      if (!with_request_ids_ && !conflict && !NothingRecorded(status)) {
        // The answer is lost: the command stays unacknowledged. Pause
        // before the next one, longer while failures go on (the database
        // may be down).
        unknown_backoff_ =
            std::min(absl::Seconds(1),
                     std::max(absl::Milliseconds(50), unknown_backoff_ * 2));
        absl::SleepFor(unknown_backoff_);
        sent.outcome = Outcome::kUnknown;
        return sent;
      }
      if (fault && !retried) {
        retried = true;
        ledger_->CountRetried();
      }
      absl::SleepFor(absl::Milliseconds(20));  // the service is down: backoff
    }
  }

  // True when `status` says the command was not recorded: the database
  // could not be reached before anything was sent.
  static bool NothingRecorded(const grpc::Status& status) {
    const std::optional<ErrorReason> reason =
        ErrorReasonOf(FromGrpcStatus(status));
    return reason.has_value() && reason->reason == reason::kDatabaseUnavailable;
  }

  const int index_;
  const bool with_request_ids_;
  CommandLedger* const ledger_;
  std::unique_ptr<inventory::v1::CommandService::Stub> stub_;
  std::mt19937 random_;
  int sent_ = 0;
  int created_ = 0;
  bool failed_ = false;
  absl::Duration unknown_backoff_;
  std::map<std::string, Item> items_;
  std::vector<UncertainItem> uncertain_items_;
  int64_t shared_units_ = 0;
  int shared_commands_ = 0;
  std::vector<UncertainUnits> uncertain_units_;
};

// The writers of a chaos run, each on its own thread: `count` ChaosClients,
// every other one without request ids, and the shared item they all check
// in on.
class ChaosWriters {
 public:
  ChaosWriters(std::string address, CommandLedger* ledger)
      : address_(std::move(address)), ledger_(ledger) {}
  ~ChaosWriters() { Stop(); }
  ChaosWriters(const ChaosWriters&) = delete;
  ChaosWriters& operator=(const ChaosWriters&) = delete;

  // Creates the shared item, then starts `count` writers.
  void Start(int count) {
    auto stub = inventory::v1::CommandService::NewStub(
        test_support::ChannelTo(address_));
    auto context = ContextWithDeadline(absl::Seconds(10));
    context->AddMetadata(kCorrelationHeader, "shared-create");
    inventory::v1::CreateItemRequest request;
    request.set_item_id(kSharedItem);
    request.set_sku("SHARED");
    request.set_name("Shared by every client");
    request.set_request_id("shared-create");
    ledger_->Register("shared-create", request.request_id());
    inventory::v1::CreateItemResponse response;
    ASSERT_TRUE(stub->CreateItem(context.get(), request, &response).ok());
    ledger_->Acknowledge("shared-create", response.item_id(),
                         response.version(), response.global_position(),
                         response.replayed());
    for (int i = 0; i < count; ++i) {
      clients_.push_back(
          std::make_unique<ChaosClient>(i, i % 2 == 0, address_, ledger_));
    }
    for (auto& client : clients_) {
      ChaosClient* writer = client.get();
      threads_.emplace_back([writer, this] { writer->Run(stop_); });
    }
  }

  // Lets each writer finish its command in flight, then joins them.
  void Stop() {
    stop_ = true;
    for (std::thread& thread : threads_) {
      if (thread.joinable()) thread.join();
    }
  }

  const std::vector<std::unique_ptr<ChaosClient>>& clients() const {
    return clients_;
  }

 private:
  const std::string address_;
  CommandLedger* const ledger_;
  std::atomic<bool> stop_{false};
  std::vector<std::unique_ptr<ChaosClient>> clients_;
  std::vector<std::thread> threads_;
};

// The figures of a chaos run, as checked against the store.
struct RunFigures {
  int acknowledged_with_request_id = 0;
  int acknowledged_without = 0;
  int unacknowledged = 0;
  int unacknowledged_applied = 0;  // of those, recorded once
  size_t events = 0;
};

// Checks every command of `ledger` against the store's `events` (matched by
// correlation id): an acknowledged command is exactly one event, at the
// stream, version and position its acknowledgement named; any other is at
// most one; every event is a command's; no request_id is in two events.
inline RunFigures ExpectExactlyOnce(CommandLedger& ledger,
                                    const std::vector<StoredEvent>& events) {
  std::map<std::string, std::vector<const StoredEvent*>> by_correlation;
  std::map<std::string, int> by_request;
  for (const StoredEvent& event : events) {
    by_correlation[event.correlation_id].push_back(&event);
    if (!event.request_id.empty()) ++by_request[event.request_id];
  }
  for (const auto& [id, count] : by_request) {
    EXPECT_EQ(count, 1) << "request " << id << " applied " << count << " times";
  }
  RunFigures figures;
  figures.events = events.size();
  const std::map<std::string, CommandRecord> records = ledger.records();
  for (const auto& [correlation_id, stored] : by_correlation) {
    EXPECT_EQ(records.count(correlation_id), 1u)
        << "event " << stored.front()->global_position
        << " belongs to no command sent (correlation id '" << correlation_id
        << "')";
  }
  for (const auto& [correlation_id, record] : records) {
    const auto found = by_correlation.find(correlation_id);
    const size_t count =
        found == by_correlation.end() ? 0 : found->second.size();
    if (!record.acknowledged) {
      ++figures.unacknowledged;
      EXPECT_LE(count, 1u) << "unacknowledged " << correlation_id
                           << " recorded " << count << " times";
      if (count == 1) ++figures.unacknowledged_applied;
      continue;
    }
    ++(record.request_id.empty() ? figures.acknowledged_without
                                 : figures.acknowledged_with_request_id);
    EXPECT_EQ(count, 1u) << "acknowledged " << correlation_id << " recorded "
                         << count << " times";
    if (count == 0) continue;
    const StoredEvent& event = *found->second.front();
    EXPECT_EQ(event.request_id, record.request_id) << correlation_id;
    EXPECT_EQ(event.stream_id, absl::StrCat("item-", record.item_id))
        << correlation_id;
    EXPECT_EQ(event.stream_version, record.version) << correlation_id;
    EXPECT_EQ(event.global_position, record.global_position) << correlation_id;
  }
  return figures;
}

// `folded` without what the writers cannot know (the store's timestamps)
// equals `expected`.
inline void ExpectSameState(const Item& folded, const Item& expected) {
  Item state = folded;
  state.clear_created_at();
  state.clear_updated_at();
  EXPECT_TRUE(MessageDifferencer::Equals(state, expected))
      << "store: " << state.ShortDebugString()
      << "\nwriter: " << expected.ShortDebugString();
}

// The writers' own view of their items is the fold of the store: items
// whose every command was acknowledged exactly; an item set aside after an
// unknown outcome in the state before that command if it was not recorded,
// after it if it was; the shared item holds the acknowledged check-ins plus
// the recorded unacknowledged ones; and there is no other item.
inline void ExpectWritersMatchFold(const ChaosWriters& writers,
                                   const std::vector<StoredEvent>& events,
                                   const ReferenceFold& fold) {
  std::map<std::string, int> recorded;
  for (const StoredEvent& event : events) ++recorded[event.correlation_id];
  const std::map<std::string, Item>& items = fold.items();
  size_t expected_items = 1;  // the shared item
  int64_t shared_units = 0;
  int64_t shared_commands = 0;
  for (const auto& client : writers.clients()) {
    for (const auto& [id, expected] : client->items()) {
      ++expected_items;
      ASSERT_EQ(items.count(id), 1u) << id;
      ExpectSameState(items.at(id), expected);
    }
    for (const auto& uncertain : client->uncertain_items()) {
      const std::string& id = uncertain.after.item_id();
      const bool applied = recorded[uncertain.correlation_id] == 1;
      const std::optional<Item> expected =
          applied ? uncertain.after : uncertain.before;
      if (!expected.has_value()) {
        EXPECT_EQ(items.count(id), 0u) << id << " was never created";
        continue;
      }
      ++expected_items;
      ASSERT_EQ(items.count(id), 1u) << id;
      ExpectSameState(items.at(id), *expected);
    }
    shared_units += client->shared_units();
    shared_commands += client->shared_commands();
    for (const auto& uncertain : client->uncertain_units()) {
      if (recorded[uncertain.correlation_id] == 1) {
        shared_units += uncertain.units;
        ++shared_commands;
      }
    }
  }
  EXPECT_EQ(items.size(), expected_items);
  ASSERT_EQ(items.count(kSharedItem), 1u);
  EXPECT_EQ(items.at(kSharedItem).quantity_on_hand(), shared_units);
  EXPECT_EQ(items.at(kSharedItem).version(), shared_commands + 1);
}

}  // namespace inventory::cqrs_fault_testing

#endif  // INVENTORY_TESTS_CQRS_CHAOS_WRITERS_H_
