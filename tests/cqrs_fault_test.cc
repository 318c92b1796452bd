// The whole CQRS loop as real processes (PostgreSQL, command-service,
// query-service) under faults: kill -9 of either service while commands
// flow, a PostgreSQL restart, a chaos test with 32 concurrent writers, a
// subscriber that stalls for 30 seconds and all of those faults in one run,
// and a crash of a PostgreSQL cluster that runs with fsync=on.
//
// What the chaos and crash tests prove, and how:
// * Exactly once, with and without request ids. Every command carries a
//   unique correlation id (header x-correlation-id, stored in each event's
//   metadata); half of the writers send no request_id and never resend a
//   command whose answer they lost (they count it as unacknowledged).
//   Every acknowledged command is exactly one event, at the version and
//   position its answer named; no other command is more than one; every
//   event is some command's.
// * Projection, not just delivery: the expected state is a fold written
//   here (ReferenceFold), from the events as read by SQL, with payloads
//   parsed by protobuf's JSON parser; it shares no code with the
//   query-service's projection or the event codec. Every field of every item
//   the query-service returns must equal it.
// * That faults hit commands in flight: first attempts retried after a
//   fault and `replayed` answers are counted, and both must be above zero.
// * Durability across a crash of PostgreSQL: acknowledged commands survive
//   an immediate shutdown (every server process quits at once, no
//   checkpoint; restart runs crash recovery from the write-ahead log) of a
//   cluster with fsync=on. The machine's page cache survives such a crash,
//   so this proves PostgreSQL's crash recovery and our use of it, not the
//   disk's own durability after a power cut.
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
#include "tests/support/postgres_test_main.h"
#include "tests/support/service_process.h"

namespace inventory {
namespace {

using google::protobuf::util::MessageDifferencer;
using inventory::v1::Item;
using test_support::PostgresServer;
using test_support::ServiceProcess;
using HealthStatus = grpc::health::v1::HealthCheckResponse;

constexpr int kItems = 10;
constexpr char kCorrelationHeader[] = "x-correlation-id";

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

// One row of the events table, as SQL reads it.
struct StoredEvent {
  int64_t global_position = 0;
  std::string stream_id;
  int64_t stream_version = 0;
  std::string event_type;
  std::string payload;  // the JSON text
  std::string request_id;
  std::string correlation_id;
  int64_t recorded_at_micros = 0;  // since the Unix epoch
};

// Every event of the database at `url`, in log order, read by SQL.
std::vector<StoredEvent> ReadStoredEvents(const std::string& url) {
  std::vector<StoredEvent> events;
  try {
    pqxx::connection connection(url);
    pqxx::nontransaction tx(connection);
    const pqxx::result rows = tx.exec(
        "SELECT global_position, stream_id, stream_version, event_type, "
        "payload::text, coalesce(metadata->>'request_id', ''), "
        "coalesce(metadata->>'correlation_id', ''), "
        "(extract(epoch FROM recorded_at) * 1000000)::bigint "
        "FROM events ORDER BY global_position");
    for (const auto& row : rows) {
      StoredEvent& event = events.emplace_back();
      event.global_position = row[0].as<int64_t>();
      event.stream_id = row[1].as<std::string>();
      event.stream_version = row[2].as<int64_t>();
      event.event_type = row[3].as<std::string>();
      event.payload = row[4].as<std::string>();
      event.request_id = row[5].as<std::string>();
      event.correlation_id = row[6].as<std::string>();
      event.recorded_at_micros = row[7].as<int64_t>();
    }
  } catch (const std::exception& e) {
    ADD_FAILURE() << "reading the events of " << url << ": " << e.what();
  }
  return events;
}

// How many statements other sessions are running in the database of
// `connection`; only calls of append_events() when `appends_only`.
int64_t StatementsRunning(pqxx::connection& connection, bool appends_only) {
  pqxx::nontransaction tx(connection);
  return tx
      .exec1(absl::StrCat(
          "SELECT count(*) FROM pg_stat_activity WHERE datname = "
          "current_database() AND pid <> pg_backend_pid() AND "
          "state = 'active'",
          appends_only ? " AND query LIKE '%append_events(%'" : ""))[0]
      .as<int64_t>();
}

// The test's own fold of the stored events into the items the read side
// must show. Written apart from the query-service's projection and from
// common/event_codec on purpose, so that comparing the read model with it
// checks the projection, not only the delivery of events: payloads are
// parsed here with protobuf's JSON parser, and each event type's effect
// is stated again below. It also checks what every fold may assume: dense
// global positions, stream versions 1, 2, 3, ... per item, an item id in
// each payload equal to its stream's, stock never below zero.
class ReferenceFold {
 public:
  void Apply(const StoredEvent& event) {
    EXPECT_EQ(event.global_position, head_ + 1) << "positions are dense";
    head_ = event.global_position;
    const absl::string_view stream = event.stream_id;
    ASSERT_TRUE(absl::StartsWith(stream, "item-")) << event.stream_id;
    const std::string id(stream.substr(5));
    Item& item = items_[id];
    ASSERT_EQ(event.stream_version, item.version() + 1)
        << "stream versions of " << id << " are dense";
    const std::string& type = event.event_type;
    if (type == "inventory.v1.ItemCreated") {
      const auto created = Parse<inventory::v1::ItemCreated>(event, id);
      item.set_item_id(created.item_id());
      item.set_sku(created.sku());
      item.set_name(created.name());
      item.set_quantity_on_hand(0);
      item.set_active(true);
      *item.mutable_created_at() = TimestampOf(event);
    } else if (type == "inventory.v1.ItemRenamed") {
      item.set_name(Parse<inventory::v1::ItemRenamed>(event, id).name());
    } else if (type == "inventory.v1.ItemsCheckedIn") {
      item.set_quantity_on_hand(
          item.quantity_on_hand() +
          Parse<inventory::v1::ItemsCheckedIn>(event, id).quantity());
    } else if (type == "inventory.v1.ItemsRemoved") {
      item.set_quantity_on_hand(
          item.quantity_on_hand() -
          Parse<inventory::v1::ItemsRemoved>(event, id).quantity());
      EXPECT_GE(item.quantity_on_hand(), 0) << id << " at " << head_;
    } else if (type == "inventory.v1.ItemDeactivated") {
      Parse<inventory::v1::ItemDeactivated>(event, id);
      item.set_active(false);
    } else if (type == "inventory.v1.ItemReactivated") {
      Parse<inventory::v1::ItemReactivated>(event, id);
      item.set_active(true);
    } else {
      ADD_FAILURE() << "unknown event type " << type << " at " << head_;
    }
    item.set_version(event.stream_version);
    *item.mutable_updated_at() = TimestampOf(event);
  }

  const std::map<std::string, Item>& items() const { return items_; }
  // The position of the last event applied.
  int64_t head() const { return head_; }

 private:
  template <typename Payload>
  static Payload Parse(const StoredEvent& event, const std::string& id) {
    Payload payload;
    const auto status =
        google::protobuf::util::JsonStringToMessage(event.payload, &payload);
    EXPECT_TRUE(status.ok())
        << event.event_type << " at " << event.global_position << ": "
        << status.ToString();
    EXPECT_EQ(payload.item_id(), id) << "at " << event.global_position;
    return payload;
  }

  static google::protobuf::Timestamp TimestampOf(const StoredEvent& event) {
    google::protobuf::Timestamp at;
    at.set_seconds(event.recorded_at_micros / 1000000);
    at.set_nanos(static_cast<int32_t>(event.recorded_at_micros % 1000000) *
                 1000);
    return at;
  }

  std::map<std::string, Item> items_;
  int64_t head_ = 0;
};

ReferenceFold FoldOf(const std::vector<StoredEvent>& events) {
  ReferenceFold fold;
  for (const StoredEvent& event : events) fold.Apply(event);
  return fold;
}

// What the store's recoveries of lost answers amount to, from the
// command-service's log lines.
struct Recoveries {
  int batches = 0;
  int requests = 0;

  void CountIn(const std::string& log) {
    static const std::regex kRecovered(
        R"(recovered the outcome of a batch of (\d+) request)");
    for (auto it = std::sregex_iterator(log.begin(), log.end(), kRecovered);
         it != std::sregex_iterator(); ++it) {
      ++batches;
      int requests_in_batch = 0;
      if (absl::SimpleAtoi((*it)[1].str(), &requests_in_batch)) {
        requests += requests_in_batch;
      }
    }
  }
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

CommandRecord MakeRecord(const std::string& request_id) {
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
    stub_ = inventory::v1::CommandService::NewStub(grpc::CreateCustomChannel(
        address, grpc::InsecureChannelCredentials(), args));
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
        grpc::CreateChannel(address_, grpc::InsecureChannelCredentials()));
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
RunFigures ExpectExactlyOnce(CommandLedger& ledger,
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
void ExpectSameState(const Item& folded, const Item& expected) {
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
void ExpectWritersMatchFold(const ChaosWriters& writers,
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
  void SetUp() override { StartServices(test_support::TestPostgres()); }

  // Creates a database on `server` and starts both services on it.
  void StartServices(PostgresServer& server) {
    server_ = &server;
    auto url = server.CreateDatabase("faults");
    ASSERT_TRUE(url.ok()) << url.status();
    url_ = *url;
    StartCommandService("127.0.0.1:0");
    ASSERT_NE(command_, nullptr);
    command_port_ = command_->port();
    StartQueryService();
  }

  // Starts a command-service, after counting the recoveries in the log of
  // the one it replaces (its log goes with it).
  void StartCommandService(const std::string& listen) {
    if (command_ != nullptr) {
      retired_recoveries_.CountIn(command_->Log());
      command_.reset();
    }
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
      command_->Signal(SIGSTOP);
      if (StatementsRunning(connection, /*appends_only=*/true) > 0) break;
      command_->Signal(SIGCONT);
      ASSERT_LT(absl::Now(), give_up) << "no append seen running";
    }
    while (StatementsRunning(connection, /*appends_only=*/false) > 0) {
      ASSERT_LT(absl::Now(), give_up) << "statements still running";
      // Polling the server's view of its sessions: nothing to block on.
      absl::SleepFor(absl::Milliseconds(5));
    }
    command_->Signal(SIGKILL);
    ASSERT_TRUE(command_->Wait(absl::Seconds(10)).ok());
    StartCommandService(absl::StrCat("127.0.0.1:", command_port_));
  }

  // The store's recoveries of lost answers, over every command-service of
  // the test.
  Recoveries StoreRecoveries() {
    Recoveries recoveries = retired_recoveries_;
    if (command_ != nullptr) recoveries.CountIn(command_->Log());
    return recoveries;
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

  // The query-service's items, read once it has applied `min_position`.
  std::map<std::string, Item> QueryItems(int64_t min_position) {
    auto stub = inventory::v1::QueryService::NewStub(grpc::CreateChannel(
        query_->address(), grpc::InsecureChannelCredentials()));
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
      EXPECT_TRUE(status.ok()) << status.error_message() << query_->Log();
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
  std::string url_;
  int command_port_ = 0;
  Recoveries retired_recoveries_;
  std::unique_ptr<ServiceProcess> command_;
  std::unique_ptr<ServiceProcess> query_;
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
  if (!test_support::TestPostgres().owns_server()) {
    GTEST_SKIP() << "TEST_DATABASE_URL is set: this test restarts "
                    "PostgreSQL, which it may only do to a cluster of its "
                    "own; skipped";
  }
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

// The chaos test: 32 writers (half without request ids) send commands
// without pause while a subscriber stalls for 30 seconds, then the
// command-service is killed three times with answers in flight, PostgreSQL
// restarts once and the query-service is killed once. Every acknowledged
// command must be exactly one event, no other command more than one; the
// writers' own view of their items, and the query-service's read model,
// must be the test's own fold of the store; and the faults must have hit
// commands in flight (retries and replayed answers above zero).
TEST_F(CqrsFaultTest, ChaosUnderLoadLosesNothingAcknowledged) {
  constexpr int kClients = 32;
  // The documented bound (docs/security.md, Limits) on what a stalled
  // subscriber may add to the command-service's memory while writers go on.
  constexpr int64_t kStalledSubscriberBoundKiB = 24 * 1024;
  const absl::Time started = absl::Now();
  AwaitQueryServing();
  const std::string address = absl::StrCat("127.0.0.1:", command_port_);
  CommandLedger ledger;
  ChaosWriters writers(address, &ledger);
  ASSERT_NO_FATAL_FAILURE(writers.Start(kClients));
  ASSERT_TRUE(ledger.AwaitAcknowledged(300));

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
    const int acknowledged_before = ledger.acknowledged();
    int64_t peak_kib = before_kib;
    const absl::Time resume = absl::Now() + absl::Seconds(30);
    while (absl::Now() < resume) {
      peak_kib = std::max(peak_kib, ResidentKiB(command_->pid()));
      // Sampling memory over the stall, which is a span of time by design.
      absl::SleepFor(absl::Milliseconds(100));
    }
    const int written = ledger.acknowledged() - acknowledged_before;
    std::cout << "stalled subscriber: " << written
              << " commands acknowledged in 30 s; command-service RSS "
              << before_kib / 1024 << " MiB before, peak " << peak_kib / 1024
              << " MiB (+" << (peak_kib - before_kib) / 1024 << " MiB)\n";
    EXPECT_GT(written, 1000) << "the writers went on";
    EXPECT_LE(peak_kib - before_kib, kStalledSubscriberBoundKiB);
    // Reading again, the subscriber gets every event in order, no gap.
    const int64_t head = ledger.head();
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
  std::cout << "chaos: stall and catch-up done after "
            << absl::FormatDuration(absl::Now() - started) << "\n";

  // The faults, each once enough commands went through since the last.
  auto after_more = [&](int more) {
    return ledger.AwaitAcknowledged(ledger.acknowledged() + more);
  };
  ASSERT_TRUE(after_more(200)) << command_->Log();
  KillCommandServiceWithAnswersInFlight();
  ASSERT_TRUE(after_more(200)) << command_->Log();
  if (server_->owns_server()) {
    ASSERT_TRUE(server_->Stop().ok());
    ASSERT_TRUE(server_->Restart().ok());
  } else {
    std::cout << "chaos: TEST_DATABASE_URL is set, so the PostgreSQL restart "
                 "is skipped\n";
  }
  ASSERT_TRUE(after_more(200)) << command_->Log();
  query_->Signal(SIGKILL);
  ASSERT_TRUE(query_->Wait(absl::Seconds(10)).ok());
  StartQueryService();
  ASSERT_TRUE(after_more(200));
  KillCommandServiceWithAnswersInFlight();
  ASSERT_TRUE(after_more(200)) << command_->Log();
  KillCommandServiceWithAnswersInFlight();
  ASSERT_TRUE(after_more(200)) << command_->Log();
  writers.Stop();
  std::cout << "chaos: faults done after "
            << absl::FormatDuration(absl::Now() - started) << "\n";

  ExpectRunExactlyOnce("chaos", ledger, writers);
  EXPECT_GT(ledger.retried(), 0) << "no fault hit a command in flight";
  EXPECT_GT(ledger.replayed(), 0) << "no answer was lost after a commit";
  // Both services recovered by themselves.
  EXPECT_THAT(query_->Log(), ::testing::HasSubstr("event stream ended"));
  std::cout << "chaos: checked after "
            << absl::FormatDuration(absl::Now() - started) << "\n";
}

// PostgreSQL (fsync=on, synchronous_commit=on) crashes twice while 16
// writers, half without request ids, send commands: an immediate shutdown,
// then crash recovery on restart. Every command acknowledged before or
// after a crash is exactly one event; no other command is more than one;
// the read model is the fold of what survived.
TEST_F(DurableCqrsFaultTest, CrashOfDurablePostgresLosesNothingAcknowledged) {
  AwaitQueryServing();
  CommandLedger ledger;
  ChaosWriters writers(absl::StrCat("127.0.0.1:", command_port_), &ledger);
  ASSERT_NO_FATAL_FAILURE(writers.Start(16));
  int acknowledged_before_crashes = 0;
  for (int crash = 0; crash < 2; ++crash) {
    ASSERT_TRUE(ledger.AwaitAcknowledged(ledger.acknowledged() + 500))
        << command_->Log();
    ASSERT_TRUE(server_->Crash().ok());
    acknowledged_before_crashes = ledger.acknowledged();
    ASSERT_TRUE(server_->Restart().ok());
  }
  ASSERT_TRUE(ledger.AwaitAcknowledged(ledger.acknowledged() + 500))
      << command_->Log();
  writers.Stop();
  std::cout << "crash: " << acknowledged_before_crashes
            << " commands acknowledged before the last crash\n";
  ExpectRunExactlyOnce("crash", ledger, writers);
  // A crash meets appends in flight: the store recovers their outcome, or
  // the writers retry them.
  EXPECT_GT(ledger.retried() + StoreRecoveries().requests, 0)
      << "no crash hit a command in flight";
}

}  // namespace
}  // namespace inventory
