#include "common/grpc_server.h"

#include <algorithm>
#include <limits>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/grpc_credentials.h"

namespace inventory {
namespace {

int Milliseconds(absl::Duration duration) {
  return static_cast<int>(std::min<int64_t>(absl::ToInt64Milliseconds(duration),
                                            std::numeric_limits<int>::max()));
}

}  // namespace

absl::StatusOr<std::unique_ptr<GrpcServer>> StartGrpcServer(
    const GrpcServerSettings& settings,
    const std::vector<NamedService>& services, int* port) {
  auto running = std::make_unique<GrpcServer>();
  std::vector<std::string> names;
  for (const NamedService& named : services) names.push_back(named.name);
  running->reflection =
      std::make_unique<ServerReflection>(names, settings.reflection);

  grpc::ServerBuilder builder;
  AccessPolicy policy;
  policy.open_services = {"grpc.health.v1.Health"};
  policy.read_services = settings.read_services;
  for (const std::string& name : ServerReflection::ServiceNames()) {
    policy.read_services.push_back(name);
  }
  builder.AddListeningPort(
      settings.listen, ServerCredentialsFor(settings.security, policy), port);
  // Without this, gRPC binds with SO_REUSEPORT and a second server on the
  // same port would silently share it instead of failing.
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  builder.SetMaxReceiveMessageSize(settings.max_message_bytes);
  builder.SetMaxSendMessageSize(settings.max_message_bytes);
  builder.AddChannelArgument(GRPC_ARG_MAX_CONCURRENT_STREAMS,
                             settings.max_concurrent_streams);
  builder.AddChannelArgument(GRPC_ARG_MAX_CONNECTION_IDLE_MS,
                             Milliseconds(settings.max_connection_idle));
  builder.AddChannelArgument(GRPC_ARG_MAX_CONNECTION_AGE_MS,
                             Milliseconds(settings.max_connection_age));
  builder.AddChannelArgument(GRPC_ARG_MAX_CONNECTION_AGE_GRACE_MS,
                             Milliseconds(settings.max_connection_age_grace));
  grpc::ResourceQuota quota("inventory-server");
  quota.SetMaxThreads(settings.max_threads);
  builder.SetResourceQuota(quota);
  for (const NamedService& named : services) {
    builder.RegisterService(named.service);
  }
  for (grpc::Service* service : running->reflection->services()) {
    builder.RegisterService(service);
  }
  running->server = builder.BuildAndStart();
  if (running->server == nullptr || *port == 0) {
    return absl::UnavailableError(
        absl::StrCat("cannot listen on ", settings.listen,
                     " (is the address valid and the port free?",
                     settings.security.tls()
                         ? " Do the TLS certificate and key belong together?)"
                         : ")"));
  }
  return running;
}

std::string ClientAddress(absl::string_view peer) {
  if (!absl::StartsWith(peer, "ipv4:") && !absl::StartsWith(peer, "ipv6:")) {
    return std::string(peer);  // unix sockets and the like: as given
  }
  const size_t colon = peer.rfind(':');
  // "ipv6:[::1]:5000": the port follows the closing bracket.
  if (colon == absl::string_view::npos || colon < peer.find(':') + 1 ||
      (absl::StartsWith(peer, "ipv6:") && peer[colon - 1] != ']')) {
    return std::string(peer);
  }
  return std::string(peer.substr(0, colon));
}

}  // namespace inventory
