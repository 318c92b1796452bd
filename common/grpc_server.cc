#include "common/grpc_server.h"

#include <grpcpp/ext/proto_server_reflection_plugin.h>

#include "absl/strings/str_cat.h"
#include "common/grpc_credentials.h"

namespace inventory {

absl::StatusOr<std::unique_ptr<grpc::Server>> StartGrpcServer(
    const GrpcServerSettings& settings,
    const std::vector<grpc::Service*>& services, int* port) {
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  AccessPolicy policy;
  policy.open_services = {"grpc.health.v1.Health"};
  policy.read_services = settings.read_services;
  policy.read_services.push_back("grpc.reflection.v1alpha.ServerReflection");
  policy.read_services.push_back("grpc.reflection.v1.ServerReflection");
  builder.AddListeningPort(
      settings.listen, ServerCredentialsFor(settings.security, policy), port);
  // Without this, gRPC binds with SO_REUSEPORT and a second server on the
  // same port would silently share it instead of failing.
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  builder.SetMaxReceiveMessageSize(settings.max_message_bytes);
  builder.SetMaxSendMessageSize(settings.max_message_bytes);
  builder.AddChannelArgument(GRPC_ARG_MAX_CONCURRENT_STREAMS,
                             settings.max_concurrent_streams);
  grpc::ResourceQuota quota("inventory-server");
  quota.SetMaxThreads(settings.max_threads);
  builder.SetResourceQuota(quota);
  for (grpc::Service* service : services) builder.RegisterService(service);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (server == nullptr || *port == 0) {
    return absl::UnavailableError(
        absl::StrCat("cannot listen on ", settings.listen,
                     " (is the address valid and the port free?",
                     settings.security.tls()
                         ? " Do the TLS certificate and key belong together?)"
                         : ")"));
  }
  return server;
}

}  // namespace inventory
