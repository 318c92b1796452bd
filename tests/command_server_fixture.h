// Shared by the tests of the write side as a real gRPC server
// (command_service_test.cc, event_stream_test.cc,
// command_server_health_test.cc): CommandServer in process, on a free
// loopback port (support/in_process_services.h), called through a real
// channel, over both event stores (in memory, and PostgreSQL on a fresh
// database of the binary's throwaway server, support/postgres_test_main.h).
// Nothing is synchronized by sleeping: every wait is for a condition (a
// message, a status, a health state), bounded by a deadline.
#ifndef INVENTORY_TESTS_COMMAND_SERVER_FIXTURE_H_
#define INVENTORY_TESTS_COMMAND_SERVER_FIXTURE_H_

#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "command-service/application/item_event_codec.h"
#include "command-service/server/command_server.h"
#include "common/base/error_reason.h"
#include "common/base/field_violation.h"
#include "common/base/status_matchers.h"
#include "common/eventstore/in_memory_event_store.h"
#include "common/eventstore/mock_event_store.h"
#include "common/eventstore/postgres/postgres_event_store.h"
#include "common/rpc/grpc_status.h"
#include "gmock/gmock.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "gtest/gtest.h"
#include "inventory/v1/command_service.grpc.pb.h"
#include "inventory/v1/event_stream_service.grpc.pb.h"
#include "tests/support/grpc_status_matchers.h"
#include "tests/support/health_probe.h"
#include "tests/support/in_process_services.h"
#include "tests/support/postgres_test_main.h"

namespace inventory::command_server_testing {

using ::grpc::StatusCode;
using ::grpc::health::v1::Health;
using ::grpc::health::v1::HealthCheckRequest;
using ::grpc::health::v1::HealthCheckResponse;
using test_support::GrpcStatusIs;
using ::testing::ElementsAre;
using ::testing::ElementsAreArray;
using ::testing::HasSubstr;

// Deadline of every unary call.
constexpr absl::Duration kCallTimeout = absl::Seconds(10);
// How long a test waits for something that should happen.
constexpr absl::Duration kWaitTimeout = absl::Seconds(30);
// Deadline of every Subscribe call, so that no read can block forever.
constexpr absl::Duration kStreamDeadline = absl::Seconds(120);
// The live window of the servers under test: small, so that a slow
// subscriber falls out of it.
constexpr size_t kLiveCapacity = 64;

constexpr const char* kCreated = "inventory.v1.ItemCreated";
constexpr const char* kRenamed = "inventory.v1.ItemRenamed";
constexpr const char* kCheckedIn = "inventory.v1.ItemsCheckedIn";
constexpr const char* kRemoved = "inventory.v1.ItemsRemoved";
constexpr const char* kDeactivated = "inventory.v1.ItemDeactivated";
constexpr const char* kReactivated = "inventory.v1.ItemReactivated";

inline absl::Time Deadline(absl::Duration timeout) {
  return absl::Now() + timeout;
}

// --- The store ------------------------------------------------------------

enum class StoreKind { kInMemory, kPostgres };

inline std::string StoreKindName(
    const ::testing::TestParamInfo<StoreKind>& info) {
  return info.param == StoreKind::kInMemory ? "InMemory" : "Postgres";
}

inline std::string NewDatabase(absl::string_view prefix) {
  absl::StatusOr<std::string> url =
      test_support::TestPostgres().CreateDatabase(prefix);
  EXPECT_TRUE(url.ok()) << url.status();
  return url.ok() ? *url : "";
}

inline std::unique_ptr<EventStore> OpenPostgres(const std::string& url) {
  PostgresEventStoreOptions options;
  options.url = url;
  options.pool_size = 8;
  auto store = PostgresEventStore::Open(options);
  EXPECT_TRUE(store.ok()) << store.status();
  if (!store.ok()) return nullptr;
  return std::move(*store);
}

inline std::unique_ptr<EventStore> NewStore(StoreKind kind) {
  if (kind == StoreKind::kInMemory) {
    return std::make_unique<InMemoryEventStore>();
  }
  return OpenPostgres(NewDatabase("command_server"));
}

// --- The server -----------------------------------------------------------

inline CommandServerOptions TestOptions() {
  CommandServerOptions options;
  options.listen = "127.0.0.1:0";
  options.health_probe_interval = absl::Milliseconds(100);
  options.stream.heartbeat_interval = absl::Milliseconds(200);
  options.live.capacity = kLiveCapacity;
  options.live.idle_wait = absl::Milliseconds(100);
  // Every test client shares one address; the cap per client has tests of
  // its own (stream_exhaustion_test.cc).
  options.stream.max_subscribers_per_client = 0;
  return options;
}

// A running server on its store, and stubs on a channel to it (`service`,
// destroyed before the store). The server writes through `store`, a
// NiceMockEventStore backed by `inner`: a test may script Append()
// (EXPECT_CALL, with store->real() for the real append) when no command is
// in flight. ReadAll() is the real one, counted while `count_reads_below`
// is above a call's after_position: reads of old events, which only a
// subscription that is not served from the live window makes (an action
// set here, before the server starts, since the server reads all the
// time).
struct Node {
  std::unique_ptr<EventStore> inner;
  std::unique_ptr<NiceMockEventStore> store;
  std::atomic<int64_t> count_reads_below{-1};
  std::atomic<int64_t> reads_below{0};
  std::unique_ptr<test_support::InProcessCommandService> service;

  CommandServer& server() { return *service->server; }
  v1::CommandService::Stub& commands() { return *service->commands; }
  v1::EventStreamService::Stub& events() { return *service->events; }
  Health::Stub& health() { return *service->health; }
  // "127.0.0.1:<port>".
  std::string target() const { return service->address(); }
  // From now on, counts ReadAll() calls with after_position < `position`.
  void CountReadsBelow(int64_t position) {
    reads_below = 0;
    count_reads_below = position;
  }
};

// Null (with a test failure) when the store or the server cannot start.
inline std::unique_ptr<Node> StartNode(std::unique_ptr<EventStore> inner,
                                       const CommandServerOptions& options) {
  if (inner == nullptr) return nullptr;
  auto node = std::make_unique<Node>();
  node->inner = std::move(inner);
  node->store = std::make_unique<NiceMockEventStore>(node->inner.get());
  Node* const observed = node.get();
  ON_CALL(*node->store, ReadAll(::testing::_, ::testing::_))
      .WillByDefault([observed](int64_t after_position, int64_t max_count) {
        if (after_position < observed->count_reads_below) {
          ++observed->reads_below;
        }
        return observed->inner->ReadAll(after_position, max_count);
      });
  auto service =
      test_support::StartInProcessCommandService(node->store.get(), options);
  EXPECT_TRUE(service.ok()) << service.status();
  if (!service.ok()) return nullptr;
  node->service = std::move(*service);
  EXPECT_GT(node->server().port(), 0);
  return node;
}

// --- Commands -------------------------------------------------------------

// The outcome of a command call; the fields every response has.
struct Reply {
  grpc::Status status;
  std::string item_id;
  int64_t version = 0;
  int64_t global_position = 0;
  bool replayed = false;
};

using CommandStub = v1::CommandService::Stub;

template <typename Request, typename Response>
Reply Call(grpc::Status (CommandStub::*method)(grpc::ClientContext*,
                                               const Request&, Response*),
           CommandStub& stub, const Request& request,
           const std::string& correlation_id) {
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(Deadline(kCallTimeout)));
  if (!correlation_id.empty()) {
    context.AddMetadata("x-correlation-id", correlation_id);
  }
  Response response;
  Reply reply;
  reply.status = (stub.*method)(&context, request, &response);
  reply.item_id = response.item_id();
  reply.version = response.version();
  reply.global_position = response.global_position();
  reply.replayed = response.replayed();
  return reply;
}

inline Reply SendTo(CommandStub& stub, const v1::CreateItemRequest& request,
                    const std::string& correlation_id = "") {
  return Call(&CommandStub::CreateItem, stub, request, correlation_id);
}
inline Reply SendTo(CommandStub& stub, const v1::RenameItemRequest& request,
                    const std::string& correlation_id = "") {
  return Call(&CommandStub::RenameItem, stub, request, correlation_id);
}
inline Reply SendTo(CommandStub& stub, const v1::CheckInItemsRequest& request,
                    const std::string& correlation_id = "") {
  return Call(&CommandStub::CheckInItems, stub, request, correlation_id);
}
inline Reply SendTo(CommandStub& stub, const v1::RemoveItemsRequest& request,
                    const std::string& correlation_id = "") {
  return Call(&CommandStub::RemoveItems, stub, request, correlation_id);
}
inline Reply SendTo(CommandStub& stub, const v1::DeactivateItemRequest& request,
                    const std::string& correlation_id = "") {
  return Call(&CommandStub::DeactivateItem, stub, request, correlation_id);
}
inline Reply SendTo(CommandStub& stub, const v1::ReactivateItemRequest& request,
                    const std::string& correlation_id = "") {
  return Call(&CommandStub::ReactivateItem, stub, request, correlation_id);
}

using Expected = std::optional<int64_t>;

inline v1::CreateItemRequest Create(const std::string& id,
                                    const std::string& sku = "SKU-1",
                                    const std::string& name = "Widget",
                                    const std::string& request_id = "") {
  v1::CreateItemRequest request;
  request.set_item_id(id);
  request.set_sku(sku);
  request.set_name(name);
  request.set_request_id(request_id);
  return request;
}

inline v1::RenameItemRequest Rename(const std::string& id,
                                    const std::string& name,
                                    Expected expected = std::nullopt,
                                    const std::string& request_id = "") {
  v1::RenameItemRequest request;
  request.set_item_id(id);
  request.set_name(name);
  if (expected.has_value()) request.set_expected_version(*expected);
  request.set_request_id(request_id);
  return request;
}

inline v1::CheckInItemsRequest CheckIn(const std::string& id, int64_t quantity,
                                       Expected expected = std::nullopt,
                                       const std::string& request_id = "") {
  v1::CheckInItemsRequest request;
  request.set_item_id(id);
  request.set_quantity(quantity);
  if (expected.has_value()) request.set_expected_version(*expected);
  request.set_request_id(request_id);
  return request;
}

inline v1::RemoveItemsRequest Remove(const std::string& id, int64_t quantity,
                                     Expected expected = std::nullopt,
                                     const std::string& request_id = "") {
  v1::RemoveItemsRequest request;
  request.set_item_id(id);
  request.set_quantity(quantity);
  if (expected.has_value()) request.set_expected_version(*expected);
  request.set_request_id(request_id);
  return request;
}

inline v1::DeactivateItemRequest Deactivate(
    const std::string& id, Expected expected = std::nullopt,
    const std::string& request_id = "") {
  v1::DeactivateItemRequest request;
  request.set_item_id(id);
  if (expected.has_value()) request.set_expected_version(*expected);
  request.set_request_id(request_id);
  return request;
}

inline v1::ReactivateItemRequest Reactivate(
    const std::string& id, Expected expected = std::nullopt,
    const std::string& request_id = "") {
  v1::ReactivateItemRequest request;
  request.set_item_id(id);
  if (expected.has_value()) request.set_expected_version(*expected);
  request.set_request_id(request_id);
  return request;
}

inline std::string Describe(const grpc::Status& status) {
  return absl::StrCat("status ", status.error_code(), " \"",
                      status.error_message(), "\"");
}

// Words that would show that SQL (or the database driver) leaked into an
// error message.
constexpr const char* kSqlWords[] = {"SELECT", "INSERT",    "UPDATE ",
                                     "DELETE", "FROM ",     "WHERE",
                                     "jsonb",  "pg_",       "pqxx",
                                     "ERROR:", "SQLSTATE",  "event_requests",
                                     "$1",     "relation ", "global_position"};

// The status has `code`, and its message leaks no SQL.
inline ::testing::AssertionResult HasCode(const grpc::Status& status,
                                          StatusCode code) {
  if (status.error_code() != code) {
    return ::testing::AssertionFailure()
           << Describe(status) << ", wanted code " << code;
  }
  for (const char* word : kSqlWords) {
    if (absl::StrContains(status.error_message(), word)) {
      return ::testing::AssertionFailure()
             << "message leaks SQL (\"" << word << "\"): " << Describe(status);
    }
  }
  return ::testing::AssertionSuccess();
}

inline ::testing::AssertionResult HasCode(const Reply& reply, StatusCode code) {
  return HasCode(reply.status, code);
}

// INVALID_ARGUMENT whose google.rpc.BadRequest names `field`, read both as
// any client would (google.rpc.Status in the details trailer) and through
// FromGrpcStatus() + FieldViolationOf().
inline ::testing::AssertionResult NamesField(const grpc::Status& status,
                                             const std::string& field) {
  if (auto code = HasCode(status, StatusCode::INVALID_ARGUMENT); !code) {
    return code;
  }
  google::rpc::Status details;
  if (status.error_details().empty() ||
      !details.ParseFromString(status.error_details())) {
    return ::testing::AssertionFailure()
           << "no google.rpc.Status details: " << Describe(status);
  }
  google::rpc::ErrorInfo info;
  google::rpc::BadRequest bad_request;
  if (details.code() != StatusCode::INVALID_ARGUMENT ||
      details.details_size() != 2 || !details.details(0).UnpackTo(&info) ||
      info.reason() != "INVALID_FIELD" || info.domain() != "inventory.v1" ||
      !details.details(1).UnpackTo(&bad_request) ||
      bad_request.field_violations_size() != 1) {
    return ::testing::AssertionFailure()
           << "details are not ErrorInfo INVALID_FIELD then one BadRequest "
              "with one violation: "
           << details.ShortDebugString();
  }
  const auto& violation = bad_request.field_violations(0);
  if (violation.field() != field || violation.description().empty()) {
    return ::testing::AssertionFailure()
           << "violation names field \"" << violation.field()
           << "\" (description \"" << violation.description()
           << "\"), wanted \"" << field << "\"";
  }
  const std::optional<FieldViolation> decoded =
      FieldViolationOf(FromGrpcStatus(status));
  if (!decoded.has_value() || decoded->field != field) {
    return ::testing::AssertionFailure()
           << "FromGrpcStatus + FieldViolationOf do not name \"" << field
           << "\"";
  }
  return ::testing::AssertionSuccess();
}

// `code` with a google.rpc.ErrorInfo of domain inventory.v1, `reason` and
// exactly `metadata`, read both as any client would (google.rpc.Status in
// the details trailer) and through FromGrpcStatus() + ErrorReasonOf().
inline ::testing::AssertionResult Refused(
    const grpc::Status& status, StatusCode code, const std::string& reason,
    const std::map<std::string, std::string>& metadata = {}) {
  if (auto has_code = HasCode(status, code); !has_code) return has_code;
  google::rpc::Status details;
  if (status.error_details().empty() ||
      !details.ParseFromString(status.error_details())) {
    return ::testing::AssertionFailure()
           << "no google.rpc.Status details: " << Describe(status);
  }
  int infos = 0;
  google::rpc::ErrorInfo info;
  for (const google::protobuf::Any& detail : details.details()) {
    if (detail.UnpackTo(&info)) ++infos;
  }
  const std::map<std::string, std::string> got(info.metadata().begin(),
                                               info.metadata().end());
  if (infos != 1 || info.domain() != "inventory.v1" ||
      info.reason() != reason || got != metadata) {
    return ::testing::AssertionFailure()
           << "wanted one ErrorInfo of inventory.v1 with reason " << reason
           << " and " << metadata.size()
           << " metadata entries, got: " << details.ShortDebugString();
  }
  if (ErrorReasonOf(FromGrpcStatus(status)) != ErrorReason{reason, metadata}) {
    return ::testing::AssertionFailure()
           << "FromGrpcStatus + ErrorReasonOf do not give " << reason;
  }
  return ::testing::AssertionSuccess();
}

inline ::testing::AssertionResult Refused(
    const Reply& reply, StatusCode code, const std::string& reason,
    const std::map<std::string, std::string>& metadata = {}) {
  return Refused(reply.status, code, reason, metadata);
}

// The command was applied: OK, not replayed, at `version` and `position`.
inline ::testing::AssertionResult Applied(const Reply& reply,
                                          const std::string& item_id,
                                          int64_t version, int64_t position) {
  if (!reply.status.ok()) {
    return ::testing::AssertionFailure() << Describe(reply.status);
  }
  if (reply.item_id != item_id || reply.version != version ||
      reply.global_position != position || reply.replayed) {
    return ::testing::AssertionFailure()
           << "got item " << reply.item_id << " version " << reply.version
           << " position " << reply.global_position << " replayed "
           << reply.replayed << "; wanted item " << item_id << " version "
           << version << " position " << position << " replayed 0";
  }
  return ::testing::AssertionSuccess();
}

// --- Subscriptions --------------------------------------------------------

using Messages = std::vector<v1::SubscribeResponse>;
using Predicate = std::function<bool(const Messages&)>;

// One Subscribe call. Messages are read by a thread of its own (or, for a
// subscriber that is meant not to read, only once StartReading() is
// called) and kept, in order.
class Subscription {
 public:
  Subscription(v1::EventStreamService::Stub& stub,
               const v1::SubscribeRequest& request,
               bool read_in_background = true) {
    context_.set_deadline(absl::ToChronoTime(Deadline(kStreamDeadline)));
    reader_ = stub.Subscribe(&context_, request);
    if (read_in_background) StartReading();
  }
  ~Subscription() {
    context_.TryCancel();
    if (!reader_thread_.joinable()) StartReading();  // drains and finishes
    reader_thread_.join();
  }

  // Reads one message on the calling thread; only before StartReading().
  bool ReadNow(v1::SubscribeResponse* message) {
    if (!reader_->Read(message)) return false;
    absl::MutexLock lock(&mu_);
    messages_.push_back(*message);
    return true;
  }

  void StartReading() {
    reader_thread_ = std::thread([this] {
      v1::SubscribeResponse message;
      while (reader_->Read(&message)) {
        absl::MutexLock lock(&mu_);
        messages_.push_back(message);
      }
      grpc::Status status = reader_->Finish();
      absl::MutexLock lock(&mu_);
      end_ = std::move(status);
    });
  }

  // Waits until `done` holds for the messages so far (true), or the stream
  // ends or `timeout` passes first (false).
  bool WaitFor(const Predicate& done, absl::Duration timeout = kWaitTimeout) {
    absl::MutexLock lock(&mu_);
    auto ready = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return end_.has_value() || done(messages_);
    };
    mu_.AwaitWithTimeout(absl::Condition(&ready), timeout);
    return done(messages_);
  }

  // The status the stream ended with, or nullopt if it is still open after
  // `timeout`.
  std::optional<grpc::Status> WaitForEnd(
      absl::Duration timeout = kWaitTimeout) {
    absl::MutexLock lock(&mu_);
    auto ended = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return end_.has_value();
    };
    mu_.AwaitWithTimeout(absl::Condition(&ended), timeout);
    return end_;
  }

  bool ended() {
    absl::MutexLock lock(&mu_);
    return end_.has_value();
  }

  Messages messages() {
    absl::MutexLock lock(&mu_);
    return messages_;
  }

 private:
  grpc::ClientContext context_;
  std::unique_ptr<grpc::ClientReader<v1::SubscribeResponse>> reader_;
  std::thread reader_thread_;
  absl::Mutex mu_;
  Messages messages_ ABSL_GUARDED_BY(mu_);
  std::optional<grpc::Status> end_ ABSL_GUARDED_BY(mu_);
};

inline v1::SubscribeRequest After(int64_t position) {
  v1::SubscribeRequest request;
  request.set_after_position(position);
  return request;
}

inline std::vector<v1::Event> EventsOf(const Messages& messages) {
  std::vector<v1::Event> events;
  for (const auto& message : messages) {
    if (message.has_event()) events.push_back(message.event());
    for (const auto& event : message.events().events()) {
      events.push_back(event);
    }
  }
  return events;
}

inline std::vector<int64_t> PositionsOf(const std::vector<v1::Event>& events) {
  std::vector<int64_t> positions;
  for (const auto& event : events) positions.push_back(event.global_position());
  return positions;
}

inline std::vector<int64_t> PositionsOf(const Messages& messages) {
  return PositionsOf(EventsOf(messages));
}

inline std::vector<int64_t> Range(int64_t first, int64_t last) {
  std::vector<int64_t> range;
  for (int64_t p = first; p <= last; ++p) range.push_back(p);
  return range;
}

inline int CountCaughtUp(const Messages& messages) {
  return static_cast<int>(std::count_if(
      messages.begin(), messages.end(),
      [](const v1::SubscribeResponse& m) { return m.has_caught_up(); }));
}

// Index of the first CaughtUp, or -1.
inline int CaughtUpIndex(const Messages& messages) {
  for (size_t i = 0; i < messages.size(); ++i) {
    if (messages[i].has_caught_up()) return static_cast<int>(i);
  }
  return -1;
}

// "E1 E2 C2 H2 ..." for failure messages.
inline std::string Describe(const Messages& messages) {
  std::string out;
  for (const auto& m : messages) {
    if (m.has_event()) {
      absl::StrAppend(&out, "E", m.event().global_position(), " ");
    } else if (m.has_events()) {
      absl::StrAppend(&out, "B[");
      for (const auto& e : m.events().events()) {
        absl::StrAppend(&out, "E", e.global_position(), " ");
      }
      absl::StrAppend(&out, "] ");
    } else if (m.has_caught_up()) {
      absl::StrAppend(&out, "C", m.caught_up().head_position(), " ");
    } else if (m.has_heartbeat()) {
      absl::StrAppend(&out, "H", m.heartbeat().head_position(), " ");
    } else {
      absl::StrAppend(&out, "? ");
    }
  }
  return out;
}

inline bool HasCaughtUp(const Messages& messages) {
  return CaughtUpIndex(messages) >= 0;
}

// The last event received has a position of at least `position`.
inline Predicate HasEventsThrough(int64_t position) {
  return [position](const Messages& messages) {
    for (auto it = messages.rbegin(); it != messages.rend(); ++it) {
      if (it->has_event()) return it->event().global_position() >= position;
      if (it->events().events_size() > 0) {
        return it->events().events().rbegin()->global_position() >= position;
      }
    }
    return false;
  };
}

// --- Fixture --------------------------------------------------------------

class ServerTest : public ::testing::TestWithParam<StoreKind> {
 protected:
  void SetUp() override {
    node_ = StartNode(NewStore(GetParam()), TestOptions());
    ASSERT_NE(node_, nullptr);
  }
  void TearDown() override { node_.reset(); }

  template <typename Request>
  Reply Send(const Request& request, const std::string& correlation_id = "") {
    return SendTo(node_->commands(), request, correlation_id);
  }

  std::unique_ptr<Subscription> Subscribe(
      const v1::SubscribeRequest& request = {}) {
    return std::make_unique<Subscription>(node_->events(), request);
  }

  // Subscribes after `position` and waits for the CaughtUp.
  std::unique_ptr<Subscription> SubscribeCaughtUp(int64_t position = 0) {
    auto subscription = Subscribe(After(position));
    EXPECT_TRUE(subscription->WaitFor(HasCaughtUp))
        << Describe(subscription->messages());
    return subscription;
  }

  int64_t Head() {
    absl::StatusOr<int64_t> head = node_->store->HeadPosition();
    EXPECT_TRUE(head.ok()) << head.status();
    return head.value_or(-1);
  }

  std::unique_ptr<Node> node_;
};

}  // namespace inventory::command_server_testing

#endif  // INVENTORY_TESTS_COMMAND_SERVER_FIXTURE_H_
