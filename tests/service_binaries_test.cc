// The service binaries as users run them: a real process against a real
// PostgreSQL, driven over gRPC, through reflection (`buf curl` and a
// reflection client, as grpcurl users would), and stopped by a signal.
#include <grpcpp/grpcpp.h>
#include <signal.h>

#include <algorithm>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/descriptor.pb.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "grpc/reflection/v1alpha/reflection.grpc.pb.h"
#include "gtest/gtest.h"
#include "inventory/v1/command_service.grpc.pb.h"
#include "inventory/v1/event_stream_service.grpc.pb.h"
#include "tests/support/channels.h"
#include "tests/support/postgres_test_main.h"
#include "tests/support/service_process.h"

namespace inventory {
namespace {

using test_support::ChannelTo;
using test_support::RunCommand;
using test_support::ServiceProcess;
using ::testing::HasSubstr;
using ::testing::Not;

std::unique_ptr<ServiceProcess> StartCommandService(const std::string& url) {
  auto process =
      ServiceProcess::Start(COMMAND_SERVICE_BINARY,
                            {"--listen=127.0.0.1:0", "--heartbeat_interval=1s"},
                            {absl::StrCat("DATABASE_URL=", url)});
  EXPECT_TRUE(process.ok()) << process.status();
  return process.ok() ? std::move(*process) : nullptr;
}

// `buf curl` with reflection; returns its output.
test_support::CommandOutput BufCurl(std::vector<std::string> args) {
  std::vector<std::string> argv = {BUF_BINARY, "curl", "--protocol", "grpc",
                                   "--http2-prior-knowledge"};
  argv.insert(argv.end(), args.begin(), args.end());
  return RunCommand(argv);
}

std::string Url(const ServiceProcess& process, absl::string_view method) {
  return absl::StrCat("http://", process.address(), "/", method);
}

// Describes `symbol` through server reflection, as `grpcurl describe` does:
// fetches the files that define it and builds their descriptors.
const google::protobuf::ServiceDescriptor* DescribeService(
    grpc::reflection::v1alpha::ServerReflection::Stub& stub,
    google::protobuf::DescriptorPool& pool, const std::string& symbol) {
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() +
                       std::chrono::seconds(10));
  auto stream = stub.ServerReflectionInfo(&context);
  grpc::reflection::v1alpha::ServerReflectionRequest request;
  request.set_file_containing_symbol(symbol);
  EXPECT_TRUE(stream->Write(request));
  stream->WritesDone();
  grpc::reflection::v1alpha::ServerReflectionResponse response;
  EXPECT_TRUE(stream->Read(&response));
  EXPECT_TRUE(stream->Finish().ok());
  std::vector<google::protobuf::FileDescriptorProto> files;
  for (const std::string& bytes :
       response.file_descriptor_response().file_descriptor_proto()) {
    files.emplace_back();
    EXPECT_TRUE(files.back().ParseFromString(bytes));
  }
  // Build each file once all of its dependencies are built.
  for (size_t round = 0; round < files.size(); ++round) {
    for (const auto& file : files) {
      if (pool.FindFileByName(file.name()) != nullptr) continue;
      bool ready = true;
      for (const std::string& dependency : file.dependency()) {
        ready = ready && pool.FindFileByName(dependency) != nullptr;
      }
      if (ready) pool.BuildFile(file);
    }
  }
  return pool.FindServiceByName(symbol);
}

TEST(CommandServiceBinaryTest, ServesCommandsHealthAndReflection) {
  auto process = StartCommandService(
      *test_support::TestPostgres().CreateDatabase("binary"));
  ASSERT_NE(process, nullptr);
  auto channel = ChannelTo(process->address());

  // Health: the server and each service.
  auto health = grpc::health::v1::Health::NewStub(channel);
  for (const std::string service :
       {"", "inventory.v1.CommandService", "inventory.v1.EventStreamService"}) {
    grpc::ClientContext context;
    grpc::health::v1::HealthCheckRequest request;
    request.set_service(service);
    grpc::health::v1::HealthCheckResponse response;
    ASSERT_TRUE(health->Check(&context, request, &response).ok()) << service;
    EXPECT_EQ(response.status(),
              grpc::health::v1::HealthCheckResponse::SERVING);
  }

  // A command with JSON, through reflection.
  auto created =
      BufCurl({"-d", R"({"item_id":"w-1","sku":"W-1","name":"Widget"})",
               Url(*process, "inventory.v1.CommandService/CreateItem")});
  ASSERT_EQ(created.exit_code, 0) << created.output;
  EXPECT_THAT(created.output, HasSubstr(R"("globalPosition": "1")"));
  auto invalid =
      BufCurl({"-d", R"({"item_id":"w-2","sku":"lower","name":"Widget"})",
               Url(*process, "inventory.v1.CommandService/CreateItem")});
  EXPECT_NE(invalid.exit_code, 0);
  EXPECT_THAT(invalid.output, HasSubstr("invalid_argument"));
  EXPECT_THAT(invalid.output, HasSubstr("sku:"));

  // Reflection lists every service, health included...
  auto listed =
      BufCurl({"--list-services", absl::StrCat("http://", process->address())});
  ASSERT_EQ(listed.exit_code, 0) << listed.output;
  for (const char* service :
       {"inventory.v1.CommandService", "inventory.v1.EventStreamService",
        "grpc.health.v1.Health"}) {
    EXPECT_THAT(listed.output, HasSubstr(service));
  }
  // ... describes each of them...
  auto reflection =
      grpc::reflection::v1alpha::ServerReflection::NewStub(channel);
  google::protobuf::DescriptorPool pool;
  const std::vector<std::pair<std::string, std::vector<std::string>>> services =
      {{"inventory.v1.CommandService",
        {"CreateItem", "RenameItem", "CheckInItems", "RemoveItems",
         "DeactivateItem", "ReactivateItem"}},
       {"inventory.v1.EventStreamService", {"Subscribe"}},
       {"grpc.health.v1.Health", {"Check", "Watch"}}};
  for (const auto& [name, methods] : services) {
    const auto* service = DescribeService(*reflection, pool, name);
    ASSERT_NE(service, nullptr) << name;
    EXPECT_EQ(service->method_count(), static_cast<int>(methods.size()));
    for (const std::string& method : methods) {
      EXPECT_NE(service->FindMethodByName(method), nullptr) << method;
    }
  }
  // ... and a reflection client can call health.
  auto checked =
      BufCurl({"-d", "{}", Url(*process, "grpc.health.v1.Health/Check")});
  ASSERT_EQ(checked.exit_code, 0) << checked.output;
  EXPECT_THAT(checked.output, HasSubstr("SERVING"));

  // SIGTERM: a clean exit, also with a subscription open.
  auto events = inventory::v1::EventStreamService::NewStub(channel);
  grpc::ClientContext subscribe_context;
  auto subscription =
      events->Subscribe(&subscribe_context, inventory::v1::SubscribeRequest());
  inventory::v1::SubscribeResponse message;
  ASSERT_TRUE(subscription->Read(&message));
  EXPECT_TRUE(message.has_event());
  process->Signal(SIGTERM);
  while (subscription->Read(&message)) {
  }
  EXPECT_EQ(subscription->Finish().error_code(), grpc::StatusCode::UNAVAILABLE);
  auto code = process->Wait(absl::Seconds(15));
  ASSERT_TRUE(code.ok()) << code.status();
  EXPECT_EQ(*code, 0) << process->Log();
  EXPECT_THAT(process->Log(), HasSubstr("command-service stopped"));
}

TEST(CommandServiceBinaryTest,
     SubscriberSeesEventsAppendedThroughAnotherProcess) {
  const std::string url =
      *test_support::TestPostgres().CreateDatabase("two_processes");
  auto a = StartCommandService(url);
  auto b = StartCommandService(url);
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);

  auto events =
      inventory::v1::EventStreamService::NewStub(ChannelTo(a->address()));
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() +
                       std::chrono::seconds(30));
  auto subscription =
      events->Subscribe(&context, inventory::v1::SubscribeRequest());
  inventory::v1::SubscribeResponse message;
  ASSERT_TRUE(subscription->Read(&message));
  ASSERT_TRUE(message.has_caught_up());

  auto commands =
      inventory::v1::CommandService::NewStub(ChannelTo(b->address()));
  for (int i = 1; i <= 3; ++i) {
    grpc::ClientContext call;
    inventory::v1::CreateItemRequest request;
    request.set_item_id(absl::StrCat("x-", i));
    request.set_sku("X-1");
    request.set_name("Thing");
    inventory::v1::CreateItemResponse response;
    ASSERT_TRUE(commands->CreateItem(&call, request, &response).ok());
  }
  for (int i = 1; i <= 3; ++i) {
    do {
      ASSERT_TRUE(subscription->Read(&message));
    } while (!message.has_event());
    EXPECT_EQ(message.event().global_position(), i);
    EXPECT_EQ(message.event().item_created().item_id(), absl::StrCat("x-", i));
  }
  context.TryCancel();
}

TEST(QueryServiceBinaryTest, ServesQueriesHealthAndReflection) {
  auto command = StartCommandService(
      *test_support::TestPostgres().CreateDatabase("query_binary"));
  ASSERT_NE(command, nullptr);
  auto query = ServiceProcess::Start(
      QUERY_SERVICE_BINARY,
      {"--listen=127.0.0.1:0",
       absl::StrCat("--command_service=", command->address())});
  ASSERT_TRUE(query.ok()) << query.status();
  ServiceProcess& process = **query;

  auto created =
      BufCurl({"-d", R"({"item_id":"q-1","sku":"Q-1","name":"Queried"})",
               Url(*command, "inventory.v1.CommandService/CreateItem")});
  ASSERT_EQ(created.exit_code, 0) << created.output;
  // Read-your-writes through reflection and JSON, like a grpcurl user.
  auto got = BufCurl({"-d", R"({"item_id":"q-1","min_position":1})",
                      Url(process, "inventory.v1.QueryService/GetItem")});
  ASSERT_EQ(got.exit_code, 0) << got.output;
  EXPECT_THAT(got.output, HasSubstr(R"("name": "Queried")"));
  auto checked = BufCurl({"-d", R"({"service":"inventory.v1.QueryService"})",
                          Url(process, "grpc.health.v1.Health/Check")});
  ASSERT_EQ(checked.exit_code, 0) << checked.output;
  EXPECT_THAT(checked.output, HasSubstr("SERVING"));

  auto listed =
      BufCurl({"--list-services", absl::StrCat("http://", process.address())});
  ASSERT_EQ(listed.exit_code, 0) << listed.output;
  EXPECT_THAT(listed.output, HasSubstr("inventory.v1.QueryService"));
  EXPECT_THAT(listed.output, HasSubstr("grpc.health.v1.Health"));
  auto reflection = grpc::reflection::v1alpha::ServerReflection::NewStub(
      ChannelTo(process.address()));
  google::protobuf::DescriptorPool pool;
  const auto* service =
      DescribeService(*reflection, pool, "inventory.v1.QueryService");
  ASSERT_NE(service, nullptr);
  for (const char* method : {"GetItem", "ListItems", "GetItemHistory",
                             "GetInventoryStats", "WatchItem"}) {
    EXPECT_NE(service->FindMethodByName(method), nullptr) << method;
  }
  EXPECT_NE(DescribeService(*reflection, pool, "grpc.health.v1.Health"),
            nullptr);

  process.Signal(SIGTERM);
  auto code = process.Wait(absl::Seconds(15));
  ASSERT_TRUE(code.ok()) << code.status();
  EXPECT_EQ(*code, 0) << process.Log();
}

// The flags `binary` defines itself, as --helpfull prints them: every
// "Flags from <file>:" section but Abseil's own (absl/...), each flag as
// its whole entry ("    --name (help); default: ...;" and the lines it
// wraps onto), keyed by name. --helpfull lists every flag linked in, so
// this list cannot miss one, whichever file defines it.
std::map<std::string, std::string> OwnFlagEntries(const std::string& binary) {
  const std::vector<std::string> lines =
      absl::StrSplit(RunCommand({binary, "--helpfull"}).output, '\n');
  std::map<std::string, std::string> entries;
  bool own_section = false;
  std::string* entry = nullptr;
  for (const std::string& line : lines) {
    if (absl::StartsWith(line, "  Flags from ")) {
      own_section = !absl::StrContains(line, "absl/");
      entry = nullptr;
    } else if (own_section && absl::StartsWith(line, "    --")) {
      const std::string name = line.substr(4, line.find(' ', 4) - 4);
      entry = &entries[name];
      *entry = line;
    } else if (entry != nullptr && absl::StartsWith(line, "      ")) {
      absl::StrAppend(entry, "\n", line);
    } else {
      entry = nullptr;
    }
  }
  return entries;
}

// --help lists exactly the flags the binary defines, each with its help
// text and default as --helpfull has them, and no flag of Abseil's.
void ExpectHelpDocumentsEveryFlag(const std::string& binary,
                                  const std::vector<std::string>& some_flags) {
  const std::map<std::string, std::string> entries = OwnFlagEntries(binary);
  for (const std::string& flag : some_flags) {
    EXPECT_EQ(entries.count(flag), 1u) << flag << " not in --helpfull";
  }
  const std::string help = RunCommand({binary, "--help"}).output;
  for (const auto& [flag, entry] : entries) {
    EXPECT_THAT(help, HasSubstr(entry)) << flag;
  }
  const std::vector<absl::string_view> help_lines = absl::StrSplit(help, '\n');
  EXPECT_EQ(static_cast<size_t>(
                std::count_if(help_lines.begin(), help_lines.end(),
                              [](absl::string_view line) {
                                return absl::StartsWith(line, "    --");
                              })),
            entries.size())
      << help;
  // Its own flags only: no per-file headers, none of Abseil's flags.
  for (const char* noise : {"Flags from", "--flagfile", "--undefok"}) {
    EXPECT_THAT(help, Not(HasSubstr(noise)));
  }
}

TEST(QueryServiceBinaryTest, HelpDocumentsEveryFlag) {
  // A few that must be among them, in case --helpfull changes its format.
  ExpectHelpDocumentsEveryFlag(
      QUERY_SERVICE_BINARY,
      {"--listen", "--command_service", "--max_message_bytes",
       "--tls_cert_file", "--health_check"});
}

TEST(CommandServiceBinaryTest, HelpDocumentsEveryFlag) {
  ExpectHelpDocumentsEveryFlag(
      COMMAND_SERVICE_BINARY,
      {"--listen", "--database_url", "--max_message_bytes", "--tls_cert_file",
       "--health_check"});
}

// --help prints every flag's default, so no default may come from a
// variable that can hold a secret.
TEST(ServiceBinariesTest, HelpShowsNoSecretFromTheEnvironment) {
  const std::vector<std::string> secrets = {
      "DATABASE_URL=postgresql://inventory:S3CRET-user-info@db/inventory"
      "?password=S3CRET-parameter",
      "WRITER_TOKEN=S3CRET-writer-0123456789",
      "READER_TOKEN=S3CRET-reader-0123456789",
      "COMMAND_SERVICE_TOKEN=S3CRET-upstream-0123456789"};
  for (const char* binary : {COMMAND_SERVICE_BINARY, QUERY_SERVICE_BINARY}) {
    std::vector<std::string> argv = {"/usr/bin/env"};
    argv.insert(argv.end(), secrets.begin(), secrets.end());
    argv.insert(argv.end(), {binary, "--help"});
    auto help = RunCommand(argv);
    EXPECT_THAT(help.output, HasSubstr("--listen")) << binary;
    EXPECT_THAT(help.output, Not(HasSubstr("S3CRET"))) << binary;
  }
  // Given as a flag, the URL shows in --help as its current value, with
  // the password masked.
  auto help = RunCommand(
      {COMMAND_SERVICE_BINARY,
       "--database_url=postgresql://inventory:S3CRET@db/inventory", "--help"});
  EXPECT_THAT(help.output, HasSubstr("postgresql://inventory:***@db"));
  EXPECT_THAT(help.output, Not(HasSubstr("S3CRET")));
}

TEST(CommandServiceBinaryTest, DatabaseUrlFromTheEnvironmentIsLoggedRedacted) {
  // libpq uses sslpassword only for an encrypted client key, so the
  // connection works as before.
  auto process = StartCommandService(
      absl::StrCat(*test_support::TestPostgres().CreateDatabase("redacted"),
                   "?sslpassword=S3CRET-in-url"));
  ASSERT_NE(process, nullptr);
  EXPECT_THAT(process->Log(), HasSubstr("sslpassword=***"));
  EXPECT_THAT(process->Log(), Not(HasSubstr("S3CRET")));
  EXPECT_THAT(process->Log(), Not(HasSubstr("NO DATABASE")));
}

TEST(CommandServiceBinaryTest, DatabaseUrlFlagWinsOverTheEnvironment) {
  // Given, even empty, the flag is used: here, events in memory.
  auto process = ServiceProcess::Start(
      COMMAND_SERVICE_BINARY, {"--listen=127.0.0.1:0", "--database_url="},
      {"DATABASE_URL=postgresql://nobody@127.0.0.1:1/none"});
  ASSERT_TRUE(process.ok()) << process.status();
  EXPECT_THAT((*process)->Log(), HasSubstr("store=in-memory"));
}

TEST(CommandServiceBinaryTest, BusyPortIsAClearError) {
  auto first =
      ServiceProcess::Start(COMMAND_SERVICE_BINARY, {"--listen=127.0.0.1:0"});
  ASSERT_TRUE(first.ok()) << first.status();
  auto second = RunCommand(
      {COMMAND_SERVICE_BINARY, absl::StrCat("--listen=", (*first)->address())},
      absl::Seconds(30));
  EXPECT_EQ(second.exit_code, 1) << second.output;
  EXPECT_THAT(second.output, HasSubstr("cannot listen on"));
}

}  // namespace
}  // namespace inventory
