#include "tests/support/inventory_system.h"

#include <signal.h>

#include <utility>

#include "absl/strings/str_cat.h"
#include "tests/support/channels.h"
#include "tests/support/health_probe.h"

namespace inventory::test_support {

absl::StatusOr<std::unique_ptr<InventorySystem>> InventorySystem::Start(
    InventorySystemOptions options) {
  std::unique_ptr<InventorySystem> system(
      new InventorySystem(std::move(options)));
  const InventorySystemOptions& o = system->options_;
  if (o.postgres != nullptr) {
    absl::StatusOr<std::string> url =
        o.postgres->CreateDatabase(o.database_prefix);
    if (!url.ok()) return url.status();
    system->database_url_ = *url;
  }
  if (absl::Status started = system->StartCommandService(0); !started.ok()) {
    return started;
  }
  system->command_port_ = system->command_->port();
  system->command_channel_ =
      ChannelTo(system->command_address(), o.root_certificates);
  const auto& channel = system->command_channel_;
  system->commands_ = v1::CommandService::NewStub(channel);
  system->events_ = v1::EventStreamService::NewStub(channel);
  system->command_health_ = grpc::health::v1::Health::NewStub(channel);
  if (o.start_query_service) {
    if (absl::Status started = system->StartQueryService(); !started.ok()) {
      return started;
    }
    if (o.await_query_serving && !system->AwaitQueryServing(o.start_timeout)) {
      return absl::DeadlineExceededError(absl::StrCat(
          "the query-service is not SERVING after ",
          absl::FormatDuration(o.start_timeout), ":\n", system->query_->Log()));
    }
  }
  return system;
}

InventorySystem::~InventorySystem() {
  query_.reset();
  command_.reset();
}

absl::Status InventorySystem::StartCommandService(int port) {
  command_.reset();  // kills the one it replaces, if still running
  std::vector<std::string> args = {absl::StrCat("--listen=127.0.0.1:", port)};
  std::vector<std::string> env = options_.command_env;
  if (options_.database_url_in_environment && !database_url_.empty()) {
    env.push_back(absl::StrCat("DATABASE_URL=", database_url_));
  } else {
    args.push_back(absl::StrCat("--database_url=", database_url_));
  }
  args.insert(args.end(), options_.command_flags.begin(),
              options_.command_flags.end());
  absl::StatusOr<std::unique_ptr<ServiceProcess>> process =
      ServiceProcess::Start(options_.command_binary, args, env,
                            options_.start_timeout);
  if (!process.ok()) return process.status();
  command_ = std::move(*process);
  return absl::OkStatus();
}

absl::Status InventorySystem::StartQueryService() {
  return StartQueryService(options_.query_flags);
}

absl::Status InventorySystem::StartQueryService(
    const std::vector<std::string>& flags) {
  query_.reset();
  std::vector<std::string> args = {
      "--listen=127.0.0.1:0",
      absl::StrCat("--command_service=", command_address())};
  args.insert(args.end(), flags.begin(), flags.end());
  absl::StatusOr<std::unique_ptr<ServiceProcess>> process =
      ServiceProcess::Start(options_.query_binary, args, {},
                            options_.start_timeout);
  if (!process.ok()) return process.status();
  query_ = std::move(*process);
  query_channel_ = ChannelTo(query_->address(), options_.root_certificates);
  queries_ = v1::QueryService::NewStub(query_channel_);
  query_health_ = grpc::health::v1::Health::NewStub(query_channel_);
  return absl::OkStatus();
}

absl::Status InventorySystem::RestartCommandService() {
  return StartCommandService(command_port_);
}

absl::Status InventorySystem::RestartCommandService(
    const std::string& database_url) {
  database_url_ = database_url;
  return StartCommandService(command_port_);
}

absl::StatusOr<int> InventorySystem::StopCommandService(
    absl::Duration timeout) {
  command_->Signal(SIGTERM);
  return command_->Wait(timeout);
}

bool InventorySystem::AwaitQueryServing(absl::Duration timeout) {
  return AwaitHealth(*query_health_, "",
                     grpc::health::v1::HealthCheckResponse::SERVING, timeout);
}

std::string InventorySystem::command_address() const {
  return LoopbackAddress(command_port_ != 0 ? command_port_ : command_->port());
}

}  // namespace inventory::test_support
