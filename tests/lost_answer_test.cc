// Lost answers between the command service and PostgreSQL.
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
#include "common/eventstore/postgres/postgres_event_store.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "gtest/gtest.h"
#include "inventory/v1/command_service.grpc.pb.h"
#include "inventory/v1/event_stream_service.grpc.pb.h"
#include "tests/support/fault_proxy.h"
#include "tests/support/postgres_test_main.h"

namespace inventory {
namespace {

using test_support::FaultProxy;
using CommandStub = v1::CommandService::Stub;

// Deadline of every command call: longer than the store's recovery.
constexpr absl::Duration kCallTimeout = absl::Seconds(30);
constexpr absl::Duration kWaitTimeout = absl::Seconds(30);
// The store's re-check of the head without notifications.
constexpr absl::Duration kRecheck = absl::Milliseconds(200);

const std::string& AppendEvents() {
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

const char* RpcName(Kind kind) {
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

const char* EventTypeOf(Kind kind) {
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
Reply Send(CommandStub& stub, Kind kind, const std::string& item_id,
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
std::vector<Kind> SetupFor(Kind kind) {
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

std::string Describe(const grpc::Status& status) {
  return absl::StrCat("status ", status.error_code(), " \"",
                      status.error_message(), "\"");
}

// The google.rpc.ErrorInfo reason in the status details, or "".
std::string ReasonOf(const grpc::Status& status) {
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
::testing::AssertionResult TrueOutcome(const Reply& reply,
                                       const std::vector<RecordedEvent>& before,
                                       const std::vector<RecordedEvent>& after,
                                       const char* type) {
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
    channel_ = grpc::CreateChannel(absl::StrCat("127.0.0.1:", server_->port()),
                                   grpc::InsecureChannelCredentials());
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

// --- One command, one lost answer -------------------------------------------

struct Case {
  Kind kind;
  bool with_request_id;
  FaultProxy::Point point;  // kAtResponse: after commit; kBeforeRequest
};

std::string CaseName(const ::testing::TestParamInfo<Case>& info) {
  return absl::StrCat(
      RpcName(info.param.kind),
      info.param.with_request_id ? "_WithRequestId" : "_NoRequestId",
      info.param.point == FaultProxy::Point::kAtResponse ? "_CutAfterCommit"
                                                         : "_CutBeforeSend");
}

std::vector<Case> AllCases() {
  std::vector<Case> cases;
  for (FaultProxy::Point point :
       {FaultProxy::Point::kAtResponse, FaultProxy::Point::kBeforeRequest}) {
    for (Kind kind : kKinds) {
      for (bool with_request_id : {false, true}) {
        cases.push_back(Case{kind, with_request_id, point});
      }
    }
  }
  return cases;
}

class SingleLostAnswerTest : public LostAnswerTest,
                             public ::testing::WithParamInterface<Case> {};

TEST_P(SingleLostAnswerTest, AnswersTheTrueOutcomeOnce) {
  ASSERT_NO_FATAL_FAILURE(Open());
  const Case& c = GetParam();
  const std::string item = "lost-1";
  ASSERT_NO_FATAL_FAILURE(Prepare(c.kind, item));
  const std::vector<RecordedEvent> before = EventsOf(item);
  const std::string request_id =
      c.with_request_id ? "9b2f4c1e-7d3a-4e5b-8c6d-1a2b3c4d5e6f" : "";

  const int64_t recovered_before =
      store_->group_commit_stats().recovered_batches;
  proxy_->Arm(FaultProxy::Action::kCut, c.point, AppendEvents());
  const Reply reply = Send(*commands_, c.kind, item, request_id);
  EXPECT_EQ(proxy_->faults_fired(), 1) << "the fault never hit the append";
  const std::vector<RecordedEvent> after = EventsOf(item);
  EXPECT_TRUE(TrueOutcome(reply, before, after, EventTypeOf(c.kind)));
  EXPECT_TRUE(reply.status.ok())
      << "the store should have learned the outcome: "
      << Describe(reply.status);
  EXPECT_FALSE(reply.replayed);
  // The store could not tell the two cuts apart and went through its
  // recovery both times: after a commit it found its own events (that the
  // item has one new event, not two, checked by TrueOutcome above, is
  // what shows it), before it the append was simply made.
  EXPECT_EQ(store_->group_commit_stats().recovered_batches - recovered_before,
            1);

  if (c.with_request_id && reply.status.ok()) {
    // The client's own retry (its answer could have been lost too) is a
    // replay of the same outcome.
    const Reply again = Send(*commands_, c.kind, item, request_id);
    ASSERT_TRUE(again.status.ok()) << Describe(again.status);
    EXPECT_TRUE(again.replayed);
    EXPECT_EQ(again.version, reply.version);
    EXPECT_EQ(again.global_position, reply.global_position);
    EXPECT_EQ(EventsOf(item).size(), after.size());
  }
}

INSTANTIATE_TEST_SUITE_P(EveryCommandKind, SingleLostAnswerTest,
                         ::testing::ValuesIn(AllCases()), CaseName);

// --- A full group-commit batch ----------------------------------------------

TEST_F(LostAnswerTest, EveryCommandOfALostBatchGetsItsTrueOutcome) {
  constexpr int kCommands = 64;
  options_.max_batch_requests = kCommands;
  ASSERT_NO_FATAL_FAILURE(Open());
  std::vector<std::string> items;
  std::vector<std::vector<RecordedEvent>> before;
  for (int i = 0; i < kCommands; ++i) {
    items.push_back(absl::StrCat("batch-", i));
    ASSERT_NO_FATAL_FAILURE(Prepare(kKinds[i % 6], items.back()));
    before.push_back(EventsOf(items.back()));
  }
  const PostgresEventStore::GroupCommitStats start =
      store_->group_commit_stats();

  // The first append is held at the proxy while the other commands queue
  // behind it; the next one, their batch, loses its answer.
  proxy_->Hold(AppendEvents());
  proxy_->CutAfter(AppendEvents());
  std::vector<Reply> replies(kCommands);
  std::vector<std::thread> senders;
  for (int i = 0; i < kCommands; ++i) {
    senders.emplace_back([&, i] {
      const std::string request_id =
          i % 2 == 0 ? absl::StrCat("batch-request-", i) : "";
      replies[i] = Send(*commands_, kKinds[i % 6], items[i], request_id);
    });
  }
  ASSERT_TRUE(proxy_->WaitForFaults(1, kWaitTimeout)) << "nothing was held";
  // Every command is in the held statement or queued behind it.
  int64_t queued = 0;
  const absl::Time deadline = absl::Now() + kWaitTimeout;
  for (;;) {
    const PostgresEventStore::GroupCommitStats now =
        store_->group_commit_stats();
    queued = now.queued;
    if (now.requests - start.requests + now.queued >= kCommands ||
        absl::Now() > deadline) {
      break;
    }
    absl::SleepFor(absl::Milliseconds(5));  // polling a counter
  }
  proxy_->ResumeHeld();
  for (std::thread& t : senders) t.join();

  EXPECT_GT(queued, 1) << "the lost batch would not be a batch";
  EXPECT_EQ(proxy_->faults_fired(), 2) << "the cut never hit the batch";
  const PostgresEventStore::GroupCommitStats end = store_->group_commit_stats();
  EXPECT_GE(end.recovered_batches - start.recovered_batches, 1);
  std::cout << "[ batch    ] " << queued << " commands queued behind the held "
            << "append; " << end.statements - start.statements
            << " statements carried " << end.requests - start.requests
            << " appends; " << end.recovered_batches - start.recovered_batches
            << " batch(es) recovered\n";
  int ok = 0;
  for (int i = 0; i < kCommands; ++i) {
    const Kind kind = kKinds[i % 6];
    EXPECT_TRUE(TrueOutcome(replies[i], before[i], EventsOf(items[i]),
                            EventTypeOf(kind)))
        << RpcName(kind) << " " << items[i];
    if (replies[i].status.ok()) ++ok;
  }
  EXPECT_EQ(ok, kCommands) << "with recovery every command is answered OK";
}

// --- The outcome cannot be learned ------------------------------------------

class OutcomeUnknownTest
    : public LostAnswerTest,
      public ::testing::WithParamInterface<FaultProxy::Action> {};

TEST_P(OutcomeUnknownTest, AnswersUnavailableAndARetryIsSafe) {
  options_.pool_size = 1;  // the append runs on the one open connection
  options_.outcome_recovery_timeout = absl::Seconds(1);
  options_.statement_timeout = absl::Seconds(2);
  ASSERT_NO_FATAL_FAILURE(Open());
  const std::string item = "unknown-1";
  ASSERT_NO_FATAL_FAILURE(Prepare(Kind::kCheckIn, item));
  const std::vector<RecordedEvent> before = EventsOf(item);
  const std::string request_id = "0d9e8f7a-6b5c-4d3e-9f1a-2b3c4d5e6f70";

  // The answer is lost (reset, or never comes), and the database stays
  // out of reach for new connections.
  proxy_->Arm(GetParam(), FaultProxy::Point::kAtResponse, AppendEvents());
  proxy_->RefuseNewConnections(true);
  const absl::Time start = absl::Now();
  const Reply reply = Send(*commands_, Kind::kCheckIn, item, request_id);
  const absl::Duration took = absl::Now() - start;
  EXPECT_EQ(proxy_->faults_fired(), 1);
  EXPECT_EQ(reply.status.error_code(), grpc::StatusCode::UNAVAILABLE)
      << Describe(reply.status) << " after " << took;
  EXPECT_EQ(ReasonOf(reply.status), "OUTCOME_UNKNOWN")
      << Describe(reply.status);
  EXPECT_LT(took, absl::Seconds(10));
  std::cout << "[ unknown  ] answered " << Describe(reply.status) << " after "
            << took << "\n";
  EXPECT_TRUE(
      TrueOutcome(reply, before, EventsOf(item), EventTypeOf(Kind::kCheckIn)));

  proxy_->RefuseNewConnections(false);
  proxy_->Release();
  const Reply retry = Send(*commands_, Kind::kCheckIn, item, request_id);
  ASSERT_TRUE(retry.status.ok()) << Describe(retry.status);
  const std::vector<RecordedEvent> after = EventsOf(item);
  EXPECT_TRUE(TrueOutcome(retry, before, after, EventTypeOf(Kind::kCheckIn)));
}

INSTANTIATE_TEST_SUITE_P(
    LostAnswerTest, OutcomeUnknownTest,
    ::testing::Values(FaultProxy::Action::kCut, FaultProxy::Action::kBlackhole),
    [](const ::testing::TestParamInfo<FaultProxy::Action>& info) {
      return info.param == FaultProxy::Action::kCut ? "ConnectionReset"
                                                    : "AnswerNeverComes";
    });

// --- A connection that goes silent -----------------------------------------

TEST_F(LostAnswerTest, AReadOnASilentConnectionIsUnavailableNotStuck) {
  // The server cancels a statement at statement_timeout; a connection
  // that stays silent a second longer is closed by the pool's watchdog.
  options_.statement_timeout = absl::Seconds(1);
  ASSERT_NO_FATAL_FAILURE(OpenStores());
  ASSERT_TRUE(store_->HeadPosition().ok());  // a pooled connection is open

  proxy_->BlackholeAll();  // no FIN, no RST, no answer
  const absl::Time start = absl::Now();
  const absl::StatusOr<int64_t> head = store_->HeadPosition();
  const absl::Duration took = absl::Now() - start;
  std::cout << "[ silent   ] " << head.status() << " after " << took << "\n";
  EXPECT_EQ(head.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_LT(took, absl::Seconds(10)) << "the call waited on the silence";

  proxy_->Release();
  EXPECT_TRUE(store_->HeadPosition().ok()) << "a new connection serves";
}

TEST_F(LostAnswerTest, ShutdownDoesNotWaitForAListenerStuckConnecting) {
  options_.statement_timeout = absl::Seconds(3);  // connect timeout 3 s
  options_.listener_check_interval = absl::Milliseconds(500);
  options_.stop_timeout = absl::Milliseconds(200);
  ASSERT_NO_FATAL_FAILURE(OpenStores());
  // Everything goes silent: the listener's check fails (after the answer
  // timeout), and its new connection is accepted but never answered.
  proxy_->BlackholeAll();
  const int64_t accepted = proxy_->connections_accepted();
  ASSERT_TRUE(proxy_->WaitForConnections(accepted + 1, kWaitTimeout))
      << "the listener never tried to reconnect";
  const absl::Time start = absl::Now();
  store_.reset();
  const absl::Duration took = absl::Now() - start;
  std::cout << "[ shutdown ] the store closed after " << took
            << " while its listener was connecting\n";
  EXPECT_LT(took, absl::Seconds(2)) << "waited for the connect timeout";
  EXPECT_TRUE(PostgresListenerLeftRunning()) << "a process must know";
}

// --- A catch-up page cut midway ---------------------------------------------

TEST_F(LostAnswerTest, SubscriberGetsEveryEventOnceWhenACatchUpPageIsCut) {
  ASSERT_NO_FATAL_FAILURE(OpenStores());
  // A few thousand events, written directly, before the server starts, so
  // that a subscriber from position 0 reads them from the store in pages.
  constexpr int kRequests = 30;
  constexpr int kEventsPerRequest = 100;
  for (int r = 0; r < kRequests; ++r) {
    AppendRequest request;
    request.stream_id = absl::StrCat("item-fill-", r);
    for (int e = 0; e < kEventsPerRequest; ++e) {
      v1::Event event;
      event.mutable_items_checked_in()->set_item_id(absl::StrCat("fill-", r));
      event.mutable_items_checked_in()->set_quantity(e + 1);
      absl::StatusOr<EventData> data = ToEventData(event);
      ASSERT_TRUE(data.ok()) << data.status();
      request.events.push_back(*data);
    }
    ASSERT_TRUE(direct_->Append(request).ok());
  }
  const int64_t head = kRequests * kEventsPerRequest;
  ASSERT_NO_FATAL_FAILURE(StartServer());

  // Two cuts, so that a retry inside the store cannot hide the first.
  proxy_->CutResponse(FaultProxy::ExecutionOf("read_all"), 50'000,
                      /*times=*/2);
  std::vector<int64_t> positions;
  int64_t last = 0;
  int subscriptions = 0;
  std::vector<std::string> ends;
  while (last < head && subscriptions < 10) {
    ++subscriptions;
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + kWaitTimeout));
    v1::SubscribeRequest request;
    request.set_after_position(last);
    auto reader = events_->Subscribe(&context, request);
    v1::SubscribeResponse message;
    while (last < head && reader->Read(&message)) {
      std::vector<v1::Event> events(message.events().events().begin(),
                                    message.events().events().end());
      if (message.has_event()) events.push_back(message.event());
      for (const v1::Event& event : events) {
        positions.push_back(event.global_position());
        last = event.global_position();
      }
    }
    context.TryCancel();
    const grpc::Status status = reader->Finish();
    if (last < head) ends.push_back(Describe(status));
  }
  std::vector<int64_t> expected;
  for (int64_t p = 1; p <= head; ++p) expected.push_back(p);
  EXPECT_EQ(positions, expected) << "each event once, in order";
  EXPECT_GE(proxy_->responses_cut(), 1) << "no catch-up page was cut";
  std::cout << "[ catch-up ] " << proxy_->responses_cut() << " page(s) cut, "
            << subscriptions << " subscription(s);";
  for (const std::string& end : ends) std::cout << " ended: " << end << ";";
  std::cout << "\n";
}

// --- A half-open LISTEN connection ------------------------------------------

// Appends one event through the direct store (another process, as far as
// the proxied store knows: only a notification or a re-check tells it).
int64_t AppendElsewhere(PostgresEventStore& store, int n) {
  v1::Event event;
  event.mutable_items_checked_in()->set_item_id("elsewhere");
  event.mutable_items_checked_in()->set_quantity(n);
  AppendRequest request;
  request.stream_id = "item-elsewhere";
  request.events.push_back(*ToEventData(event));
  absl::StatusOr<AppendResult> result = store.Append(request);
  EXPECT_TRUE(result.ok()) << result.status();
  return result.ok() ? result->global_position : 0;
}

TEST_F(LostAnswerTest, WaitersSeeEveryEventWhileTheListenConnectionIsHalfOpen) {
  // LISTEN is answered, then the connection goes silent without FIN or RST.
  proxy_->Blackhole("LISTEN", FaultProxy::Point::kAfterResponse);
  options_.listener_check_interval = absl::Seconds(30);  // not within the test
  server_options_.live.idle_wait = absl::Seconds(30);  // the store must wake it
  ASSERT_NO_FATAL_FAILURE(Open());
  ASSERT_TRUE(proxy_->WaitForFaults(1, kWaitTimeout));

  v1::SubscribeRequest request;
  ASSERT_TRUE(direct_->HeadPosition().ok());
  request.set_after_position(*direct_->HeadPosition());
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(60)));
  auto reader = events_->Subscribe(&context, request);

  constexpr int kRounds = 5;
  // The waiter learns of an event at its next re-check (200 ms), plus the
  // read; the bound leaves room for a slow machine and is still far below
  // the 30 s that notifications or the listener's check would take.
  const absl::Duration bound = absl::Seconds(5);
  for (int round = 1; round <= kRounds; ++round) {
    const int64_t head = *direct_->HeadPosition();
    std::optional<absl::StatusOr<bool>> woke;
    absl::Time woke_at;
    std::thread waiter([&] {
      woke = store_->WaitForEventsAfter(head, absl::Now() + kWaitTimeout);
      woke_at = absl::Now();
    });
    const absl::Time appended_at = absl::Now();
    const int64_t position = AppendElsewhere(*direct_, round);
    waiter.join();
    ASSERT_TRUE(woke.has_value() && woke->ok());
    EXPECT_TRUE(**woke) << "round " << round;
    EXPECT_LT(woke_at - appended_at, bound) << "round " << round;

    // The live subscriber gets it too, in time.
    bool received = false;
    v1::SubscribeResponse message;
    while (!received && reader->Read(&message)) {
      for (const v1::Event& event : message.events().events()) {
        received = received || event.global_position() == position;
      }
      received = received || (message.has_event() &&
                              message.event().global_position() == position);
    }
    EXPECT_TRUE(received) << "round " << round;
    EXPECT_LT(absl::Now() - appended_at, bound + kRecheck) << "round " << round;
  }
  context.TryCancel();
  reader->Finish();
}

void LostAnswerTest::ExpectListenerReconnects(FaultProxy::Point point) {
  proxy_->Blackhole("LISTEN", point);
  options_.listener_check_interval = absl::Seconds(1);
  // Long: only a notification wakes a waiter within the test's bound.
  options_.wait_recheck_interval = absl::Seconds(60);
  ASSERT_NO_FATAL_FAILURE(OpenStores());
  ASSERT_TRUE(proxy_->WaitForFaults(1, kWaitTimeout));
  const absl::Time blackholed_at = absl::Now();
  proxy_->Watch("LISTEN");
  const bool reconnected = proxy_->WaitForFaults(2, absl::Seconds(60));
  const absl::Duration took = absl::Now() - blackholed_at;
  std::cout << "[ listener ] "
            << (reconnected ? "sent LISTEN on a new connection after "
                            : "no new LISTEN within ")
            << took << "\n";
  ASSERT_TRUE(reconnected);
  EXPECT_LT(took, absl::Seconds(30));

  // Notifications flow again on the new connection. The proxy saw the
  // LISTEN go out, which the server may not have run yet: an append
  // announced before then is not heard, so append until one is. Only the
  // listener raises store_'s known head (store_ appends nothing), and a
  // later announcement covers the earlier appends.
  bool announced = false;
  for (int attempt = 1; attempt <= 5 && !announced; ++attempt) {
    const int64_t position = AppendElsewhere(*direct_, attempt);
    const absl::Time give_up = absl::Now() + absl::Seconds(3);
    while (!announced && absl::Now() < give_up) {
      announced = store_->announced_head() >= position;
      absl::SleepFor(absl::Milliseconds(10));  // polling a condition
    }
  }
  EXPECT_TRUE(announced) << "no append announced on the new connection";
}

TEST_F(LostAnswerTest, ListenerReconnectsFromAHalfOpenConnection) {
  // LISTEN is answered, then nothing more comes: the self-check notices.
  ExpectListenerReconnects(FaultProxy::Point::kAfterResponse);
}

TEST_F(LostAnswerTest, ListenerReconnectsWhenItsListenIsNeverAnswered) {
  // The connection goes silent before LISTEN reaches the server: the
  // listener waits for an answer that never comes, until its watchdog.
  ExpectListenerReconnects(FaultProxy::Point::kBeforeRequest);
}

}  // namespace
}  // namespace inventory
