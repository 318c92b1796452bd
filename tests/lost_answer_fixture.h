// Shared by the tests of lost answers between the command service and
// PostgreSQL (lost_answer_test.cc, lost_connection_test.cc).
//
// The command service runs in process (CommandServer, called through a real
// gRPC channel) on a PostgresEventStore whose every connection passes
// through a fault proxy (support/fault_proxy.h). The proxy cuts a
// connection right after append_events() reached the server (the batch
// committed; its answer is lost), or before, or in the middle of a
// catch-up page, or leaves the LISTEN connection half-open. What was
// really recorded is read through a second store that connects directly,
// never through the proxy.
//
// The contract under test: a command is answered OK with exactly one
// recorded event at the version and position the answer names, or
// UNAVAILABLE with at most one (reason OUTCOME_UNKNOWN when it may have been
// applied); an applied command is never refused (ALREADY_EXISTS, ABORTED,
// FAILED_PRECONDITION). With the store's recovery the answer is OK.
#ifndef INVENTORY_TESTS_LOST_ANSWER_FIXTURE_H_
#define INVENTORY_TESTS_LOST_ANSWER_FIXTURE_H_

#include <grpcpp/grpcpp.h>

#include <atomic>
#include <cstdint>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "command-service/server/command_server.h"
#include "common/api/event_codec.h"
#include "common/base/status_matchers.h"
#include "common/eventstore/postgres/postgres_event_store.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "gtest/gtest.h"
#include "inventory/v1/command_service.grpc.pb.h"
#include "inventory/v1/event_stream_service.grpc.pb.h"
#include "tests/support/channels.h"
#include "tests/support/fault_proxy.h"
#include "tests/support/grpc_status_matchers.h"
#include "tests/support/postgres_test_main.h"

namespace inventory::lost_answer_testing {

using test_support::FaultProxy;
using test_support::GrpcStatusIs;
using CommandStub = v1::CommandService::Stub;

// Deadline of every command call: longer than the store's recovery.
constexpr absl::Duration kCallTimeout = absl::Seconds(30);
constexpr absl::Duration kWaitTimeout = absl::Seconds(30);
// The store's re-check of the head without notifications.
constexpr absl::Duration kRecheck = absl::Milliseconds(200);

inline const std::string& AppendEvents() {
  static const std::string* const bytes =
      new std::string(FaultProxy::ExecutionOf("append_events"));
  return *bytes;
}

// --- Commands -------------------------------------------------------------

enum class Kind {
  kCreate,
  kRename,
  kCheckIn,
  kRemove,
  kDeactivate,
  kReactivate
};
constexpr Kind kKinds[] = {Kind::kCreate, Kind::kRename,     Kind::kCheckIn,
                           Kind::kRemove, Kind::kDeactivate, Kind::kReactivate};

inline const char* RpcName(Kind kind) {
  switch (kind) {
    case Kind::kCreate:
      return "CreateItem";
    case Kind::kRename:
      return "RenameItem";
    case Kind::kCheckIn:
      return "CheckInItems";
    case Kind::kRemove:
      return "RemoveItems";
    case Kind::kDeactivate:
      return "DeactivateItem";
    case Kind::kReactivate:
      return "ReactivateItem";
  }
  return "?";
}

inline const char* EventTypeOf(Kind kind) {
  switch (kind) {
    case Kind::kCreate:
      return "inventory.v1.ItemCreated";
    case Kind::kRename:
      return "inventory.v1.ItemRenamed";
    case Kind::kCheckIn:
      return "inventory.v1.ItemsCheckedIn";
    case Kind::kRemove:
      return "inventory.v1.ItemsRemoved";
    case Kind::kDeactivate:
      return "inventory.v1.ItemDeactivated";
    case Kind::kReactivate:
      return "inventory.v1.ItemReactivated";
  }
  return "?";
}

// The outcome of a command call.
struct Reply {
  grpc::Status status;
  int64_t version = 0;
  int64_t global_position = 0;
  bool replayed = false;
};

template <typename Request, typename Response>
Reply Call(grpc::Status (CommandStub::*method)(grpc::ClientContext*,
                                               const Request&, Response*),
           CommandStub& stub, const Request& request) {
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + kCallTimeout));
  Response response;
  Reply reply;
  reply.status = (stub.*method)(&context, request, &response);
  reply.version = response.version();
  reply.global_position = response.global_position();
  reply.replayed = response.replayed();
  return reply;
}

// Sends a command of `kind` on `item_id`, with `request_id` ("" for none).
inline Reply Send(CommandStub& stub, Kind kind, const std::string& item_id,
                  const std::string& request_id = "") {
  switch (kind) {
    case Kind::kCreate: {
      v1::CreateItemRequest r;
      r.set_item_id(item_id);
      r.set_sku(absl::AsciiStrToUpper(absl::StrCat("SKU-", item_id)));
      r.set_name("Widget");
      r.set_request_id(request_id);
      return Call(&CommandStub::CreateItem, stub, r);
    }
    case Kind::kRename: {
      v1::RenameItemRequest r;
      r.set_item_id(item_id);
      r.set_name("Gadget");
      r.set_request_id(request_id);
      return Call(&CommandStub::RenameItem, stub, r);
    }
    case Kind::kCheckIn: {
      v1::CheckInItemsRequest r;
      r.set_item_id(item_id);
      r.set_quantity(5);
      r.set_request_id(request_id);
      return Call(&CommandStub::CheckInItems, stub, r);
    }
    case Kind::kRemove: {
      v1::RemoveItemsRequest r;
      r.set_item_id(item_id);
      r.set_quantity(3);
      r.set_request_id(request_id);
      return Call(&CommandStub::RemoveItems, stub, r);
    }
    case Kind::kDeactivate: {
      v1::DeactivateItemRequest r;
      r.set_item_id(item_id);
      r.set_request_id(request_id);
      return Call(&CommandStub::DeactivateItem, stub, r);
    }
    case Kind::kReactivate: {
      v1::ReactivateItemRequest r;
      r.set_item_id(item_id);
      r.set_request_id(request_id);
      return Call(&CommandStub::ReactivateItem, stub, r);
    }
  }
  return Reply{};
}

// The commands that put `item_id` in a state where a command of `kind`
// is accepted.
inline std::vector<Kind> SetupFor(Kind kind) {
  switch (kind) {
    case Kind::kCreate:
      return {};
    case Kind::kRemove:
      return {Kind::kCreate, Kind::kCheckIn};
    case Kind::kReactivate:
      return {Kind::kCreate, Kind::kDeactivate};
    default:
      return {Kind::kCreate};
  }
}

inline std::string Describe(const grpc::Status& status) {
  return absl::StrCat("status ", status.error_code(), " \"",
                      status.error_message(), "\"");
}

// The google.rpc.ErrorInfo reason in the status details, or "".
inline std::string ReasonOf(const grpc::Status& status) {
  google::rpc::Status details;
  if (!details.ParseFromString(status.error_details())) return "";
  for (const auto& any : details.details()) {
    google::rpc::ErrorInfo info;
    if (any.UnpackTo(&info)) return info.reason();
  }
  return "";
}

// The command's true outcome, judged by the events recorded for its item
// before (`before`) and after (`after`): OK with exactly one new event, of
// `type`, at the version and position the answer names; or UNAVAILABLE
// with at most one. Anything else (a refusal, a second copy) fails.
inline ::testing::AssertionResult TrueOutcome(
    const Reply& reply, const std::vector<RecordedEvent>& before,
    const std::vector<RecordedEvent>& after, const char* type) {
  const size_t added = after.size() - before.size();
  if (after.size() < before.size() || added > 1) {
    return ::testing::AssertionFailure()
           << after.size() - before.size() << " events recorded for one "
           << "command (answered " << Describe(reply.status) << ")";
  }
  if (added == 1 && after.back().event_type != type) {
    return ::testing::AssertionFailure()
           << "recorded " << after.back().event_type << ", wanted " << type;
  }
  if (reply.status.error_code() == grpc::StatusCode::UNAVAILABLE) {
    return ::testing::AssertionSuccess();
  }
  if (!reply.status.ok()) {
    return ::testing::AssertionFailure()
           << "answered " << Describe(reply.status) << " with " << added
           << " event(s) recorded";
  }
  if (added != 1) {
    return ::testing::AssertionFailure() << "answered OK, nothing recorded";
  }
  if (after.back().stream_version != reply.version ||
      after.back().global_position != reply.global_position) {
    return ::testing::AssertionFailure()
           << "answered version " << reply.version << " position "
           << reply.global_position << "; recorded version "
           << after.back().stream_version << " position "
           << after.back().global_position;
  }
  return ::testing::AssertionSuccess();
}

// --- Fixture --------------------------------------------------------------

class LostAnswerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<std::string> url =
        test_support::TestPostgres().CreateDatabase("lost_answer");
    ASSERT_TRUE(url.ok()) << url.status();
    direct_url_ = *url;
    auto proxy = FaultProxy::Start(test_support::TestPostgres().port());
    ASSERT_TRUE(proxy.ok()) << proxy.status();
    proxy_ = std::move(*proxy);
    absl::StatusOr<std::string> proxied = proxy_->Redirect(direct_url_);
    if (!proxied.ok()) {
      GTEST_SKIP() << "skipped: the proxy needs a server on 127.0.0.1 ("
                   << proxied.status() << ")";
    }
    options_.url = *proxied;
    options_.pool_size = 8;
    options_.wait_recheck_interval = kRecheck;
    options_.max_batch_requests = 64;
    server_options_.listen = "127.0.0.1:0";
    server_options_.health_probe_interval = absl::Milliseconds(500);
    server_options_.live.capacity = 64;
  }

  void TearDown() override {
    // Nothing may stay stuck on a silent connection while shutting down.
    if (proxy_ != nullptr) {
      proxy_->Disarm();
      proxy_->RefuseNewConnections(false);
      proxy_->Release();
      proxy_->ResumeHeld();
    }
    // The live tail may be waiting on the store for long (idle_wait).
    if (store_ != nullptr) store_->StopWaiting();
  }

  // Opens both stores (options_ may be changed before).
  void OpenStores() {
    auto store = PostgresEventStore::Open(options_);
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = std::move(*store);
    PostgresEventStoreOptions direct;
    direct.url = direct_url_;
    auto direct_store = PostgresEventStore::Open(direct);
    ASSERT_TRUE(direct_store.ok()) << direct_store.status();
    direct_ = std::move(*direct_store);
  }

  // Starts the command server on the proxied store.
  void StartServer() {
    auto server = CommandServer::Start(store_.get(), server_options_);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(*server);
    channel_ =
        test_support::ChannelTo(test_support::LoopbackAddress(server_->port()));
    commands_ = v1::CommandService::NewStub(channel_);
    events_ = v1::EventStreamService::NewStub(channel_);
  }

  // The listener's connection goes silent at `point` of its LISTEN; the
  // listener must notice, reconnect, and deliver notifications again.
  void ExpectListenerReconnects(FaultProxy::Point point);

  void Open() {
    ASSERT_NO_FATAL_FAILURE(OpenStores());
    ASSERT_NO_FATAL_FAILURE(StartServer());
  }

  // The item's events as recorded, read directly.
  std::vector<RecordedEvent> EventsOf(const std::string& item_id) {
    auto events = direct_->ReadStream(absl::StrCat("item-", item_id), 1, 1000);
    EXPECT_TRUE(events.ok()) << events.status();
    return events.ok() ? *events : std::vector<RecordedEvent>{};
  }

  // Brings `item_id` to a state where `kind` is accepted; no fault armed.
  void Prepare(Kind kind, const std::string& item_id) {
    for (Kind step : SetupFor(kind)) {
      const Reply reply = Send(*commands_, step, item_id);
      ASSERT_TRUE(reply.status.ok())
          << RpcName(step) << " " << item_id << ": " << Describe(reply.status);
    }
  }

  std::string direct_url_;
  PostgresEventStoreOptions options_;
  CommandServerOptions server_options_;
  // Destroyed in reverse: server, stores, then the proxy.
  std::unique_ptr<FaultProxy> proxy_;
  std::unique_ptr<PostgresEventStore> direct_;
  std::unique_ptr<PostgresEventStore> store_;
  std::unique_ptr<CommandServer> server_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<CommandStub> commands_;
  std::unique_ptr<v1::EventStreamService::Stub> events_;
};

}  // namespace inventory::lost_answer_testing

#endif  // INVENTORY_TESTS_LOST_ANSWER_FIXTURE_H_
