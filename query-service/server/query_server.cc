#include "query-service/server/query_server.h"

#include <grpcpp/ext/proto_server_reflection_plugin.h>

#include "absl/strings/str_cat.h"

namespace inventory {

QueryServer::QueryServer(const QueryServerOptions& options)
    : options_(options),
      query_service_(&model_, options.query),
      health_({inventory::v1::QueryService::service_full_name()}) {}

absl::StatusOr<std::unique_ptr<QueryServer>> QueryServer::Start(
    const QueryServerOptions& options) {
  std::unique_ptr<QueryServer> server(new QueryServer(options));
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  builder.AddListeningPort(options.listen, grpc::InsecureServerCredentials(),
                           &server->port_);
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  builder.SetMaxReceiveMessageSize(options.max_message_bytes);
  builder.SetMaxSendMessageSize(options.max_message_bytes);
  builder.AddChannelArgument(GRPC_ARG_MAX_CONCURRENT_STREAMS,
                             options.max_concurrent_streams);
  grpc::ResourceQuota quota("query-service");
  quota.SetMaxThreads(options.max_threads);
  builder.SetResourceQuota(quota);
  builder.RegisterService(&server->query_service_);
  builder.RegisterService(&server->health_);
  server->server_ = builder.BuildAndStart();
  if (server->server_ == nullptr || server->port_ == 0) {
    server->server_.reset();
    return absl::UnavailableError(
        absl::StrCat("cannot listen on ", options.listen,
                     " (is the address valid and the port free?)"));
  }

  grpc::ChannelArguments channel_args;
  channel_args.SetMaxReceiveMessageSize(options.max_message_bytes);
  // Reconnect quickly after the command-service comes back.
  channel_args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
  channel_args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 2000);
  auto channel = grpc::CreateCustomChannel(options.command_service,
                                           grpc::InsecureChannelCredentials(),
                                           channel_args);
  HealthService* health = &server->health_;
  server->subscriber_ = std::make_unique<EventSubscriber>(
      channel, &server->model_, options.subscriber, [health] {
        health->SetAll(grpc::health::v1::HealthCheckResponse::SERVING);
      });
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
    server_->Shutdown(absl::ToChronoTime(absl::Now() + grace));
    server_->Wait();
  }
}

}  // namespace inventory
