#include "command-service/server/command_server.h"

#include "common/base/log.h"
#include "common/rpc/grpc_server.h"

namespace inventory {
namespace {

using grpc::health::v1::HealthCheckResponse;

const std::vector<std::string>& ServiceNames() {
  static const auto* names = new std::vector<std::string>{
      inventory::v1::CommandService::service_full_name(),
      inventory::v1::EventStreamService::service_full_name(),
  };
  return *names;
}

}  // namespace

CommandServer::CommandServer(EventStore* store,
                             const CommandServerOptions& options)
    : store_(store),
      options_(options),
      handler_(store, options.handler),
      live_(store, options.live),
      command_service_(&handler_),
      event_stream_service_(store, &live_, options.stream),
      health_(ServiceNames(), options.health) {}

absl::StatusOr<std::unique_ptr<CommandServer>> CommandServer::Start(
    EventStore* store, const CommandServerOptions& options) {
  std::unique_ptr<CommandServer> server(new CommandServer(store, options));
  absl::StatusOr<std::unique_ptr<GrpcServer>> grpc_server = StartGrpcServer(
      SettingsFrom(options,
                   {inventory::v1::EventStreamService::service_full_name()}),
      {{inventory::v1::CommandService::service_full_name(),
        &server->command_service_},
       {inventory::v1::EventStreamService::service_full_name(),
        &server->event_stream_service_},
       {grpc::health::v1::Health::service_full_name(), &server->health_}},
      &server->port_);
  if (!grpc_server.ok()) return grpc_server.status();
  server->server_ = std::move(*grpc_server);
  server->ProbeDatabase();
  server->prober_ = std::thread([s = server.get()] { s->ProbeLoop(); });
  return server;
}

CommandServer::~CommandServer() { Shutdown(absl::Seconds(5)); }

void CommandServer::ProbeDatabase() {
  const absl::StatusOr<int64_t> head = store_->HeadPosition();
  const bool answers = head.ok();
  health_.SetAll(answers ? HealthCheckResponse::SERVING
                         : HealthCheckResponse::NOT_SERVING);
  // A change is logged once, not every probe.
  if (database_answered_.has_value() && *database_answered_ == answers) return;
  if (answers) {
    LogInfo("health: SERVING (database answers",
            database_answered_.has_value() ? " again" : "", ")");
  } else {
    // The first line of the store's message is reason enough; the rest
    // (a libpq hint, a query) would repeat it.
    const absl::string_view message = head.status().message();
    LogWarning("health: NOT_SERVING (database unreachable: ",
               EscapeForLog(message.substr(0, message.find('\n')), 160), ")");
  }
  database_answered_ = answers;
}

void CommandServer::ProbeLoop() {
  for (;;) {
    {
      absl::MutexLock lock(&mu_);
      mu_.AwaitWithTimeout(absl::Condition(&stopping_),
                           options_.health_probe_interval);
      if (stopping_) return;
    }
    ProbeDatabase();
  }
}

void CommandServer::Shutdown(absl::Duration grace) {
  {
    absl::MutexLock lock(&mu_);
    if (shut_down_) return;
    shut_down_ = true;
    stopping_ = true;
  }
  if (prober_.joinable()) prober_.join();
  health_.Shutdown();
  event_stream_service_.BeginShutdown();
  live_.Stop();
  if (server_ != nullptr) {
    server_->server->Shutdown(absl::ToChronoTime(absl::Now() + grace));
    server_->server->Wait();
  }
}

}  // namespace inventory
