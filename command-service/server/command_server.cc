#include "command-service/server/command_server.h"

#include <grpcpp/ext/proto_server_reflection_plugin.h>

#include "absl/strings/str_cat.h"
#include "common/log.h"

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
      health_(ServiceNames()) {}

absl::StatusOr<std::unique_ptr<CommandServer>> CommandServer::Start(
    EventStore* store, const CommandServerOptions& options) {
  std::unique_ptr<CommandServer> server(new CommandServer(store, options));
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  builder.AddListeningPort(options.listen, grpc::InsecureServerCredentials(),
                           &server->port_);
  builder.SetMaxReceiveMessageSize(options.max_message_bytes);
  builder.SetMaxSendMessageSize(options.max_message_bytes);
  // Without this, gRPC binds with SO_REUSEPORT and a second server on the
  // same port would silently share it instead of failing.
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  builder.AddChannelArgument(GRPC_ARG_MAX_CONCURRENT_STREAMS,
                             options.max_concurrent_streams);
  grpc::ResourceQuota quota("command-service");
  quota.SetMaxThreads(options.max_threads);
  builder.SetResourceQuota(quota);
  builder.RegisterService(&server->command_service_);
  builder.RegisterService(&server->event_stream_service_);
  builder.RegisterService(&server->health_);
  server->server_ = builder.BuildAndStart();
  if (server->server_ == nullptr || server->port_ == 0) {
    server->server_.reset();
    return absl::UnavailableError(
        absl::StrCat("cannot listen on ", options.listen,
                     " (is the address valid and the port free?)"));
  }
  server->ProbeDatabase();
  server->prober_ = std::thread([s = server.get()] { s->ProbeLoop(); });
  return server;
}

CommandServer::~CommandServer() { Shutdown(absl::Seconds(5)); }

void CommandServer::ProbeDatabase() {
  const absl::StatusOr<int64_t> head = store_->HeadPosition();
  health_.SetAll(head.ok() ? HealthCheckResponse::SERVING
                           : HealthCheckResponse::NOT_SERVING);
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
    server_->Shutdown(absl::ToChronoTime(absl::Now() + grace));
    server_->Wait();
  }
}

}  // namespace inventory
