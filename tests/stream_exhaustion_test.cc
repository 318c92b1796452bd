// Long-lived streams cannot take the threads that commands need.
//
// Both services in this process (support/in_process_services.h), on free
// loopback ports, plaintext and with TLS and bearer tokens (certificates
// from scripts/dev-certs.sh):
//   * 1,000 idle health Watch streams without a token, 1,000 idle
//     reflection streams and 1,000 idle Subscribe or WatchItem streams with
//     the reader token; meanwhile the writer's commands (and queries) are
//     answered. Streams beyond a cap are refused at once with
//     RESOURCE_EXHAUSTED and a reason; health and reflection are served
//     with gRPC's callback API, so even with the caps lifted their idle
//     streams hold no thread (a server with 8 threads keeps answering);
//   * a subscriber that stops reading is dropped after
//     --stream_write_timeout, and its slot comes free.
// Each stream is opened with gRPC's generic asynchronous client, so that
// 1,000 idle streams need no client thread either. Nothing waits by
// sleeping: every wait is for a condition, checked every few milliseconds
// up to a deadline.
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>

#include <functional>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/eventstore/in_memory_event_store.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "grpc/reflection/v1alpha/reflection.grpc.pb.h"
#include "gtest/gtest.h"
#include "inventory/v1/command_service.grpc.pb.h"
#include "inventory/v1/event_stream_service.grpc.pb.h"
#include "inventory/v1/query_service.grpc.pb.h"
#include "tests/support/channels.h"
#include "tests/support/dev_certs.h"
#include "tests/support/grpc_status_matchers.h"
#include "tests/support/in_process_services.h"

namespace inventory {
namespace {

using test_support::GrpcStatusIs;
using test_support::InProcessCommandService;
using test_support::InProcessQueryService;

constexpr int kStreams = 1000;
// Refusals as IdleStreams reports them: code, then reason or message.
constexpr char kTooManyStreams[] = "8 TOO_MANY_STREAMS";
constexpr char kThreadpoolExhausted[] = "8 Server Threadpool Exhausted";
constexpr absl::Duration kWaitTimeout = absl::Seconds(60);

bool Eventually(const std::function<bool()>& condition) {
  const absl::Time give_up = absl::Now() + kWaitTimeout;
  while (!condition()) {
    if (absl::Now() > give_up) return false;
    absl::SleepFor(absl::Milliseconds(10));  // polling a condition
  }
  return true;
}

// TLS and tokens made by scripts/dev-certs.sh, or nothing (plaintext).
struct Credentials {
  ServerSecurity server;
  std::string ca;
  std::string reader;  // "authorization" values; empty in plaintext
  std::string writer;

  static Credentials Plaintext() { return {}; }
  static absl::StatusOr<Credentials> Tls() {
    absl::StatusOr<test_support::DevCerts> certs =
        test_support::MakeDevCerts("exhaustion-test");
    if (!certs.ok()) return certs.status();
    test_support::RemoveDevCerts(*certs);
    Credentials made;
    made.server.certificate_chain = certs->server_certificate;
    made.server.private_key = certs->server_key;
    made.server.writer_token = certs->writer_token;
    made.server.reader_token = certs->reader_token;
    made.ca = certs->ca;
    made.reader = "Bearer " + made.server.reader_token;
    made.writer = "Bearer " + made.server.writer_token;
    return made;
  }

  bool tls() const { return !ca.empty(); }

  // A channel of its own to `address` (its own connection: `connection`
  // makes its arguments unique, so gRPC shares no subchannel between them).
  std::shared_ptr<grpc::Channel> Channel(const std::string& address,
                                         int connection) const {
    grpc::ChannelArguments args;
    args.SetInt("inventory.test.connection", connection);
    return test_support::ChannelTo(address, ca, args);
  }
};

// Idle streams: each sends its one request and reads its first answer,
// then reads nothing more. A refused stream ends instead.
class IdleStreams {
 public:
  // Opens `count` streams of `method` (a full path, "/pkg.Service/Method")
  // carrying `request` to `address`, spread over connections of at most 50
  // streams.
  IdleStreams(const Credentials& credentials, const std::string& address,
              const std::string& method, const std::string& request,
              const std::string& authorization, int count, bool half_close) {
    const int per_connection = 50;
    for (int i = 0; i < count; ++i) {
      if (i % per_connection == 0) {
        stubs_.push_back(std::make_unique<grpc::GenericStub>(
            credentials.Channel(address, i / per_connection + 1)));
      }
      auto call = std::make_unique<Call>();
      if (!authorization.empty()) {
        call->context.AddMetadata("authorization", authorization);
      }
      call->slice = grpc::Slice(request);
      call->request = grpc::ByteBuffer(&call->slice, 1);
      call->half_close = half_close;
      call->stream =
          stubs_.back()->PrepareCall(&call->context, method, &queue_);
      {
        absl::MutexLock lock(&mu_);  // for Tag()
        call->stream->StartCall(Tag(call.get(), Step::kStarted));
      }
      calls_.push_back(std::move(call));
    }
    poller_ = std::thread([this] { Poll(); });
  }

  ~IdleStreams() {
    {
      // Idle streams have no operation pending: finish them.
      absl::MutexLock lock(&mu_);
      for (auto& call : calls_) {
        if (call->answered) {
          call->stream->Finish(&call->status, Tag(call.get(), Step::kFinished));
        }
      }
    }
    for (auto& call : calls_) call->context.TryCancel();
    {
      absl::MutexLock lock(&mu_);
      auto done = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        return finished_ == static_cast<int>(calls_.size());
      };
      mu_.AwaitWithTimeout(absl::Condition(&done), kWaitTimeout);
    }
    queue_.Shutdown();
    poller_.join();
  }

  // Waits until every stream has either answered or ended.
  bool AllSettled() {
    absl::MutexLock lock(&mu_);
    auto settled = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return answered_ + refused_ == static_cast<int>(calls_.size());
    };
    return mu_.AwaitWithTimeout(absl::Condition(&settled), kWaitTimeout);
  }

  int answered() {
    absl::MutexLock lock(&mu_);
    return answered_;
  }
  int refused() {
    absl::MutexLock lock(&mu_);
    return refused_;
  }
  // The refusals' codes and ErrorInfo reasons, e.g. "8 TOO_MANY_STREAMS".
  std::vector<std::string> refusals() {
    absl::MutexLock lock(&mu_);
    return refusals_;
  }

 private:
  enum class Step { kStarted, kWritten, kHalfClosed, kRead, kFinished };
  struct Call {
    grpc::ClientContext context;
    std::unique_ptr<grpc::GenericClientAsyncReaderWriter> stream;
    grpc::Slice slice;
    grpc::ByteBuffer request;
    grpc::ByteBuffer response;
    grpc::Status status;
    bool half_close = false;
    bool answered = false;
    int steps = 0;
  };
  struct Tagged {
    Call* call;
    Step step;
  };

  void* Tag(Call* call, Step step) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    tags_.push_back(std::make_unique<Tagged>(Tagged{call, step}));
    return tags_.back().get();
  }

  static std::string ReasonOf(const grpc::Status& status) {
    google::rpc::Status details;
    std::string reason;
    if (details.ParseFromString(status.error_details())) {
      for (const auto& any : details.details()) {
        google::rpc::ErrorInfo info;
        if (any.UnpackTo(&info)) reason = info.reason();
      }
    }
    return absl::StrCat(status.error_code(), " ", reason,
                        reason.empty() ? status.error_message() : "");
  }

  void Poll() {
    void* raw;
    bool ok;
    while (queue_.Next(&raw, &ok)) {
      Tagged tagged;
      {
        absl::MutexLock lock(&mu_);
        tagged = *static_cast<Tagged*>(raw);
      }
      Call* call = tagged.call;
      absl::MutexLock lock(&mu_);
      switch (tagged.step) {
        case Step::kStarted:
          if (!ok) break;
          call->stream->Write(call->request, Tag(call, Step::kWritten));
          continue;
        case Step::kWritten:
          if (ok && call->half_close) {
            call->stream->WritesDone(Tag(call, Step::kHalfClosed));
          } else {
            call->stream->Read(&call->response, Tag(call, Step::kRead));
          }
          continue;
        case Step::kHalfClosed:
          call->stream->Read(&call->response, Tag(call, Step::kRead));
          continue;
        case Step::kRead:
          if (ok) {
            call->answered = true;
            ++answered_;
            continue;  // idle from now on: no further read
          }
          break;
        case Step::kFinished:
          if (!call->answered) {
            ++refused_;
            refusals_.push_back(ReasonOf(call->status));
          }
          ++finished_;
          continue;
      }
      call->stream->Finish(&call->status, Tag(call, Step::kFinished));
    }
  }

  grpc::CompletionQueue queue_;
  std::vector<std::unique_ptr<grpc::GenericStub>> stubs_;
  std::vector<std::unique_ptr<Call>> calls_;
  absl::Mutex mu_;
  std::vector<std::unique_ptr<Tagged>> tags_ ABSL_GUARDED_BY(mu_);
  int answered_ ABSL_GUARDED_BY(mu_) = 0;
  int refused_ ABSL_GUARDED_BY(mu_) = 0;
  int finished_ ABSL_GUARDED_BY(mu_) = 0;
  std::vector<std::string> refusals_ ABSL_GUARDED_BY(mu_);
  std::thread poller_;
};

std::string HealthWatchRequest() {
  return grpc::health::v1::HealthCheckRequest().SerializeAsString();
}

std::string ListServicesRequest() {
  grpc::reflection::v1alpha::ServerReflectionRequest request;
  request.set_list_services("*");
  return request.SerializeAsString();
}

class StreamExhaustionTest : public ::testing::TestWithParam<bool> {
 protected:
  void SetUp() override {
    credentials_ = Credentials::Plaintext();
    if (GetParam()) {
      absl::StatusOr<Credentials> tls = Credentials::Tls();
      ASSERT_TRUE(tls.ok()) << tls.status();
      credentials_ = *std::move(tls);
      ASSERT_TRUE(credentials_.tls());
    }
  }

  void StartCommandServer(int max_threads, HealthService::Options health = {},
                          ServerReflection::Options reflection = {}) {
    CommandServerOptions options;
    options.listen = "127.0.0.1:0";
    options.max_threads = max_threads;
    options.security = credentials_.server;
    options.health = health;
    options.reflection = reflection;
    auto command = test_support::StartInProcessCommandService(&store_, options,
                                                              credentials_.ca);
    ASSERT_TRUE(command.ok()) << command.status();
    command_ = std::move(*command);
  }

  // A command with the writer token; OK when answered normally.
  grpc::Status CreateItem(const std::string& id) {
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(20)));
    if (!credentials_.writer.empty()) {
      context.AddMetadata("authorization", credentials_.writer);
    }
    v1::CreateItemRequest request;
    request.set_item_id(id);
    request.set_sku("EXH-1");
    request.set_name("Exhaustion probe");
    v1::CreateItemResponse response;
    return command_->commands->CreateItem(&context, request, &response);
  }

  // Opens kStreams idle streams and checks that commands still work.
  // Every refusal must be one of `refusals` (code and reason).
  void ExpectCommandsAnswerWhileOpen(const std::string& method,
                                     const std::string& request,
                                     const std::string& authorization,
                                     bool half_close, int expected_open,
                                     const std::set<std::string>& refusals) {
    IdleStreams streams(credentials_, command_->address(), method, request,
                        authorization, kStreams, half_close);
    ASSERT_TRUE(streams.AllSettled()) << streams.answered() << " answered, "
                                      << streams.refused() << " refused";
    EXPECT_EQ(streams.answered(), expected_open);
    for (const std::string& refusal : streams.refusals()) {
      EXPECT_EQ(refusals.count(refusal), 1u) << refusal;
    }
    for (int i = 0; i < 5; ++i) {
      const grpc::Status status = CreateItem(absl::StrCat("probe-", i));
      EXPECT_TRUE(status.ok())
          << status.error_code() << " " << status.error_message();
    }
  }

  Credentials credentials_;
  InMemoryEventStore store_;
  std::unique_ptr<InProcessCommandService> command_;
};

TEST_P(StreamExhaustionTest, IdleHealthWatchesWithoutATokenLeaveCommandsAlone) {
  StartCommandServer(/*max_threads=*/512);
  // The default caps: 10 per client address.
  ExpectCommandsAnswerWhileOpen("/grpc.health.v1.Health/Watch",
                                HealthWatchRequest(), "", true, 10,
                                {kTooManyStreams});
  EXPECT_TRUE(
      Eventually([&] { return command_->server->health().watches() == 0; }));
}

TEST_P(StreamExhaustionTest, IdleHealthWatchesHoldNoThread) {
  // With the caps lifted, all 1,000 are open on a server of 8 threads.
  StartCommandServer(/*max_threads=*/8, {kStreams, kStreams});
  ExpectCommandsAnswerWhileOpen("/grpc.health.v1.Health/Watch",
                                HealthWatchRequest(), "", true, kStreams, {});
}

TEST_P(StreamExhaustionTest, IdleReflectionStreamsLeaveCommandsAlone) {
  StartCommandServer(/*max_threads=*/512);
  ExpectCommandsAnswerWhileOpen(
      "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo",
      ListServicesRequest(), credentials_.reader, false, 10, {kTooManyStreams});
}

TEST_P(StreamExhaustionTest, IdleReflectionStreamsHoldNoThread) {
  StartCommandServer(/*max_threads=*/8, {}, {kStreams, kStreams});
  ExpectCommandsAnswerWhileOpen(
      "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo",
      ListServicesRequest(), credentials_.reader, false, kStreams, {});
}

TEST_P(StreamExhaustionTest, IdleSubscriptionsLeaveCommandsAlone) {
  StartCommandServer(/*max_threads=*/512);
  // A subscription holds a thread; a client address gets 32 of them. A
  // burst of more calls at once than the server has threads is refused by
  // gRPC itself before the service sees it.
  ExpectCommandsAnswerWhileOpen(
      "/inventory.v1.EventStreamService/Subscribe",
      v1::SubscribeRequest().SerializeAsString(), credentials_.reader, true, 32,
      {"8 TOO_MANY_SUBSCRIBERS", kThreadpoolExhausted});
}

TEST_P(StreamExhaustionTest, IdleWatchItemStreamsLeaveQueriesAlone) {
  StartCommandServer(/*max_threads=*/512);
  ASSERT_TRUE(CreateItem("watched").ok());
  QueryServerOptions options;
  options.listen = "127.0.0.1:0";
  options.command_service = command_->address();
  if (credentials_.tls()) {
    options.command_service_security.root_certificates = credentials_.ca;
    options.command_service_security.token = credentials_.server.reader_token;
  }
  options.security = credentials_.server;
  auto started =
      test_support::StartInProcessQueryService(options, credentials_.ca);
  ASSERT_TRUE(started.ok()) << started.status();
  const std::unique_ptr<InProcessQueryService> query = std::move(*started);
  ASSERT_TRUE(
      Eventually([&] { return query->server->model().position() >= 1; }));

  v1::WatchItemRequest watch;
  watch.set_item_id("watched");
  {
    IdleStreams streams(
        credentials_, query->address(), "/inventory.v1.QueryService/WatchItem",
        watch.SerializeAsString(), credentials_.reader, kStreams, true);
    ASSERT_TRUE(streams.AllSettled());
    EXPECT_EQ(streams.answered(), 32);
    for (const std::string& refusal : streams.refusals()) {
      EXPECT_TRUE(refusal == "8 TOO_MANY_WATCHERS" ||
                  refusal == kThreadpoolExhausted)
          << refusal;
    }
    // Queries are answered, and the item's changes still reach the model.
    ASSERT_TRUE(CreateItem("after").ok());
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(20)));
    if (!credentials_.reader.empty()) {
      context.AddMetadata("authorization", credentials_.reader);
    }
    v1::GetItemRequest get;
    get.set_item_id("after");
    get.set_min_position(2);
    v1::GetItemResponse item;
    const grpc::Status status = query->queries->GetItem(&context, get, &item);
    EXPECT_TRUE(status.ok()) << status.error_message();
  }
  query->server->Shutdown(absl::Seconds(1));
}

INSTANTIATE_TEST_SUITE_P(Transports, StreamExhaustionTest,
                         ::testing::Values(false, true),
                         [](const ::testing::TestParamInfo<bool>& info) {
                           return info.param ? "TlsAndTokens" : "Plaintext";
                         });

// A subscriber that stops reading while events wait for it is dropped
// after the write timeout, and its slot comes free.
TEST(StalledSubscriberTest, IsDroppedAfterTheWriteTimeout) {
  InMemoryEventStore store;
  CommandServerOptions options;
  options.listen = "127.0.0.1:0";
  options.stream.write_timeout = absl::Seconds(1);
  auto started = test_support::StartInProcessCommandService(&store, options);
  ASSERT_TRUE(started.ok()) << started.status();
  const std::unique_ptr<InProcessCommandService> server = std::move(*started);
  v1::CommandService::Stub& commands = *server->commands;
  // About 1.5 MB of events: far more than the stream's flow-control
  // window.
  const std::string long_name(200, 'n');
  for (int i = 0; i < 5000; ++i) {
    grpc::ClientContext context;
    v1::CreateItemRequest request;
    request.set_item_id(absl::StrCat("stall-", i));
    request.set_sku("STALL-1");
    request.set_name(long_name);  // the longest name there is
    v1::CreateItemResponse response;
    ASSERT_TRUE(commands.CreateItem(&context, request, &response).ok());
  }

  // A client with a small window that never reads.
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_HTTP2_BDP_PROBE, 0);
  args.SetInt(GRPC_ARG_HTTP2_STREAM_LOOKAHEAD_BYTES, 16 * 1024);
  auto channel = test_support::ChannelTo(server->address(), "", args);
  grpc::ClientContext context;
  auto reader = v1::EventStreamService::NewStub(channel)->Subscribe(
      &context, v1::SubscribeRequest());
  const EventStreamService& service = server->server->event_stream_service();
  ASSERT_TRUE(Eventually([&] { return service.subscribers() == 1; }));
  // Dropped: the slot is free although the client never read.
  ASSERT_TRUE(Eventually([&] { return service.subscribers() == 0; }));
  v1::SubscribeResponse message;
  int64_t events = 0;
  while (reader->Read(&message)) {
    events += message.has_event() ? 1 : message.events().events_size();
  }
  EXPECT_LT(events, 5000) << "the subscriber got everything: it never stalled";
  EXPECT_THAT(reader->Finish(), GrpcStatusIs(grpc::StatusCode::CANCELLED));
}

}  // namespace
}  // namespace inventory
