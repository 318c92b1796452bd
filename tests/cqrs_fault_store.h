// What the fault tests of the whole CQRS loop (cqrs_fault_test.cc,
// cqrs_chaos_test.cc) read to check a run: the events as SQL reads them,
// the test's own fold of them (ReferenceFold, sharing no code with the
// query-service's projection or the event codec), the store's recoveries
// of lost answers from the command-service's log, and a process's memory.
#ifndef INVENTORY_TESTS_CQRS_FAULT_STORE_H_
#define INVENTORY_TESTS_CQRS_FAULT_STORE_H_

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

namespace inventory::cqrs_fault_testing {

using google::protobuf::util::MessageDifferencer;
using inventory::v1::Item;
using test_support::PostgresServer;
using test_support::ServiceProcess;
using HealthStatus = grpc::health::v1::HealthCheckResponse;

constexpr int kItems = 10;
constexpr char kCorrelationHeader[] = "x-correlation-id";

// What the first `count` commands must have produced.
inline std::map<std::string, int64_t> ExpectedQuantities(int count) {
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
inline std::vector<StoredEvent> ReadStoredEvents(const std::string& url) {
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
inline int64_t StatementsRunning(pqxx::connection& connection,
                                 bool appends_only) {
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

inline ReferenceFold FoldOf(const std::vector<StoredEvent>& events) {
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

// The resident memory of process `pid`, in KiB (0 if unreadable).
inline int64_t ResidentKiB(pid_t pid) {
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

}  // namespace inventory::cqrs_fault_testing

#endif  // INVENTORY_TESTS_CQRS_FAULT_STORE_H_
