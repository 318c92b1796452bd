// TLS and bearer tokens, tried on the real binaries: a CA, a server
// certificate and tokens made at test time by scripts/dev-certs.sh (the
// openssl CLI) in temporary folders, the services as processes
// (support/inventory_system.h), and PostgreSQL where the store matters.
#include <grpcpp/grpcpp.h>
#include <sys/stat.h>

#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "gmock/gmock.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "grpc/reflection/v1alpha/reflection.grpc.pb.h"
#include "gtest/gtest.h"
#include "inventory/v1/command_service.grpc.pb.h"
#include "inventory/v1/event_stream_service.grpc.pb.h"
#include "inventory/v1/query_service.grpc.pb.h"
#include "tests/support/channels.h"
#include "tests/support/dev_certs.h"
#include "tests/support/grpc_status_matchers.h"
#include "tests/support/health_probe.h"
#include "tests/support/inventory_system.h"
#include "tests/support/postgres_test_main.h"
#include "tests/support/service_process.h"

namespace inventory {
namespace {

using test_support::GrpcStatusIs;

using grpc::health::v1::HealthCheckResponse;
using test_support::ChannelTo;
using test_support::InventorySystem;
using test_support::InventorySystemOptions;
using test_support::RunCommand;
using test_support::ServiceProcess;
using ::testing::HasSubstr;
using ::testing::Not;

// What scripts/dev-certs.sh made in one folder (support/dev_certs.h),
// with the flags that give its files to the services.
struct Pki : test_support::DevCerts {
  std::vector<std::string> TlsArgs() const {
    return {"--tls_cert_file=" + Path("server.pem"),
            "--tls_key_file=" + Path("server.key")};
  }
  std::vector<std::string> TokenArgs() const {
    return {"--writer_token_file=" + Path("writer.token"),
            "--reader_token_file=" + Path("reader.token")};
  }
};

std::optional<Pki> MakePki() {
  absl::StatusOr<test_support::DevCerts> made =
      test_support::MakeDevCerts("security-test");
  EXPECT_TRUE(made.ok()) << made.status();
  if (!made.ok()) return std::nullopt;
  return Pki{*std::move(made)};
}

std::vector<std::string> Concat(std::vector<std::vector<std::string>> parts) {
  std::vector<std::string> all;
  for (auto& part : parts) all.insert(all.end(), part.begin(), part.end());
  return all;
}

std::string Bearer(const std::string& token) { return "Bearer " + token; }

// A context with a deadline and, when given, an `authorization` header.
std::unique_ptr<grpc::ClientContext> Context(
    const std::optional<std::string>& authorization) {
  auto context = std::make_unique<grpc::ClientContext>();
  context->set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
  if (authorization.has_value()) {
    context->AddMetadata("authorization", *authorization);
  }
  return context;
}

grpc::Status CreateItem(const std::shared_ptr<grpc::Channel>& channel,
                        const std::string& item_id,
                        const std::optional<std::string>& authorization,
                        v1::CreateItemResponse* response = nullptr) {
  v1::CreateItemRequest request;
  request.set_item_id(item_id);
  request.set_sku("SEC-1");
  request.set_name("Guarded " + item_id);
  v1::CreateItemResponse ignored;
  return v1::CommandService::NewStub(channel)->CreateItem(
      Context(authorization).get(), request,
      response != nullptr ? response : &ignored);
}

grpc::Status GetItem(const std::shared_ptr<grpc::Channel>& channel,
                     const std::string& item_id, int64_t min_position,
                     const std::optional<std::string>& authorization,
                     v1::GetItemResponse* response = nullptr) {
  v1::GetItemRequest request;
  request.set_item_id(item_id);
  request.set_min_position(min_position);
  v1::GetItemResponse ignored;
  return v1::QueryService::NewStub(channel)->GetItem(
      Context(authorization).get(), request,
      response != nullptr ? response : &ignored);
}

// Health of the whole server, without a token.
grpc::Status CheckHealth(const std::shared_ptr<grpc::Channel>& channel,
                         test_support::ServingStatus* status) {
  auto stub = grpc::health::v1::Health::NewStub(channel);
  return test_support::CheckHealth(*stub, "", status);
}

// Lists the services through server reflection, as grpcurl does.
grpc::Status ListServices(const std::shared_ptr<grpc::Channel>& channel,
                          const std::optional<std::string>& authorization,
                          std::vector<std::string>* services) {
  auto stub = grpc::reflection::v1alpha::ServerReflection::NewStub(channel);
  auto context = Context(authorization);
  auto stream = stub->ServerReflectionInfo(context.get());
  grpc::reflection::v1alpha::ServerReflectionRequest request;
  request.set_list_services("*");
  stream->Write(request);
  stream->WritesDone();
  grpc::reflection::v1alpha::ServerReflectionResponse response;
  while (stream->Read(&response)) {
    for (const auto& service : response.list_services_response().service()) {
      services->push_back(service.name());
    }
  }
  return stream->Finish();
}

// Subscribes after position 0 and reads until the CaughtUp marker; returns
// the positions of the events before it, and the stream's status in
// *status (OK when the marker arrived).
std::vector<int64_t> SubscribeUntilCaughtUp(
    const std::shared_ptr<grpc::Channel>& channel,
    const std::optional<std::string>& authorization, grpc::Status* status) {
  auto context = Context(authorization);
  auto stream = v1::EventStreamService::NewStub(channel)->Subscribe(
      context.get(), v1::SubscribeRequest());
  std::vector<int64_t> positions;
  v1::SubscribeResponse message;
  while (stream->Read(&message)) {
    if (message.has_event())
      positions.push_back(message.event().global_position());
    for (const auto& event : message.events().events()) {
      positions.push_back(event.global_position());
    }
    if (message.has_caught_up()) {
      *status = grpc::Status::OK;
      context->TryCancel();
      while (stream->Read(&message)) {
      }
      stream->Finish();
      return positions;
    }
  }
  *status = stream->Finish();
  return positions;
}

// Waits until `process` has logged `text`; false after `timeout`.
bool AwaitLog(const ServiceProcess& process, const std::string& text,
              absl::Duration timeout = absl::Seconds(30)) {
  const absl::Time give_up = absl::Now() + timeout;
  for (;;) {
    if (process.Log().find(text) != std::string::npos) return true;
    if (absl::Now() >= give_up) return false;
    // Waiting for a line in another process's log: nothing to block on.
    absl::SleepFor(absl::Milliseconds(20));
  }
}

class SecurityTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    pki_ = new std::optional<Pki>(MakePki());
    other_ = new std::optional<Pki>(MakePki());
  }
  static void TearDownTestSuite() {
    for (auto* pki : {pki_, other_}) {
      if (pki->has_value()) test_support::RemoveDevCerts(**pki);
      delete pki;
    }
  }
  void SetUp() override {
    ASSERT_TRUE(pki_->has_value() && other_->has_value())
        << "scripts/dev-certs.sh failed (is openssl installed?)";
  }

  // The test's CA, server certificate and tokens; other() is a second,
  // unrelated set (a wrong CA, wrong tokens).
  static const Pki& pki() { return **pki_; }
  static const Pki& other() { return **other_; }

  // The command-service with `flags`, events in memory, and no
  // query-service yet; the stubs' channels trust `ca` (TLS) or, when it is
  // empty, speak plaintext. A test adds a database or an environment.
  static InventorySystemOptions CommandService(
      const std::vector<std::string>& flags, const std::string& ca = "") {
    InventorySystemOptions options;
    options.command_binary = COMMAND_SERVICE_BINARY;
    options.query_binary = QUERY_SERVICE_BINARY;
    options.command_flags = flags;
    options.root_certificates = ca;
    options.start_query_service = false;
    return options;
  }
  // As CommandService(), with events in a new database of the test's
  // PostgreSQL server, whose URL is in DATABASE_URL (as deployed).
  static InventorySystemOptions CommandServiceOnDatabase(
      const std::vector<std::string>& flags, const std::string& ca,
      const std::string& database_prefix) {
    InventorySystemOptions options = CommandService(flags, ca);
    options.postgres = &test_support::TestPostgres();
    options.database_prefix = database_prefix;
    options.database_url_in_environment = true;
    return options;
  }

  // Null (with a test failure) when the command-service does not start.
  static std::unique_ptr<InventorySystem> Start(
      const InventorySystemOptions& options) {
    auto system = InventorySystem::Start(options);
    EXPECT_TRUE(system.ok()) << system.status();
    return system.ok() ? std::move(*system) : nullptr;
  }

  // Starts (or replaces) the system's query-service with `flags`, retrying
  // its subscription quickly; false (with a test failure) when it does not
  // start.
  static bool StartQueryService(InventorySystem& system,
                                const std::vector<std::string>& flags) {
    const absl::Status started =
        system.StartQueryService(Concat({{"--max_backoff=500ms"}, flags}));
    EXPECT_TRUE(started.ok()) << started;
    return started.ok();
  }

  // No token value ever reaches a log.
  static void ExpectNoTokenIn(const std::string& log) {
    for (const Pki* set : {&pki(), &other()}) {
      EXPECT_THAT(log, Not(HasSubstr(set->writer_token)));
      EXPECT_THAT(log, Not(HasSubstr(set->reader_token)));
    }
  }

 private:
  static std::optional<Pki>* pki_;
  static std::optional<Pki>* other_;
};

std::optional<Pki>* SecurityTest::pki_ = nullptr;
std::optional<Pki>* SecurityTest::other_ = nullptr;

TEST_F(SecurityTest, PlaintextWithoutTokensStaysTheDefault) {
  auto system = Start(CommandService({}));
  ASSERT_NE(system, nullptr);
  EXPECT_THAT(system->command().Log(),
              HasSubstr("tls=off writer_token=unset reader_token=unset"));
  EXPECT_TRUE(
      CreateItem(system->command_channel(), "plain-1", std::nullopt).ok());
  // The health check of compose.yaml: no flags beyond --listen.
  const auto check = RunCommand({COMMAND_SERVICE_BINARY, "--health_check",
                                 "--listen=" + system->command_address()});
  EXPECT_EQ(check.exit_code, 0) << check.output;
}

TEST_F(SecurityTest, TlsWorksWithTheRightCaOnly) {
  auto system = Start(CommandService(pki().TlsArgs(), pki().ca));
  ASSERT_NE(system, nullptr);
  EXPECT_THAT(system->command().Log(),
              HasSubstr("tls=on writer_token=unset reader_token=unset"));

  const auto& tls = system->command_channel();
  EXPECT_TRUE(CreateItem(tls, "tls-1", std::nullopt).ok());
  test_support::ServingStatus serving;
  ASSERT_TRUE(CheckHealth(tls, &serving).ok());
  EXPECT_EQ(serving, HealthCheckResponse::SERVING);

  // Plaintext to the TLS port, and TLS that trusts another CA, never get
  // a call through.
  const std::string address = system->command_address();
  for (const auto& channel :
       {ChannelTo(address), ChannelTo(address, other().ca)}) {
    EXPECT_THAT(CreateItem(channel, "tls-2", std::nullopt),
                GrpcStatusIs(grpc::StatusCode::UNAVAILABLE));
    EXPECT_THAT(CheckHealth(channel, &serving),
                GrpcStatusIs(grpc::StatusCode::UNAVAILABLE));
  }
  // Nor does a server whose certificate carries another name.
  grpc::ChannelArguments args;
  args.SetSslTargetNameOverride("elsewhere.example");
  EXPECT_THAT(
      CreateItem(ChannelTo(address, pki().ca, args), "tls-3", std::nullopt),
      GrpcStatusIs(grpc::StatusCode::UNAVAILABLE));
}

TEST_F(SecurityTest, HealthCheckModeSpeaksTls) {
  auto system = Start(CommandService(pki().TlsArgs(), pki().ca));
  ASSERT_NE(system, nullptr);
  const std::string listen = "--listen=" + system->command_address();
  const std::string ca = "--health_check_ca_file=" + pki().Path("ca.pem");
  struct Case {
    std::vector<std::string> args;
    int exit_code;
    std::string output;
  };
  const std::vector<Case> cases = {
      {{ca}, 0, ""},
      {{ca, "--health_check_server_name=localhost"}, 0, ""},
      {{}, 1, "pass --health_check_ca_file"},
      {{"--health_check_ca_file=" + other().Path("ca.pem")}, 1, ""},
      {{ca, "--health_check_server_name=elsewhere.example"}, 1, ""},
      {{"--health_check_ca_file=" + pki().Path("missing.pem")},
       1,
       "cannot read --health_check_ca_file"},
  };
  for (const char* binary : {COMMAND_SERVICE_BINARY, QUERY_SERVICE_BINARY}) {
    for (const Case& c : cases) {
      std::vector<std::string> argv = {binary, "--health_check", listen};
      argv.insert(argv.end(), c.args.begin(), c.args.end());
      const auto check = RunCommand(argv, absl::Seconds(30));
      EXPECT_EQ(check.exit_code, c.exit_code)
          << absl::StrJoin(argv, " ") << "\n"
          << check.output;
      EXPECT_THAT(check.output, HasSubstr(c.output));
    }
  }
}

TEST_F(SecurityTest, CommandServiceChecksTheTokenOfEveryCallButHealth) {
  auto system = Start(
      CommandServiceOnDatabase(Concat({pki().TlsArgs(), pki().TokenArgs()}),
                               pki().ca, "security_tokens"));
  ASSERT_NE(system, nullptr);
  const auto& channel = system->command_channel();
  const std::string writer = Bearer(pki().writer_token);
  const std::string reader = Bearer(pki().reader_token);

  // Health checking needs no token.
  test_support::ServingStatus serving;
  ASSERT_TRUE(CheckHealth(channel, &serving).ok());
  EXPECT_EQ(serving, HealthCheckResponse::SERVING);

  // Commands: the writer token only.
  grpc::Status status = CreateItem(channel, "denied-1", std::nullopt);
  EXPECT_THAT(status, GrpcStatusIs(grpc::StatusCode::UNAUTHENTICATED));
  EXPECT_THAT(status.error_message(), HasSubstr("authorization: Bearer"));
  for (const std::string& wrong :
       {Bearer(other().writer_token), Bearer(""), pki().writer_token,
        "Basic " + pki().writer_token, Bearer(pki().writer_token + "0")}) {
    EXPECT_THAT(CreateItem(channel, "denied-2", wrong),
                GrpcStatusIs(grpc::StatusCode::UNAUTHENTICATED))
        << wrong;
  }
  status = CreateItem(channel, "denied-3", reader);
  EXPECT_THAT(status, GrpcStatusIs(grpc::StatusCode::PERMISSION_DENIED));
  EXPECT_THAT(status.error_message(), HasSubstr("writer token"));
  v1::CreateItemResponse created;
  status = CreateItem(channel, "allowed-1", writer, &created);
  ASSERT_TRUE(status.ok()) << status.error_message();
  // Position 1: none of the refused commands recorded anything.
  EXPECT_EQ(created.global_position(), 1);

  // The event stream: the reader or the writer token.
  status = grpc::Status::OK;
  SubscribeUntilCaughtUp(channel, std::nullopt, &status);
  EXPECT_THAT(status, GrpcStatusIs(grpc::StatusCode::UNAUTHENTICATED));
  SubscribeUntilCaughtUp(channel, Bearer(other().reader_token), &status);
  EXPECT_THAT(status, GrpcStatusIs(grpc::StatusCode::UNAUTHENTICATED));
  for (const std::string& token : {reader, writer}) {
    EXPECT_THAT(SubscribeUntilCaughtUp(channel, token, &status),
                ::testing::ElementsAre(1));
    EXPECT_TRUE(status.ok()) << status.error_message();
  }

  // Reflection: the reader or the writer token.
  std::vector<std::string> services;
  EXPECT_THAT(ListServices(channel, std::nullopt, &services),
              GrpcStatusIs(grpc::StatusCode::UNAUTHENTICATED));
  ASSERT_TRUE(ListServices(channel, reader, &services).ok());
  EXPECT_THAT(services, ::testing::Contains("inventory.v1.CommandService"));

  const std::string log = system->command().Log();
  EXPECT_THAT(log, HasSubstr("tls=on writer_token=set reader_token=set"));
  EXPECT_THAT(log, HasSubstr("/inventory.v1.CommandService/CreateItem "
                             "refused: PERMISSION_DENIED"));
  ExpectNoTokenIn(log);
}

TEST_F(SecurityTest, TokensFromTheEnvironment) {
  InventorySystemOptions options = CommandService(pki().TlsArgs(), pki().ca);
  options.command_env = {"WRITER_TOKEN=" + pki().writer_token, "READER_TOKEN="};
  auto system = Start(options);
  ASSERT_NE(system, nullptr);
  EXPECT_THAT(system->command().Log(),
              HasSubstr("tls=on writer_token=set reader_token=unset"));
  const auto& channel = system->command_channel();
  EXPECT_TRUE(CreateItem(channel, "env-1", Bearer(pki().writer_token)).ok());
  // No reader token is configured, so the test's reader token is just wrong.
  EXPECT_THAT(CreateItem(channel, "env-2", Bearer(pki().reader_token)),
              GrpcStatusIs(grpc::StatusCode::UNAUTHENTICATED));
  ExpectNoTokenIn(system->command().Log());
}

TEST_F(SecurityTest, QueryServiceSubscribesWithItsTokenEndToEnd) {
  auto system = Start(CommandServiceOnDatabase(
      Concat({pki().TlsArgs(), pki().TokenArgs()}), pki().ca, "security_e2e"));
  ASSERT_NE(system, nullptr);
  ASSERT_TRUE(StartQueryService(
      *system, Concat({pki().TlsArgs(),
                       pki().TokenArgs(),
                       {"--command_service_ca_file=" + pki().Path("ca.pem"),
                        "--command_service_token_file=" +
                            pki().Path("reader.token")}})));
  ServiceProcess& command = system->command();
  ServiceProcess& query = system->query();
  const auto& query_channel = system->query_channel();
  ASSERT_TRUE(system->AwaitQueryServing(absl::Seconds(30))) << query.Log();
  const auto check = RunCommand(
      {QUERY_SERVICE_BINARY, "--health_check", "--listen=" + query.address(),
       "--health_check_ca_file=" + pki().Path("ca.pem")});
  EXPECT_EQ(check.exit_code, 0) << check.output;

  v1::CreateItemResponse created;
  ASSERT_TRUE(CreateItem(system->command_channel(), "e2e-1",
                         Bearer(pki().writer_token), &created)
                  .ok());
  v1::GetItemResponse got;
  grpc::Status status =
      GetItem(query_channel, "e2e-1", created.global_position(),
              Bearer(pki().reader_token), &got);
  ASSERT_TRUE(status.ok()) << status.error_message() << "\n"
                           << query.Log() << command.Log();
  EXPECT_EQ(got.item().name(), "Guarded e2e-1");
  EXPECT_TRUE(
      GetItem(query_channel, "e2e-1", 0, Bearer(pki().writer_token)).ok());
  EXPECT_THAT(GetItem(query_channel, "e2e-1", 0, std::nullopt),
              GrpcStatusIs(grpc::StatusCode::UNAUTHENTICATED));
  EXPECT_THAT(GetItem(query_channel, "e2e-1", 0, Bearer(other().reader_token)),
              GrpcStatusIs(grpc::StatusCode::UNAUTHENTICATED));

  // As docs/security.md shows it: buf curl with the CA and a token, for the
  // call and for reflection.
  const auto curl =
      RunCommand({BUF_BINARY, "curl", "--protocol", "grpc", "--cacert",
                  pki().Path("ca.pem"), "-H",
                  "authorization: " + Bearer(pki().reader_token),
                  "--reflect-header", "*", "-d", R"({"item_id":"e2e-1"})",
                  absl::StrCat("https://", query.address(),
                               "/inventory.v1.QueryService/GetItem")});
  EXPECT_EQ(curl.exit_code, 0) << curl.output;
  EXPECT_THAT(curl.output, HasSubstr("Guarded e2e-1"));

  // itemctl, with the CA and a token for both services.
  const auto itemctl = [&](const std::string& token,
                           std::vector<std::string> words) {
    std::vector<std::string> argv = {
        ITEMCTL_BINARY, "--command=" + command.address(),
        "--query=" + query.address(), "--ca_file=" + pki().Path("ca.pem"),
        "--token_file=" + pki().Path(token)};
    argv.insert(argv.end(), words.begin(), words.end());
    return RunCommand(argv);
  };
  auto made = itemctl("writer.token", {"create", "e2e-2", "SEC-2", "Shell"});
  EXPECT_EQ(made.exit_code, 0) << made.output;
  auto shown = itemctl("reader.token", {"show", "e2e-1"});
  EXPECT_EQ(shown.exit_code, 0) << shown.output;
  EXPECT_THAT(shown.output, HasSubstr("Guarded e2e-1"));
  auto refused = itemctl("reader.token", {"create", "e2e-3", "SEC-3", "No"});
  EXPECT_EQ(refused.exit_code, 1) << refused.output;
  EXPECT_THAT(refused.output, HasSubstr("error: PERMISSION_DENIED"));

  EXPECT_THAT(query.Log(),
              HasSubstr("tls=on writer_token=set reader_token=set "
                        "command_service_tls=on command_service_token=set"));
  ExpectNoTokenIn(query.Log());
  ExpectNoTokenIn(command.Log());
}

TEST_F(SecurityTest, QueryServiceWithoutTheRightCredentialsNeverServes) {
  // The query-service listens in plaintext: the stubs speak plaintext.
  auto system =
      Start(CommandService(Concat({pki().TlsArgs(), pki().TokenArgs()})));
  ASSERT_NE(system, nullptr);
  const std::string ca = "--command_service_ca_file=" + pki().Path("ca.pem");
  const std::string token =
      "--command_service_token_file=" + pki().Path("reader.token");
  struct Case {
    std::string what;
    std::vector<std::string> args;
    std::string logged;
  };
  const std::vector<Case> cases = {
      {"no token", {ca}, "refused this query-service's token (UNAUTHENTICATED"},
      {"a wrong token",
       {ca, "--command_service_token_file=" + other().Path("reader.token")},
       "refused this query-service's token (UNAUTHENTICATED"},
      {"a wrong CA",
       {"--command_service_ca_file=" + other().Path("ca.pem"), token},
       "event stream ended (14"},
      {"plaintext", {}, "event stream ended (14"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    ASSERT_TRUE(StartQueryService(*system, c.args));
    const ServiceProcess& query = system->query();
    EXPECT_TRUE(AwaitLog(query, c.logged)) << query.Log();
    test_support::ServingStatus serving;
    ASSERT_TRUE(CheckHealth(system->query_channel(), &serving).ok());
    EXPECT_EQ(serving, HealthCheckResponse::NOT_SERVING);
    ExpectNoTokenIn(query.Log());
  }
}

TEST_F(SecurityTest, SettingsThatDoNotFitStopTheStart) {
  struct Case {
    std::vector<std::string> argv;  // after /usr/bin/env
    std::string error;
  };
  const std::string command = COMMAND_SERVICE_BINARY;
  const std::string query = QUERY_SERVICE_BINARY;
  const std::string listen = "--listen=127.0.0.1:0";
  const std::vector<Case> cases = {
      {{command, listen, pki().TokenArgs()[0]}, "bearer tokens need TLS"},
      {{"WRITER_TOKEN=" + pki().writer_token, command, listen},
       "bearer tokens need TLS"},
      {{command, listen, pki().TlsArgs()[0]},
       "both --tls_cert_file and --tls_key_file"},
      {{command, listen, pki().TlsArgs()[0],
        "--tls_key_file=" + other().Path("server.key")},
       "TLS certificate and key belong together"},
      {{command, listen, "--tls_cert_file=" + pki().Path("server.key"),
        "--tls_key_file=" + pki().Path("server.key")},
       "holds no PEM CERTIFICATE"},
      {{"WRITER_TOKEN=too-short", command, listen, pki().TlsArgs()[0],
        pki().TlsArgs()[1]},
       "at least 16 characters"},
      {{"WRITER_TOKEN=" + pki().writer_token, command, listen,
        pki().TlsArgs()[0], pki().TlsArgs()[1], pki().TokenArgs()[0]},
       "not both"},
      {{command, listen, pki().TlsArgs()[0], pki().TlsArgs()[1],
        "--reader_token_file=" + pki().Path("missing.token")},
       "cannot read --reader_token_file"},
      {{query, listen,
        "--command_service_token_file=" + pki().Path("reader.token")},
       "set --command_service_ca_file"},
  };
  for (const Case& c : cases) {
    std::vector<std::string> argv = {"/usr/bin/env"};
    argv.insert(argv.end(), c.argv.begin(), c.argv.end());
    const auto run = RunCommand(argv, absl::Seconds(30));
    EXPECT_EQ(run.exit_code, 1) << absl::StrJoin(argv, " ") << "\n"
                                << run.output;
    EXPECT_THAT(run.output, HasSubstr(c.error)) << absl::StrJoin(argv, " ");
    ExpectNoTokenIn(run.output);
  }
}

// A client repeating a refused call gets 10 lines per 10 s for each
// status code, not one per call.
TEST_F(SecurityTest, RefusedCallsAreRateLimitedInTheLog) {
  auto system = Start(
      CommandService(Concat({pki().TlsArgs(), pki().TokenArgs()}), pki().ca));
  ASSERT_NE(system, nullptr);
  const auto& channel = system->command_channel();
  for (int i = 0; i < 25; ++i) {
    ASSERT_THAT(CreateItem(channel, "flood", std::nullopt),
                GrpcStatusIs(grpc::StatusCode::UNAUTHENTICATED));
  }
  // Another code has its own allowance.
  ASSERT_THAT(CreateItem(channel, "flood", Bearer(pki().reader_token)),
              GrpcStatusIs(grpc::StatusCode::PERMISSION_DENIED));
  // Each refusal is logged before the client gets its answer.
  const std::string log = system->command().Log();
  int unauthenticated = 0;
  for (size_t at = log.find("refused: UNAUTHENTICATED");
       at != std::string::npos;
       at = log.find("refused: UNAUTHENTICATED", at + 1)) {
    ++unauthenticated;
  }
  EXPECT_EQ(unauthenticated, 10) << log;
  EXPECT_THAT(log, HasSubstr("/inventory.v1.CommandService/CreateItem "
                             "refused: PERMISSION_DENIED"));
}

TEST_F(SecurityTest, AKeyFileOthersMayReadGetsAWarningAtStart) {
  // scripts/dev-certs.sh makes every secret file private...
  for (const char* name :
       {"ca.key", "server.key", "writer.token", "reader.token"}) {
    struct stat info;
    ASSERT_EQ(stat(pki().Path(name).c_str(), &info), 0) << name;
    EXPECT_EQ(info.st_mode & 0777, 0600u) << name;
  }
  // ... so a service using them does not warn...
  auto quiet =
      Start(CommandService(Concat({pki().TlsArgs(), pki().TokenArgs()})));
  ASSERT_NE(quiet, nullptr);
  EXPECT_THAT(quiet->command().Log(), Not(HasSubstr("other than its owner")));

  // ... but one whose key anyone may read does, and still starts.
  const std::string shared_key = pki().Path("shared.key");
  ASSERT_EQ(
      RunCommand({"/bin/cp", pki().Path("server.key"), shared_key}).exit_code,
      0);
  ASSERT_EQ(chmod(shared_key.c_str(), 0644), 0);
  auto warned =
      Start(CommandService({"--tls_cert_file=" + pki().Path("server.pem"),
                            "--tls_key_file=" + shared_key}));
  ASSERT_NE(warned, nullptr);
  EXPECT_THAT(warned->command().Log(),
              HasSubstr(absl::StrCat("--tls_key_file ", shared_key,
                                     " may be read by users other than its "
                                     "owner (mode 0644): make it private to "
                                     "the service's user with `chmod 600 ",
                                     shared_key, "`")));
}

}  // namespace
}  // namespace inventory
