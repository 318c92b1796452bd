// The write side as a real gRPC server: CommandServer in process, on a free
// loopback port, called through a real channel, over both event stores (in
// memory, and PostgreSQL on a fresh database of a throwaway server).
//
// Covers every CommandService RPC and error code, the event stream
// (catch-up, CaughtUp, live events, heartbeats, resuming, filters, a slow
// subscriber that falls out of the live window, many subscribers, two
// servers on one database), health checking (also through a database
// outage) and shutdown. Nothing is synchronized by sleeping: every wait is
// for a condition (a message, a status, a health state), bounded by a
// deadline.
#include "command-service/server/command_server.h"

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
#include "common/base/error_reason.h"
#include "common/base/field_violation.h"
#include "common/eventstore/forwarding_event_store.h"
#include "common/eventstore/in_memory_event_store.h"
#include "common/eventstore/postgres/postgres_event_store.h"
#include "common/rpc/grpc_status.h"
#include "gmock/gmock.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "gtest/gtest.h"
#include "inventory/v1/command_service.grpc.pb.h"
#include "inventory/v1/event_stream_service.grpc.pb.h"
#include "tests/support/health_probe.h"
#include "tests/support/postgres_test_main.h"

namespace inventory {
namespace {

using ::grpc::StatusCode;
using ::grpc::health::v1::Health;
using ::grpc::health::v1::HealthCheckRequest;
using ::grpc::health::v1::HealthCheckResponse;
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

absl::Time Deadline(absl::Duration timeout) { return absl::Now() + timeout; }

// --- The store ------------------------------------------------------------

// Forwards every call to another store, and counts the ReadAll() calls that
// start below a given position: reads of old events, which only a
// subscription that is not served from the live window makes. A hook may
// run before each Append(), e.g. another writer appending first.
class ObservedStore final : public ForwardingEventStore {
 public:
  // Runs before an Append() is forwarded, with the store forwarded to.
  using AppendHook = std::function<void(EventStore& inner)>;

  explicit ObservedStore(std::unique_ptr<EventStore> inner)
      : ForwardingEventStore(inner.get()), inner_(std::move(inner)) {}

  absl::StatusOr<AppendResult> Append(const AppendRequest& request) override {
    AppendHook hook;
    {
      absl::MutexLock lock(&mu_);
      hook = before_append_;
    }
    if (hook) hook(*inner_);
    return inner_->Append(request);
  }
  absl::StatusOr<std::vector<RecordedEvent>> ReadAll(
      int64_t after_position, int64_t max_count) override {
    {
      absl::MutexLock lock(&mu_);
      if (after_position < count_below_) ++reads_below_;
    }
    return inner_->ReadAll(after_position, max_count);
  }

  // From now on, counts ReadAll() calls with after_position < `position`.
  void CountReadsBelow(int64_t position) {
    absl::MutexLock lock(&mu_);
    count_below_ = position;
    reads_below_ = 0;
  }
  int64_t reads_below() const {
    absl::MutexLock lock(&mu_);
    return reads_below_;
  }

  // Replaces the hook run before every Append() (nullptr: none).
  void SetBeforeAppend(AppendHook hook) {
    absl::MutexLock lock(&mu_);
    before_append_ = std::move(hook);
  }

 private:
  const std::unique_ptr<EventStore> inner_;
  mutable absl::Mutex mu_;
  int64_t count_below_ ABSL_GUARDED_BY(mu_) = -1;
  int64_t reads_below_ ABSL_GUARDED_BY(mu_) = 0;
  AppendHook before_append_ ABSL_GUARDED_BY(mu_);
};

enum class StoreKind { kInMemory, kPostgres };

std::string StoreKindName(const ::testing::TestParamInfo<StoreKind>& info) {
  return info.param == StoreKind::kInMemory ? "InMemory" : "Postgres";
}

std::string NewDatabase(absl::string_view prefix) {
  absl::StatusOr<std::string> url =
      test_support::TestPostgres().CreateDatabase(prefix);
  EXPECT_TRUE(url.ok()) << url.status();
  return url.ok() ? *url : "";
}

std::unique_ptr<EventStore> OpenPostgres(const std::string& url) {
  PostgresEventStoreOptions options;
  options.url = url;
  options.pool_size = 8;
  auto store = PostgresEventStore::Open(options);
  EXPECT_TRUE(store.ok()) << store.status();
  if (!store.ok()) return nullptr;
  return std::move(*store);
}

std::unique_ptr<EventStore> NewStore(StoreKind kind) {
  if (kind == StoreKind::kInMemory) {
    return std::make_unique<InMemoryEventStore>();
  }
  return OpenPostgres(NewDatabase("command_server"));
}

// --- The server -----------------------------------------------------------

CommandServerOptions TestOptions() {
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

// A running server on its store, and stubs on a channel to it.
struct Node {
  std::unique_ptr<ObservedStore> store;
  std::unique_ptr<CommandServer> server;
  std::shared_ptr<grpc::Channel> channel;
  std::unique_ptr<v1::CommandService::Stub> commands;
  std::unique_ptr<v1::EventStreamService::Stub> events;
  std::unique_ptr<Health::Stub> health;

  std::string target() const {
    return absl::StrCat("127.0.0.1:", server->port());
  }
};

// Null (with a test failure) when the store or the server cannot start.
std::unique_ptr<Node> StartNode(std::unique_ptr<EventStore> inner,
                                const CommandServerOptions& options) {
  if (inner == nullptr) return nullptr;
  auto node = std::make_unique<Node>();
  node->store = std::make_unique<ObservedStore>(std::move(inner));
  auto server = CommandServer::Start(node->store.get(), options);
  EXPECT_TRUE(server.ok()) << server.status();
  if (!server.ok()) return nullptr;
  node->server = std::move(*server);
  EXPECT_GT(node->server->port(), 0);
  node->channel =
      grpc::CreateChannel(node->target(), grpc::InsecureChannelCredentials());
  node->commands = v1::CommandService::NewStub(node->channel);
  node->events = v1::EventStreamService::NewStub(node->channel);
  node->health = Health::NewStub(node->channel);
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

Reply SendTo(CommandStub& stub, const v1::CreateItemRequest& request,
             const std::string& correlation_id = "") {
  return Call(&CommandStub::CreateItem, stub, request, correlation_id);
}
Reply SendTo(CommandStub& stub, const v1::RenameItemRequest& request,
             const std::string& correlation_id = "") {
  return Call(&CommandStub::RenameItem, stub, request, correlation_id);
}
Reply SendTo(CommandStub& stub, const v1::CheckInItemsRequest& request,
             const std::string& correlation_id = "") {
  return Call(&CommandStub::CheckInItems, stub, request, correlation_id);
}
Reply SendTo(CommandStub& stub, const v1::RemoveItemsRequest& request,
             const std::string& correlation_id = "") {
  return Call(&CommandStub::RemoveItems, stub, request, correlation_id);
}
Reply SendTo(CommandStub& stub, const v1::DeactivateItemRequest& request,
             const std::string& correlation_id = "") {
  return Call(&CommandStub::DeactivateItem, stub, request, correlation_id);
}
Reply SendTo(CommandStub& stub, const v1::ReactivateItemRequest& request,
             const std::string& correlation_id = "") {
  return Call(&CommandStub::ReactivateItem, stub, request, correlation_id);
}

using Expected = std::optional<int64_t>;

v1::CreateItemRequest Create(const std::string& id,
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

v1::RenameItemRequest Rename(const std::string& id, const std::string& name,
                             Expected expected = std::nullopt,
                             const std::string& request_id = "") {
  v1::RenameItemRequest request;
  request.set_item_id(id);
  request.set_name(name);
  if (expected.has_value()) request.set_expected_version(*expected);
  request.set_request_id(request_id);
  return request;
}

v1::CheckInItemsRequest CheckIn(const std::string& id, int64_t quantity,
                                Expected expected = std::nullopt,
                                const std::string& request_id = "") {
  v1::CheckInItemsRequest request;
  request.set_item_id(id);
  request.set_quantity(quantity);
  if (expected.has_value()) request.set_expected_version(*expected);
  request.set_request_id(request_id);
  return request;
}

v1::RemoveItemsRequest Remove(const std::string& id, int64_t quantity,
                              Expected expected = std::nullopt,
                              const std::string& request_id = "") {
  v1::RemoveItemsRequest request;
  request.set_item_id(id);
  request.set_quantity(quantity);
  if (expected.has_value()) request.set_expected_version(*expected);
  request.set_request_id(request_id);
  return request;
}

v1::DeactivateItemRequest Deactivate(const std::string& id,
                                     Expected expected = std::nullopt,
                                     const std::string& request_id = "") {
  v1::DeactivateItemRequest request;
  request.set_item_id(id);
  if (expected.has_value()) request.set_expected_version(*expected);
  request.set_request_id(request_id);
  return request;
}

v1::ReactivateItemRequest Reactivate(const std::string& id,
                                     Expected expected = std::nullopt,
                                     const std::string& request_id = "") {
  v1::ReactivateItemRequest request;
  request.set_item_id(id);
  if (expected.has_value()) request.set_expected_version(*expected);
  request.set_request_id(request_id);
  return request;
}

std::string Describe(const grpc::Status& status) {
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
::testing::AssertionResult HasCode(const grpc::Status& status,
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

::testing::AssertionResult HasCode(const Reply& reply, StatusCode code) {
  return HasCode(reply.status, code);
}

// INVALID_ARGUMENT whose google.rpc.BadRequest names `field`, read both as
// any client would (google.rpc.Status in the details trailer) and through
// FromGrpcStatus() + FieldViolationOf().
::testing::AssertionResult NamesField(const grpc::Status& status,
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
::testing::AssertionResult Refused(
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

::testing::AssertionResult Refused(
    const Reply& reply, StatusCode code, const std::string& reason,
    const std::map<std::string, std::string>& metadata = {}) {
  return Refused(reply.status, code, reason, metadata);
}

// The command was applied: OK, not replayed, at `version` and `position`.
::testing::AssertionResult Applied(const Reply& reply,
                                   const std::string& item_id, int64_t version,
                                   int64_t position) {
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

v1::SubscribeRequest After(int64_t position) {
  v1::SubscribeRequest request;
  request.set_after_position(position);
  return request;
}

std::vector<v1::Event> EventsOf(const Messages& messages) {
  std::vector<v1::Event> events;
  for (const auto& message : messages) {
    if (message.has_event()) events.push_back(message.event());
    for (const auto& event : message.events().events()) {
      events.push_back(event);
    }
  }
  return events;
}

std::vector<int64_t> PositionsOf(const std::vector<v1::Event>& events) {
  std::vector<int64_t> positions;
  for (const auto& event : events) positions.push_back(event.global_position());
  return positions;
}

std::vector<int64_t> PositionsOf(const Messages& messages) {
  return PositionsOf(EventsOf(messages));
}

std::vector<int64_t> Range(int64_t first, int64_t last) {
  std::vector<int64_t> range;
  for (int64_t p = first; p <= last; ++p) range.push_back(p);
  return range;
}

int CountCaughtUp(const Messages& messages) {
  return static_cast<int>(std::count_if(
      messages.begin(), messages.end(),
      [](const v1::SubscribeResponse& m) { return m.has_caught_up(); }));
}

// Index of the first CaughtUp, or -1.
int CaughtUpIndex(const Messages& messages) {
  for (size_t i = 0; i < messages.size(); ++i) {
    if (messages[i].has_caught_up()) return static_cast<int>(i);
  }
  return -1;
}

// "E1 E2 C2 H2 ..." for failure messages.
std::string Describe(const Messages& messages) {
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

bool HasCaughtUp(const Messages& messages) {
  return CaughtUpIndex(messages) >= 0;
}

// The last event received has a position of at least `position`.
Predicate HasEventsThrough(int64_t position) {
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
    return SendTo(*node_->commands, request, correlation_id);
  }

  std::unique_ptr<Subscription> Subscribe(
      const v1::SubscribeRequest& request = {}) {
    return std::make_unique<Subscription>(*node_->events, request);
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

// --- CommandService -------------------------------------------------------

class CommandServiceTest : public ServerTest {};

TEST_P(CommandServiceTest, EveryCommandSucceedsWithVersionAndPosition) {
  EXPECT_TRUE(Applied(Send(Create("w1", "SKU-1", "Widget")), "w1", 1, 1));
  EXPECT_TRUE(Applied(Send(Create("w2", "SKU-2", "Gadget")), "w2", 1, 2));
  EXPECT_TRUE(Applied(Send(Rename("w1", "Blue widget", 1)), "w1", 2, 3));
  EXPECT_TRUE(Applied(Send(CheckIn("w1", 10)), "w1", 3, 4));
  EXPECT_TRUE(Applied(Send(Remove("w1", 4, 3)), "w1", 4, 5));
  EXPECT_TRUE(Applied(Send(Deactivate("w1")), "w1", 5, 6));
  EXPECT_TRUE(Applied(Send(Reactivate("w1", 5)), "w1", 6, 7));
  EXPECT_TRUE(Applied(Send(CheckIn("w2", 1'000'000, 1)), "w2", 2, 8));
  // Removing exactly what is on hand is allowed.
  EXPECT_TRUE(Applied(Send(Remove("w1", 6)), "w1", 7, 9));
  EXPECT_EQ(Head(), 9);

  // What was recorded, as the event stream publishes it.
  auto subscription = SubscribeCaughtUp();
  const std::vector<v1::Event> events = EventsOf(subscription->messages());
  ASSERT_EQ(events.size(), 9u) << Describe(subscription->messages());
  std::vector<std::string> summary;
  for (const v1::Event& e : events) {
    summary.push_back(absl::StrCat(e.global_position(), " ", e.stream_id(),
                                   " v", e.stream_version(), " ",
                                   e.event_type()));
    EXPECT_FALSE(e.event_id().empty());
    EXPECT_GT(e.recorded_at().seconds(), 0);
  }
  EXPECT_THAT(summary, ElementsAre(absl::StrCat("1 item-w1 v1 ", kCreated),
                                   absl::StrCat("2 item-w2 v1 ", kCreated),
                                   absl::StrCat("3 item-w1 v2 ", kRenamed),
                                   absl::StrCat("4 item-w1 v3 ", kCheckedIn),
                                   absl::StrCat("5 item-w1 v4 ", kRemoved),
                                   absl::StrCat("6 item-w1 v5 ", kDeactivated),
                                   absl::StrCat("7 item-w1 v6 ", kReactivated),
                                   absl::StrCat("8 item-w2 v2 ", kCheckedIn),
                                   absl::StrCat("9 item-w1 v7 ", kRemoved)));
  EXPECT_EQ(events[0].item_created().item_id(), "w1");
  EXPECT_EQ(events[0].item_created().sku(), "SKU-1");
  EXPECT_EQ(events[0].item_created().name(), "Widget");
  EXPECT_EQ(events[2].item_renamed().name(), "Blue widget");
  EXPECT_EQ(events[3].items_checked_in().quantity(), 10);
  EXPECT_EQ(events[4].items_removed().quantity(), 4);
  EXPECT_EQ(events[5].item_deactivated().item_id(), "w1");
  EXPECT_EQ(events[6].item_reactivated().item_id(), "w1");
  EXPECT_EQ(events[7].items_checked_in().quantity(), 1'000'000);
  EXPECT_EQ(events[8].items_removed().quantity(), 6);
}

TEST_P(CommandServiceTest, MalformedFieldsAreInvalidArgumentNamingTheField) {
  ASSERT_TRUE(Applied(Send(Create("ok")), "ok", 1, 1));
  struct Case {
    std::string what;
    std::function<Reply()> call;
    std::string field;
  };
  const std::string long_request_id(129, 'r');
  const std::vector<Case> cases = {
      {"empty item_id", [&] { return Send(Create("")); }, "item_id"},
      {"item_id with a space", [&] { return Send(Create("a b")); }, "item_id"},
      {"item_id of 65", [&] { return Send(Create(std::string(65, 'a'))); },
       "item_id"},
      {"non-ASCII item_id", [&] { return Send(Create("caf\xC3\xA9")); },
       "item_id"},
      {"sku too short", [&] { return Send(Create("a", "AB")); }, "sku"},
      {"sku too long", [&] { return Send(Create("a", std::string(33, 'A'))); },
       "sku"},
      {"lowercase sku", [&] { return Send(Create("a", "sku-1")); }, "sku"},
      {"empty name", [&] { return Send(Create("a", "SKU-1", "")); }, "name"},
      {"blank name", [&] { return Send(Create("a", "SKU-1", "   ")); }, "name"},
      {"name of 201",
       [&] { return Send(Create("a", "SKU-1", std::string(201, 'n'))); },
       "name"},
      {"name with a control character",
       [&] { return Send(Create("a", "SKU-1", "bad\x01name")); }, "name"},
      {"rename to empty name", [&] { return Send(Rename("ok", "")); }, "name"},
      {"rename bad item_id", [&] { return Send(Rename("a.b", "New")); },
       "item_id"},
      {"check in 0", [&] { return Send(CheckIn("ok", 0)); }, "quantity"},
      {"check in -1", [&] { return Send(CheckIn("ok", -1)); }, "quantity"},
      {"check in 1000001", [&] { return Send(CheckIn("ok", 1'000'001)); },
       "quantity"},
      {"remove 0", [&] { return Send(Remove("ok", 0)); }, "quantity"},
      {"remove int64 max",
       [&] { return Send(Remove("ok", std::numeric_limits<int64_t>::max())); },
       "quantity"},
      {"check in bad item_id", [&] { return Send(CheckIn("", 1)); }, "item_id"},
      {"remove bad item_id", [&] { return Send(Remove("a/b", 1)); }, "item_id"},
      {"deactivate bad item_id", [&] { return Send(Deactivate("")); },
       "item_id"},
      {"reactivate bad item_id", [&] { return Send(Reactivate("a b")); },
       "item_id"},
      {"rename expected_version -1",
       [&] { return Send(Rename("ok", "New", -1)); }, "expected_version"},
      {"check in expected_version -1",
       [&] { return Send(CheckIn("ok", 1, -1)); }, "expected_version"},
      {"remove expected_version -5", [&] { return Send(Remove("ok", 1, -5)); },
       "expected_version"},
      {"deactivate expected_version -1",
       [&] { return Send(Deactivate("ok", -1)); }, "expected_version"},
      {"reactivate expected_version min",
       [&] {
         return Send(Reactivate("ok", std::numeric_limits<int64_t>::min()));
       },
       "expected_version"},
      {"create request_id of 129",
       [&] { return Send(Create("a", "SKU-1", "A", long_request_id)); },
       "request_id"},
      {"check in request_id of 129",
       [&] { return Send(CheckIn("ok", 1, std::nullopt, long_request_id)); },
       "request_id"},
      {"request_id with a newline",
       [&] { return Send(Deactivate("ok", std::nullopt, "req\n1")); },
       "request_id"},
      {"x-correlation-id of 129",
       [&] { return Send(Create("a"), std::string(129, 'c')); },
       "x-correlation-id"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    EXPECT_TRUE(NamesField(c.call().status, c.field));
  }
  // A name that is not UTF-8 never reaches the service: the protobuf
  // runtime refuses to parse a proto3 string that is not UTF-8, and gRPC
  // itself answers (INTERNAL, without field details). Refused all the same.
  const Reply not_utf8 = Send(Create("a", "SKU-1", "bad\xFFname"));
  EXPECT_FALSE(not_utf8.status.ok());
  EXPECT_NE(not_utf8.status.error_code(), StatusCode::UNAVAILABLE);
  // Nothing was recorded.
  EXPECT_EQ(Head(), 1);
  // Limits themselves are accepted.
  EXPECT_TRUE(
      Applied(Send(Create(std::string(64, 'a'), std::string(32, 'A'),
                          std::string(200, 'n'), std::string(128, 'r'))),
              std::string(64, 'a'), 1, 2));
}

TEST_P(CommandServiceTest, UnknownItemIsNotFound) {
  EXPECT_TRUE(HasCode(Send(Rename("ghost", "Name")), StatusCode::NOT_FOUND));
  EXPECT_TRUE(HasCode(Send(Rename("ghost", "Name", 0)), StatusCode::NOT_FOUND));
  EXPECT_TRUE(HasCode(Send(CheckIn("ghost", 1)), StatusCode::NOT_FOUND));
  EXPECT_TRUE(HasCode(Send(Remove("ghost", 1)), StatusCode::NOT_FOUND));
  EXPECT_TRUE(HasCode(Send(Deactivate("ghost")), StatusCode::NOT_FOUND));
  EXPECT_TRUE(HasCode(Send(Reactivate("ghost")), StatusCode::NOT_FOUND));
  // Item ids are case-sensitive.
  ASSERT_TRUE(Applied(Send(Create("Thing")), "Thing", 1, 1));
  EXPECT_TRUE(HasCode(Send(CheckIn("thing", 1)), StatusCode::NOT_FOUND));
  EXPECT_EQ(Head(), 1);
}

TEST_P(CommandServiceTest, ExistingItemOrReusedRequestIdIsAlreadyExists) {
  ASSERT_TRUE(Applied(Send(Create("a", "SKU-1", "A")), "a", 1, 1));
  EXPECT_TRUE(
      HasCode(Send(Create("a", "SKU-1", "A")), StatusCode::ALREADY_EXISTS));
  EXPECT_TRUE(
      HasCode(Send(Create("a", "SKU-2", "Other")), StatusCode::ALREADY_EXISTS));

  // A request_id reused for another command.
  ASSERT_TRUE(Applied(Send(Create("b", "SKU-1", "B", "req-1")), "b", 1, 2));
  EXPECT_TRUE(HasCode(Send(CheckIn("b", 5, std::nullopt, "req-1")),
                      StatusCode::ALREADY_EXISTS));
  EXPECT_TRUE(HasCode(Send(Create("c", "SKU-1", "B", "req-1")),
                      StatusCode::ALREADY_EXISTS));
  EXPECT_TRUE(HasCode(Send(Create("b", "SKU-1", "Other", "req-1")),
                      StatusCode::ALREADY_EXISTS));
  // Same command, different expected_version: a different request.
  ASSERT_TRUE(Applied(Send(CheckIn("b", 5, std::nullopt, "req-2")), "b", 2, 3));
  EXPECT_TRUE(
      HasCode(Send(CheckIn("b", 5, 1, "req-2")), StatusCode::ALREADY_EXISTS));
  EXPECT_TRUE(HasCode(Send(CheckIn("b", 6, std::nullopt, "req-2")),
                      StatusCode::ALREADY_EXISTS));
  EXPECT_EQ(Head(), 3);
}

TEST_P(CommandServiceTest, BusinessRulesAreFailedPrecondition) {
  ASSERT_TRUE(Applied(Send(Create("a", "SKU-1", "Widget")), "a", 1, 1));
  ASSERT_TRUE(Applied(Send(CheckIn("a", 5)), "a", 2, 2));

  const Reply too_much = Send(Remove("a", 6));
  EXPECT_TRUE(HasCode(too_much, StatusCode::FAILED_PRECONDITION));
  EXPECT_THAT(too_much.status.error_message(), HasSubstr("only 5 on hand"));
  EXPECT_TRUE(
      HasCode(Send(Rename("a", "Widget")), StatusCode::FAILED_PRECONDITION));
  // The name is trimmed before it is compared.
  EXPECT_TRUE(HasCode(Send(Rename("a", "  Widget \t")),
                      StatusCode::FAILED_PRECONDITION));
  EXPECT_TRUE(HasCode(Send(Reactivate("a")), StatusCode::FAILED_PRECONDITION));

  ASSERT_TRUE(Applied(Send(Deactivate("a")), "a", 3, 3));
  EXPECT_TRUE(
      HasCode(Send(Rename("a", "New name")), StatusCode::FAILED_PRECONDITION));
  EXPECT_TRUE(HasCode(Send(CheckIn("a", 1)), StatusCode::FAILED_PRECONDITION));
  EXPECT_TRUE(HasCode(Send(Remove("a", 1)), StatusCode::FAILED_PRECONDITION));
  EXPECT_TRUE(HasCode(Send(Deactivate("a")), StatusCode::FAILED_PRECONDITION));
  EXPECT_EQ(Head(), 3);
}

TEST_P(CommandServiceTest, StaleExpectedVersionIsAbortedWithCurrentVersion) {
  ASSERT_TRUE(Applied(Send(Create("a")), "a", 1, 1));
  ASSERT_TRUE(Applied(Send(CheckIn("a", 5, 1)), "a", 2, 2));

  const std::vector<Reply> stale = {
      Send(Rename("a", "New", 1)), Send(CheckIn("a", 1, 5)),
      Send(Remove("a", 1, 0)),     Send(Deactivate("a", 1)),
      Send(Reactivate("a", 3)),
  };
  const std::vector<std::string> expected = {"1", "5", "0", "1", "3"};
  for (size_t i = 0; i < stale.size(); ++i) {
    const Reply& reply = stale[i];
    EXPECT_TRUE(
        Refused(reply, StatusCode::ABORTED, "VERSION_CONFLICT",
                {{"expected_version", expected[i]}, {"actual_version", "2"}}));
    // The message names both versions.
    EXPECT_THAT(reply.status.error_message(), HasSubstr("version 2"));
    EXPECT_THAT(reply.status.error_message(),
                HasSubstr("expected " + expected[i]));
  }
  EXPECT_EQ(Head(), 2);
  EXPECT_TRUE(Applied(Send(Rename("a", "New", 2)), "a", 3, 3));
}

// Every refusal the command side makes, each through the API, with the
// ErrorInfo reason (and metadata) a client program branches on. The
// store's UNAVAILABLE reasons are in DatabaseOutageTest, Subscribe's
// LOG_POSITION_OUT_OF_RANGE in EventStreamTest.
TEST_P(CommandServiceTest, EveryRefusalCarriesItsReason) {
  ASSERT_TRUE(
      Applied(Send(Create("a", "SKU-1", "Widget", "req-1")), "a", 1, 1));
  ASSERT_TRUE(Applied(Send(CheckIn("a", 5)), "a", 2, 2));
  ASSERT_TRUE(Applied(Send(Create("off")), "off", 1, 3));
  ASSERT_TRUE(Applied(Send(Deactivate("off")), "off", 2, 4));
  // Stock at INT64_MAX takes millions of commands through the API; the
  // event goes into the store directly.
  ASSERT_TRUE(Applied(Send(Create("full")), "full", 1, 5));
  absl::StatusOr<EventData> full = ToEventData(
      ItemsCheckedIn{"full", std::numeric_limits<int64_t>::max()}, {});
  ASSERT_TRUE(full.ok()) << full.status();
  AppendRequest fill;
  fill.stream_id = "item-full";
  fill.expected_version = ExpectedVersion::Exact(1);
  fill.events.push_back(*full);
  ASSERT_TRUE(node_->store->Append(fill).ok());

  struct Case {
    std::string reason;
    std::function<Reply()> send;
    StatusCode code;
    std::map<std::string, std::string> metadata = {};
  };
  const std::vector<Case> cases = {
      {"INVALID_FIELD", [&] { return Send(CheckIn("a", 0)); },
       StatusCode::INVALID_ARGUMENT},
      {"ITEM_NOT_FOUND", [&] { return Send(CheckIn("ghost", 1)); },
       StatusCode::NOT_FOUND},
      {"ITEM_ALREADY_EXISTS", [&] { return Send(Create("a")); },
       StatusCode::ALREADY_EXISTS},
      {"REQUEST_ID_REUSED",
       [&] { return Send(CheckIn("a", 1, std::nullopt, "req-1")); },
       StatusCode::ALREADY_EXISTS},
      {"VERSION_CONFLICT",
       [&] { return Send(CheckIn("a", 1, 1)); },
       StatusCode::ABORTED,
       {{"expected_version", "1"}, {"actual_version", "2"}}},
      {"INSUFFICIENT_STOCK",
       [&] { return Send(Remove("a", 6)); },
       StatusCode::FAILED_PRECONDITION,
       {{"requested_quantity", "6"}, {"quantity_on_hand", "5"}}},
      {"ITEM_INACTIVE", [&] { return Send(CheckIn("off", 1)); },
       StatusCode::FAILED_PRECONDITION},
      {"ITEM_ALREADY_ACTIVE", [&] { return Send(Reactivate("a")); },
       StatusCode::FAILED_PRECONDITION},
      {"SAME_NAME", [&] { return Send(Rename("a", "Widget")); },
       StatusCode::FAILED_PRECONDITION},
      {"QUANTITY_OVERFLOW", [&] { return Send(CheckIn("full", 1)); },
       StatusCode::FAILED_PRECONDITION},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.reason);
    EXPECT_TRUE(Refused(c.send(), c.code, c.reason, c.metadata));
  }
  EXPECT_EQ(Head(), 6);

  // Another writer wins every race for the item's next version: the
  // handler gives up after its attempts (the default, 5).
  ASSERT_TRUE(Applied(Send(Create("busy")), "busy", 1, 7));
  node_->store->SetBeforeAppend([](EventStore& inner) {
    absl::StatusOr<EventData> one = ToEventData(ItemsCheckedIn{"busy", 1}, {});
    ASSERT_TRUE(one.ok()) << one.status();
    AppendRequest other;
    other.stream_id = "item-busy";
    other.expected_version = ExpectedVersion::Any();
    other.events.push_back(*std::move(one));
    EXPECT_TRUE(inner.Append(other).ok());
  });
  EXPECT_TRUE(Refused(Send(CheckIn("busy", 1)), StatusCode::ABORTED,
                      "CONCURRENT_MODIFICATION", {{"attempts", "5"}}));
  node_->store->SetBeforeAppend(nullptr);
}

TEST_P(CommandServiceTest, RepeatedRequestIdReplaysTheOriginalResponse) {
  const std::string long_id(128, 'k');  // the longest allowed request_id
  std::vector<std::function<Reply()>> commands = {
      [&] { return Send(Create("a", "SKU-1", "A", long_id)); },
      [&] { return Send(Rename("a", "B", 1, "rename-1")); },
      [&] { return Send(CheckIn("a", 9, std::nullopt, "check-in-1")); },
      [&] { return Send(Remove("a", 4, 3, "remove-1")); },
      [&] { return Send(Deactivate("a", std::nullopt, "deactivate-1")); },
      [&] { return Send(Reactivate("a", 5, "reactivate-1")); },
  };
  std::vector<Reply> originals;
  for (size_t i = 0; i < commands.size(); ++i) {
    originals.push_back(commands[i]());
    const int64_t n = static_cast<int64_t>(i) + 1;
    ASSERT_TRUE(Applied(originals.back(), "a", n, n)) << "command " << i;
  }
  ASSERT_TRUE(Applied(Send(CheckIn("a", 1)), "a", 7, 7));

  // Each again, now that the item has moved on (a stale expected_version
  // or a broken business rule does not matter for a replay).
  for (size_t i = 0; i < commands.size(); ++i) {
    SCOPED_TRACE(absl::StrCat("command ", i));
    const Reply again = commands[i]();
    ASSERT_TRUE(again.status.ok()) << Describe(again.status);
    EXPECT_TRUE(again.replayed);
    EXPECT_EQ(again.item_id, originals[i].item_id);
    EXPECT_EQ(again.version, originals[i].version);
    EXPECT_EQ(again.global_position, originals[i].global_position);
  }
  EXPECT_EQ(Head(), 7);

  auto subscription = SubscribeCaughtUp();
  EXPECT_THAT(PositionsOf(subscription->messages()),
              ElementsAreArray(Range(1, 7)));
}

TEST_P(CommandServiceTest, CorrelationIdFromMetadataLandsInEventMetadata) {
  ASSERT_TRUE(
      Applied(Send(Create("c", "SKU-1", "C", "req-c"), "corr-42"), "c", 1, 1));
  ASSERT_TRUE(Applied(Send(CheckIn("c", 3), "corr-43"), "c", 2, 2));
  ASSERT_TRUE(Applied(Send(CheckIn("c", 4)), "c", 3, 3));

  auto subscription = SubscribeCaughtUp();
  const std::vector<v1::Event> events = EventsOf(subscription->messages());
  ASSERT_EQ(events.size(), 3u) << Describe(subscription->messages());
  EXPECT_EQ(events[0].metadata().correlation_id(), "corr-42");
  EXPECT_EQ(events[0].metadata().request_id(), "req-c");
  EXPECT_EQ(events[0].metadata().causation_id(), "req-c");
  EXPECT_EQ(events[1].metadata().correlation_id(), "corr-43");
  EXPECT_EQ(events[1].metadata().request_id(), "");
  EXPECT_FALSE(events[1].metadata().causation_id().empty());
  // Without the header a command starts a correlation of its own.
  EXPECT_FALSE(events[2].metadata().correlation_id().empty());
  EXPECT_EQ(events[2].metadata().correlation_id(),
            events[2].metadata().causation_id());
  EXPECT_NE(events[2].metadata().causation_id(),
            events[1].metadata().causation_id());
}

TEST_P(CommandServiceTest, ExpiredDeadlineIsDeadlineExceeded) {
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() - absl::Seconds(1)));
  v1::CreateItemResponse response;
  const grpc::Status status =
      node_->commands->CreateItem(&context, Create("late"), &response);
  EXPECT_TRUE(HasCode(status, StatusCode::DEADLINE_EXCEEDED));
  EXPECT_EQ(Head(), 0);
  // The item can still be created: nothing half-done remains.
  EXPECT_TRUE(Applied(Send(Create("late")), "late", 1, 1));
}

INSTANTIATE_TEST_SUITE_P(Stores, CommandServiceTest,
                         ::testing::Values(StoreKind::kInMemory,
                                           StoreKind::kPostgres),
                         StoreKindName);

// --- EventStreamService ---------------------------------------------------

class EventStreamTest : public ServerTest {};

TEST_P(EventStreamTest, CatchUpThenCaughtUpThenLiveThenHeartbeat) {
  ASSERT_TRUE(Applied(Send(Create("a")), "a", 1, 1));
  ASSERT_TRUE(Applied(Send(CheckIn("a", 5)), "a", 2, 2));
  ASSERT_TRUE(Applied(Send(Rename("a", "Renamed")), "a", 3, 3));

  auto subscription = SubscribeCaughtUp();
  Messages messages = subscription->messages();
  ASSERT_GE(messages.size(), 4u);
  EXPECT_EQ(CaughtUpIndex(messages), 3) << Describe(messages);
  EXPECT_THAT(PositionsOf(Messages(messages.begin(), messages.begin() + 3)),
              ElementsAre(1, 2, 3));
  EXPECT_EQ(messages[3].caught_up().head_position(), 3);

  // Live.
  ASSERT_TRUE(Applied(Send(CheckIn("a", 7)), "a", 4, 4));
  ASSERT_TRUE(Applied(Send(Create("b")), "b", 1, 5));
  ASSERT_TRUE(subscription->WaitFor(HasEventsThrough(5)))
      << Describe(subscription->messages());
  messages = subscription->messages();
  const Messages live(messages.begin() + CaughtUpIndex(messages) + 1,
                      messages.end());
  const std::vector<v1::Event> live_events = EventsOf(live);
  ASSERT_THAT(PositionsOf(live_events), ElementsAre(4, 5)) << Describe(live);
  EXPECT_EQ(live_events[0].items_checked_in().quantity(), 7);
  EXPECT_EQ(live_events[1].item_created().item_id(), "b");

  // Idle: heartbeats, reporting the head.
  const size_t seen = messages.size();
  ASSERT_TRUE(subscription->WaitFor([seen](const Messages& m) {
    for (size_t i = seen; i < m.size(); ++i) {
      if (m[i].has_heartbeat()) return true;
    }
    return false;
  })) << Describe(subscription->messages());
  messages = subscription->messages();
  for (size_t i = seen; i < messages.size(); ++i) {
    ASSERT_TRUE(messages[i].has_heartbeat()) << Describe(messages);
    EXPECT_EQ(messages[i].heartbeat().head_position(), 5);
    EXPECT_GT(messages[i].heartbeat().sent_at().seconds(), 0);
  }
  EXPECT_EQ(CountCaughtUp(messages), 1) << Describe(messages);
  EXPECT_THAT(PositionsOf(messages), ElementsAreArray(Range(1, 5)));
  EXPECT_FALSE(subscription->ended());
}

TEST_P(EventStreamTest, EmptyLogCatchesUpAtZero) {
  auto subscription = SubscribeCaughtUp();
  Messages messages = subscription->messages();
  ASSERT_FALSE(messages.empty());
  ASSERT_TRUE(messages[0].has_caught_up()) << Describe(messages);
  EXPECT_EQ(messages[0].caught_up().head_position(), 0);
  ASSERT_TRUE(Applied(Send(Create("first")), "first", 1, 1));
  ASSERT_TRUE(subscription->WaitFor(HasEventsThrough(1)));
  EXPECT_THAT(PositionsOf(subscription->messages()), ElementsAre(1));
}

TEST_P(EventStreamTest, ResumingAfterAPositionGivesExactlyTheLaterEvents) {
  for (const char* id : {"a", "b", "c"}) {
    ASSERT_TRUE(Send(Create(id)).status.ok());
    ASSERT_TRUE(Send(CheckIn(id, 2)).status.ok());
  }
  ASSERT_EQ(Head(), 6);
  const std::vector<int64_t> starts = {0, 2, 5, 6};
  std::vector<std::unique_ptr<Subscription>> subscriptions;
  for (int64_t start : starts) {
    subscriptions.push_back(SubscribeCaughtUp(start));
  }
  for (size_t i = 0; i < starts.size(); ++i) {
    SCOPED_TRACE(absl::StrCat("after_position ", starts[i]));
    const Messages messages = subscriptions[i]->messages();
    const int caught_up = CaughtUpIndex(messages);
    ASSERT_GE(caught_up, 0);
    EXPECT_EQ(messages[caught_up].caught_up().head_position(), 6);
    EXPECT_THAT(
        PositionsOf(Messages(messages.begin(), messages.begin() + caught_up)),
        ElementsAreArray(Range(starts[i] + 1, 6)));
  }
  // And each goes on live from there.
  ASSERT_TRUE(Applied(Send(CheckIn("a", 1)), "a", 3, 7));
  for (size_t i = 0; i < starts.size(); ++i) {
    SCOPED_TRACE(absl::StrCat("after_position ", starts[i]));
    ASSERT_TRUE(subscriptions[i]->WaitFor(HasEventsThrough(7)));
    const Messages messages = subscriptions[i]->messages();
    EXPECT_THAT(PositionsOf(messages),
                ElementsAreArray(Range(starts[i] + 1, 7)));
    EXPECT_EQ(CountCaughtUp(messages), 1);
  }
}

TEST_P(EventStreamTest, FiltersByEventTypeAndStreamPrefix) {
  ASSERT_TRUE(Applied(Send(Create("a1")), "a1", 1, 1));
  ASSERT_TRUE(Applied(Send(Create("a2")), "a2", 1, 2));
  ASSERT_TRUE(Applied(Send(Create("b1")), "b1", 1, 3));
  ASSERT_TRUE(Applied(Send(CheckIn("a1", 1)), "a1", 2, 4));
  ASSERT_TRUE(Applied(Send(CheckIn("b1", 1)), "b1", 2, 5));
  ASSERT_TRUE(Applied(Send(Rename("a2", "Renamed")), "a2", 2, 6));

  v1::SubscribeRequest by_type;
  by_type.mutable_filter()->add_event_types(kCheckedIn);
  v1::SubscribeRequest by_prefix;
  by_prefix.mutable_filter()->set_stream_id_prefix("item-a");
  v1::SubscribeRequest by_both;
  by_both.mutable_filter()->add_event_types(kCheckedIn);
  by_both.mutable_filter()->add_event_types(kRenamed);
  by_both.mutable_filter()->set_stream_id_prefix("item-a");
  const std::vector<v1::SubscribeRequest> requests = {by_type, by_prefix,
                                                      by_both};
  std::vector<std::unique_ptr<Subscription>> subscriptions;
  for (const auto& request : requests) {
    subscriptions.push_back(Subscribe(request));
    ASSERT_TRUE(subscriptions.back()->WaitFor(HasCaughtUp));
  }

  // Live: each filter lets some of these through and not others.
  ASSERT_TRUE(Applied(Send(CheckIn("b1", 1)), "b1", 3, 7));
  ASSERT_TRUE(Applied(Send(Rename("a1", "Renamed")), "a1", 3, 8));
  ASSERT_TRUE(Applied(Send(Create("a3")), "a3", 1, 9));
  ASSERT_TRUE(Applied(Send(CheckIn("a3", 1)), "a3", 2, 10));

  const std::vector<std::vector<int64_t>> expected = {
      {4, 5, 7, 10},
      {1, 2, 4, 6, 8, 9, 10},
      {4, 6, 8, 10},
  };
  for (size_t i = 0; i < requests.size(); ++i) {
    SCOPED_TRACE(requests[i].ShortDebugString());
    // Position 10 matches every filter and comes last, so once it has
    // arrived every earlier match has too, and nothing else may have.
    ASSERT_TRUE(subscriptions[i]->WaitFor(HasEventsThrough(10)))
        << Describe(subscriptions[i]->messages());
    const Messages messages = subscriptions[i]->messages();
    EXPECT_THAT(PositionsOf(messages), ElementsAreArray(expected[i]))
        << Describe(messages);
    EXPECT_EQ(CountCaughtUp(messages), 1);
    EXPECT_EQ(messages[CaughtUpIndex(messages)].caught_up().head_position(), 6);
    const auto& filter = requests[i].filter();
    for (const v1::Event& event : EventsOf(messages)) {
      EXPECT_TRUE(
          absl::StartsWith(event.stream_id(), filter.stream_id_prefix()));
      if (!filter.event_types().empty()) {
        EXPECT_THAT(filter.event_types(),
                    ::testing::Contains(event.event_type()));
      }
    }
  }
}

TEST_P(EventStreamTest, InvalidRequestIsInvalidArgumentNamingTheField) {
  ASSERT_TRUE(Applied(Send(Create("a")), "a", 1, 1));
  v1::SubscribeRequest negative = After(-1);
  v1::SubscribeRequest unknown_type;
  unknown_type.mutable_filter()->add_event_types("inventory.v1.ItemDeleted");
  v1::SubscribeRequest unqualified_type;
  unqualified_type.mutable_filter()->add_event_types(kCreated);
  unqualified_type.mutable_filter()->add_event_types("ItemCreated");
  v1::SubscribeRequest long_prefix;
  long_prefix.mutable_filter()->set_stream_id_prefix(std::string(257, 'p'));
  v1::SubscribeRequest negative_batch;
  negative_batch.set_max_events_per_message(-1);
  const std::vector<std::pair<v1::SubscribeRequest, std::string>> cases = {
      {negative, "after_position"},
      {unknown_type, "filter.event_types"},
      {unqualified_type, "filter.event_types"},
      {long_prefix, "filter.stream_id_prefix"},
      {negative_batch, "max_events_per_message"},
  };
  for (const auto& [request, field] : cases) {
    SCOPED_TRACE(request.ShortDebugString());
    auto subscription = Subscribe(request);
    const std::optional<grpc::Status> end = subscription->WaitForEnd();
    ASSERT_TRUE(end.has_value()) << "stream did not end";
    EXPECT_TRUE(NamesField(*end, field));
    EXPECT_THAT(subscription->messages(), ::testing::IsEmpty());
  }
}

// Asked for batches, the stream sends the same events in the same order,
// several per message (never more than asked), in catch-up and live.
TEST_P(EventStreamTest, BatchedSubscriptionCarriesEveryEventInOrder) {
  constexpr int kItems = 40;
  for (int i = 1; i <= kItems; ++i) {
    ASSERT_TRUE(Applied(Send(Create(absl::StrCat("b", i))),
                        absl::StrCat("b", i), 1, i));
  }
  v1::SubscribeRequest request = After(3);
  request.set_max_events_per_message(16);
  auto batched = Subscribe(request);
  ASSERT_TRUE(batched->WaitFor(HasCaughtUp)) << Describe(batched->messages());
  ASSERT_TRUE(Applied(Send(CheckIn("b1", 2)), "b1", 2, kItems + 1));
  ASSERT_TRUE(batched->WaitFor(HasEventsThrough(kItems + 1)))
      << Describe(batched->messages());

  const Messages messages = batched->messages();
  EXPECT_EQ(PositionsOf(messages), Range(4, kItems + 1));
  size_t largest = 0;
  for (const auto& message : messages) {
    EXPECT_FALSE(message.has_event()) << Describe(messages);
    largest = std::max<size_t>(largest, message.events().events_size());
  }
  EXPECT_GT(largest, 1u) << Describe(messages);
  EXPECT_LE(largest, 16u) << Describe(messages);
  // The catch-up events all precede the CaughtUp marker.
  const int caught_up = CaughtUpIndex(messages);
  EXPECT_EQ(
      PositionsOf(Messages(messages.begin(), messages.begin() + caught_up)),
      Range(4, kItems));
  // Each event is whole: a payload and its envelope.
  for (const v1::Event& event : EventsOf(messages)) {
    EXPECT_NE(event.payload_case(), v1::Event::PAYLOAD_NOT_SET);
    EXPECT_FALSE(event.event_id().empty());
  }
}

// A subscriber that reads nothing while many events are appended falls out
// of the small live window; a fast subscriber meanwhile gets every event
// live. Afterwards the slow one still gets everything, complete and in
// order, from the store.
TEST_P(EventStreamTest, SlowSubscriberFallsBackToTheStoreWhileFastOneIsLive) {
  constexpr int kWriters = 4;
  constexpr int kPerWriter = 500;
  constexpr int64_t kTotal = kWriters * kPerWriter;

  // The slow subscriber has a connection of its own, with HTTP/2 flow
  // control at its default window (no BDP growth): the server can push only
  // a few dozen kilobytes at it before its writes block.
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_HTTP2_BDP_PROBE, 0);
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  auto slow_channel = grpc::CreateCustomChannel(
      node_->target(), grpc::InsecureChannelCredentials(), args);
  auto slow_stub = v1::EventStreamService::NewStub(slow_channel);
  Subscription slow(*slow_stub, After(0), /*read_in_background=*/false);
  v1::SubscribeResponse first;
  ASSERT_TRUE(slow.ReadNow(&first));
  ASSERT_TRUE(first.has_caught_up()) << first.ShortDebugString();
  EXPECT_EQ(first.caught_up().head_position(), 0);

  auto fast = SubscribeCaughtUp();

  // Watches the size of the live window while the events are appended.
  absl::Mutex monitor_mu;
  bool monitor_done = false;
  size_t max_window = 0;
  std::thread monitor([&] {
    absl::MutexLock lock(&monitor_mu);
    while (!monitor_done) {
      max_window = std::max(max_window, node_->server->live_buffer().size());
      monitor_mu.AwaitWithTimeout(absl::Condition(&monitor_done),
                                  absl::Milliseconds(1));
    }
    max_window = std::max(max_window, node_->server->live_buffer().size());
  });

  // Large names make large events, so the slow stream's flow-control window
  // fills after a small part of them.
  std::atomic<int> failures{0};
  std::vector<std::thread> writers;
  for (int w = 0; w < kWriters; ++w) {
    writers.emplace_back([&, w] {
      for (int i = 0; i < kPerWriter; ++i) {
        const Reply reply = Send(Create(
            absl::StrCat("slow-", w, "-", i), "SKU-1",
            absl::StrCat("Item ", w, "-", i, " ", std::string(180, 'x'))));
        if (!reply.status.ok() && failures++ == 0) {
          ADD_FAILURE() << Describe(reply.status);
        }
      }
    });
  }
  for (std::thread& writer : writers) writer.join();
  ASSERT_EQ(failures.load(), 0);
  ASSERT_EQ(Head(), kTotal);

  // The fast subscriber has every event, live (after its CaughtUp).
  ASSERT_TRUE(fast->WaitFor(HasEventsThrough(kTotal)))
      << "fast subscriber stopped at " << PositionsOf(fast->messages()).size()
      << " events";
  {
    absl::MutexLock lock(&monitor_mu);
    monitor_done = true;
  }
  monitor.join();
  const Messages fast_messages = fast->messages();
  ASSERT_EQ(CaughtUpIndex(fast_messages), 0);
  EXPECT_EQ(CountCaughtUp(fast_messages), 1);
  const std::vector<v1::Event> fast_events = EventsOf(fast_messages);
  ASSERT_THAT(PositionsOf(fast_events), ElementsAreArray(Range(1, kTotal)));
  EXPECT_GT(max_window, 0u);
  EXPECT_LE(max_window, kLiveCapacity);
  EXPECT_LE(node_->server->live_buffer().size(), kLiveCapacity);

  // Now the slow one reads. Everything it had not been sent yet is far out
  // of the window, so it is read from the store: ReadAll() calls well
  // behind the head (the window's own tailing reads at the head).
  node_->store->CountReadsBelow(kTotal - static_cast<int64_t>(kLiveCapacity));
  slow.StartReading();
  ASSERT_TRUE(slow.WaitFor(HasEventsThrough(kTotal)))
      << "slow subscriber stopped at " << PositionsOf(slow.messages()).size()
      << " events";
  const Messages slow_messages = slow.messages();
  EXPECT_EQ(CountCaughtUp(slow_messages), 1);
  const std::vector<v1::Event> slow_events = EventsOf(slow_messages);
  ASSERT_THAT(PositionsOf(slow_events), ElementsAreArray(Range(1, kTotal)));
  for (int64_t i = 0; i < kTotal; ++i) {
    ASSERT_EQ(slow_events[i].SerializeAsString(),
              fast_events[i].SerializeAsString())
        << "position " << i + 1;
  }
  EXPECT_GT(node_->store->reads_below(), 0)
      << "the slow subscriber was never served from the store";
  EXPECT_LE(node_->server->live_buffer().size(), kLiveCapacity);
  EXPECT_FALSE(slow.ended());
}

TEST_P(EventStreamTest, FiftySubscribersAllReceiveTheSameEvents) {
  constexpr int kSubscribers = 50;
  ASSERT_TRUE(Applied(Send(Create("m0")), "m0", 1, 1));
  ASSERT_TRUE(Applied(Send(CheckIn("m0", 3)), "m0", 2, 2));
  std::vector<std::unique_ptr<Subscription>> subscriptions;
  for (int i = 0; i < kSubscribers; ++i) subscriptions.push_back(Subscribe());
  for (auto& subscription : subscriptions) {
    ASSERT_TRUE(subscription->WaitFor(HasCaughtUp));
  }
  for (int i = 1; i <= 10; ++i) {
    const std::string id = absl::StrCat("m", i);
    ASSERT_TRUE(Send(Create(id)).status.ok());
    ASSERT_TRUE(Send(CheckIn(id, i)).status.ok());
  }
  constexpr int64_t kTotal = 22;
  ASSERT_EQ(Head(), kTotal);

  std::vector<std::string> reference;
  for (int i = 0; i < kSubscribers; ++i) {
    SCOPED_TRACE(absl::StrCat("subscriber ", i));
    ASSERT_TRUE(subscriptions[i]->WaitFor(HasEventsThrough(kTotal)))
        << Describe(subscriptions[i]->messages());
    const Messages messages = subscriptions[i]->messages();
    EXPECT_EQ(CountCaughtUp(messages), 1);
    const std::vector<v1::Event> events = EventsOf(messages);
    ASSERT_THAT(PositionsOf(events), ElementsAreArray(Range(1, kTotal)));
    std::vector<std::string> serialized;
    for (const v1::Event& event : events) {
      serialized.push_back(event.SerializeAsString());
    }
    if (i == 0) {
      reference = serialized;
    } else {
      EXPECT_TRUE(serialized == reference) << "differs from subscriber 0";
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Stores, EventStreamTest,
                         ::testing::Values(StoreKind::kInMemory,
                                           StoreKind::kPostgres),
                         StoreKindName);

// --- Health and shutdown --------------------------------------------------

using test_support::AwaitHealth;
using test_support::CheckHealth;

const std::vector<std::string>& OurServices() {
  static const auto* services = new std::vector<std::string>{
      "", "inventory.v1.CommandService", "inventory.v1.EventStreamService"};
  return *services;
}

class HealthAndShutdownTest : public ServerTest {};

TEST_P(HealthAndShutdownTest, ServicesAreServingAndUnknownIsNotFound) {
  for (const std::string& service : OurServices()) {
    SCOPED_TRACE(service);
    HealthCheckResponse::ServingStatus status;
    const grpc::Status result = CheckHealth(*node_->health, service, &status);
    ASSERT_TRUE(result.ok()) << Describe(result);
    EXPECT_EQ(status, HealthCheckResponse::SERVING);
  }
  for (const std::string service :
       {"inventory.v1.QueryService", "no.such.Service", "inventory.v1"}) {
    SCOPED_TRACE(service);
    HealthCheckResponse::ServingStatus status;
    EXPECT_TRUE(HasCode(CheckHealth(*node_->health, service, &status),
                        StatusCode::NOT_FOUND));
  }
}

TEST_P(HealthAndShutdownTest, ShutdownEndsAnOpenSubscriptionWithUnavailable) {
  ASSERT_TRUE(Applied(Send(Create("s")), "s", 1, 1));
  auto caught_up = SubscribeCaughtUp();
  auto other = SubscribeCaughtUp(1);

  // The grace period is long: a stream that does not end by itself would
  // hold Shutdown() for all of it.
  const absl::Time start = absl::Now();
  std::thread shutdown([&] { node_->server->Shutdown(absl::Seconds(20)); });
  for (Subscription* subscription : {caught_up.get(), other.get()}) {
    const std::optional<grpc::Status> end =
        subscription->WaitForEnd(absl::Seconds(10));
    ASSERT_TRUE(end.has_value()) << "stream still open after Shutdown()";
    EXPECT_TRUE(HasCode(*end, StatusCode::UNAVAILABLE));
    EXPECT_THAT(end->error_message(), HasSubstr("shutting down"));
  }
  shutdown.join();
  const absl::Duration took = absl::Now() - start;
  EXPECT_LT(took, absl::Seconds(5)) << "Shutdown() took " << took;
  EXPECT_TRUE(HasCode(Send(Create("after")), StatusCode::UNAVAILABLE));
}

INSTANTIATE_TEST_SUITE_P(Stores, HealthAndShutdownTest,
                         ::testing::Values(StoreKind::kInMemory,
                                           StoreKind::kPostgres),
                         StoreKindName);

// --- PostgreSQL only ------------------------------------------------------

// Two command-service processes on one database: each publishes the events
// the other appends, and they share idempotency.
TEST(SharedDatabaseTest, SubscriberOnOneServerSeesEventsAppendedThroughOther) {
  const std::string url = NewDatabase("shared");
  auto a = StartNode(OpenPostgres(url), TestOptions());
  auto b = StartNode(OpenPostgres(url), TestOptions());
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  Subscription on_a(*a->events, After(0));
  Subscription on_b(*b->events, After(0));
  ASSERT_TRUE(on_a.WaitFor(HasCaughtUp));
  ASSERT_TRUE(on_b.WaitFor(HasCaughtUp));

  EXPECT_TRUE(Applied(SendTo(*b->commands, Create("x", "SKU-1", "X", "req-x")),
                      "x", 1, 1));
  EXPECT_TRUE(Applied(SendTo(*b->commands, CheckIn("x", 3)), "x", 2, 2));
  ASSERT_TRUE(on_a.WaitFor(HasEventsThrough(2)))
      << "server A did not publish B's events: " << Describe(on_a.messages());
  // A decides on what B recorded, and B on what A recorded.
  EXPECT_TRUE(Applied(SendTo(*a->commands, CheckIn("x", 4, 2)), "x", 3, 3));
  EXPECT_TRUE(Applied(SendTo(*b->commands, Remove("x", 7, 3)), "x", 4, 4));
  // A request_id recorded through B is replayed by A.
  const Reply replay = SendTo(*a->commands, Create("x", "SKU-1", "X", "req-x"));
  ASSERT_TRUE(replay.status.ok()) << Describe(replay.status);
  EXPECT_TRUE(replay.replayed);
  EXPECT_EQ(replay.global_position, 1);

  ASSERT_TRUE(on_a.WaitFor(HasEventsThrough(4))) << Describe(on_a.messages());
  ASSERT_TRUE(on_b.WaitFor(HasEventsThrough(4))) << Describe(on_b.messages());
  const std::vector<v1::Event> seen_a = EventsOf(on_a.messages());
  const std::vector<v1::Event> seen_b = EventsOf(on_b.messages());
  ASSERT_THAT(PositionsOf(seen_a), ElementsAre(1, 2, 3, 4));
  ASSERT_THAT(PositionsOf(seen_b), ElementsAre(1, 2, 3, 4));
  for (size_t i = 0; i < seen_a.size(); ++i) {
    EXPECT_EQ(seen_a[i].SerializeAsString(), seen_b[i].SerializeAsString());
  }
}

// Stops and restarts the shared PostgreSQL server, so it is a parameterized
// suite: those run after every plain TEST, and this one is defined last.
// It uses a database of its own and leaves the server running.
class DatabaseOutageTest : public ServerTest {};

TEST_P(DatabaseOutageTest, NotServingAndUnavailableWhileDownThenRecovers) {
  if (!test_support::TestPostgres().owns_server())
    GTEST_SKIP() << "TEST_DATABASE_URL server";
  for (const std::string& service : OurServices()) {
    ASSERT_TRUE(AwaitHealth(*node_->health, service,
                            HealthCheckResponse::SERVING, absl::Seconds(1)));
  }
  ASSERT_TRUE(Applied(Send(Create("o1")), "o1", 1, 1));
  auto subscription = SubscribeCaughtUp();

  // Whatever happens below, the server runs again afterwards.
  struct RestartOnExit {
    bool stopped = false;
    ~RestartOnExit() {
      if (stopped) {
        EXPECT_TRUE(test_support::TestPostgres().Restart().ok());
      }
    }
  } restart_on_exit;
  ASSERT_TRUE(test_support::TestPostgres().Stop().ok());
  restart_on_exit.stopped = true;

  for (const std::string& service : OurServices()) {
    SCOPED_TRACE(service);
    EXPECT_TRUE(
        AwaitHealth(*node_->health, service, HealthCheckResponse::NOT_SERVING));
  }
  EXPECT_TRUE(HasCode(Send(Create("o2", "SKU-1", "O2", "req-o2")),
                      StatusCode::UNAVAILABLE));
  EXPECT_TRUE(HasCode(Send(CheckIn("o1", 1)), StatusCode::UNAVAILABLE));
  EXPECT_TRUE(HasCode(Send(Deactivate("o1", 1)), StatusCode::UNAVAILABLE));
  {
    auto during = Subscribe();
    const std::optional<grpc::Status> end = during->WaitForEnd();
    ASSERT_TRUE(end.has_value());
    EXPECT_TRUE(HasCode(*end, StatusCode::UNAVAILABLE));
  }
  // The open subscription survives the outage.
  EXPECT_FALSE(subscription->ended());

  ASSERT_TRUE(test_support::TestPostgres().Restart().ok());
  restart_on_exit.stopped = false;
  for (const std::string& service : OurServices()) {
    SCOPED_TRACE(service);
    EXPECT_TRUE(
        AwaitHealth(*node_->health, service, HealthCheckResponse::SERVING));
  }
  // The command that failed is retried with its request_id: applied once.
  EXPECT_TRUE(Applied(Send(Create("o2", "SKU-1", "O2", "req-o2")), "o2", 1, 2));
  const Reply replay = Send(Create("o2", "SKU-1", "O2", "req-o2"));
  EXPECT_TRUE(replay.status.ok() && replay.replayed) << Describe(replay.status);
  EXPECT_TRUE(Applied(Send(CheckIn("o1", 1)), "o1", 2, 3));

  // The subscription that stayed open gets the new events.
  ASSERT_TRUE(subscription->WaitFor(HasEventsThrough(3)))
      << Describe(subscription->messages());
  EXPECT_THAT(PositionsOf(subscription->messages()), ElementsAre(1, 2, 3));
  EXPECT_EQ(CountCaughtUp(subscription->messages()), 1);
  auto after = SubscribeCaughtUp();
  EXPECT_THAT(PositionsOf(after->messages()), ElementsAre(1, 2, 3));
}

INSTANTIATE_TEST_SUITE_P(Postgres, DatabaseOutageTest,
                         ::testing::Values(StoreKind::kPostgres),
                         StoreKindName);

}  // namespace
}  // namespace inventory
