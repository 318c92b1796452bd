#include "query-service/server/query_server.h"

#include "absl/status/status.h"
#include "common/base/log.h"
#include "common/rpc/grpc_server.h"
#include "common/rpc/security/grpc_credentials.h"

namespace inventory {

QueryServer::QueryServer(const QueryServerOptions& options)
    : options_(options),
      query_service_(&model_, options.query),
      health_({inventory::v1::QueryService::service_full_name()},
              options.health) {}

absl::StatusOr<std::unique_ptr<QueryServer>> QueryServer::Start(
    const QueryServerOptions& options) {
  if (options.query.list_scan_limit < 1) {
    return absl::InvalidArgumentError(
        "list_scan_limit must be at least 1 (items one ListItems call may "
        "check)");
  }
  std::unique_ptr<QueryServer> server(new QueryServer(options));
  absl::StatusOr<std::unique_ptr<GrpcServer>> grpc_server = StartGrpcServer(
      SettingsFrom(options, {inventory::v1::QueryService::service_full_name()}),
      {{inventory::v1::QueryService::service_full_name(),
        &server->query_service_},
       {grpc::health::v1::Health::service_full_name(), &server->health_}},
      &server->port_);
  if (!grpc_server.ok()) return grpc_server.status();
  server->server_ = std::move(*grpc_server);

  grpc::ChannelArguments channel_args;
  channel_args.SetMaxReceiveMessageSize(options.max_message_bytes);
  // Reconnect quickly after the command-service comes back.
  channel_args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
  channel_args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 2000);
  auto channel = CreateChannelWith(
      options.command_service, options.command_service_security, channel_args);
  HealthService* health = &server->health_;
  server->subscriber_ = std::make_unique<EventSubscriber>(
      channel, &server->model_, options.subscriber,
      [health](bool serving, const std::string& why) {
        // The subscriber calls only on a change: one line per change.
        LogInfo("health: ", serving ? "SERVING" : "NOT_SERVING", " (", why,
                ")");
        health->SetAll(
            serving ? grpc::health::v1::HealthCheckResponse::SERVING
                    : grpc::health::v1::HealthCheckResponse::NOT_SERVING);
      });
  LogInfo("health: NOT_SERVING (not caught up with the event log yet)");
  server->subscriber_->Start();
  return server;
}

QueryServer::~QueryServer() { Shutdown(absl::Seconds(5)); }

void QueryServer::Shutdown(absl::Duration grace) {
  {
    absl::MutexLock lock(&mu_);
    if (shut_down_) return;
    shut_down_ = true;
  }
  health_.Shutdown();
  query_service_.BeginShutdown();
  if (subscriber_ != nullptr) subscriber_->Stop();
  if (server_ != nullptr) {
    server_->server->Shutdown(absl::ToChronoTime(absl::Now() + grace));
    server_->server->Wait();
  }
}

}  // namespace inventory
