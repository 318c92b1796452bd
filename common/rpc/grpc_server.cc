#include "common/rpc/grpc_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <algorithm>
#include <limits>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "common/rpc/security/grpc_credentials.h"

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
  absl::string_view rest = peer;
  if (absl::ConsumePrefix(&rest, "ipv4:")) {
    const size_t colon = rest.rfind(':');
    if (colon == absl::string_view::npos) return std::string(peer);
    return absl::StrCat("ipv4:", rest.substr(0, colon));
  }
  if (!absl::ConsumePrefix(&rest, "ipv6:")) {
    return std::string(peer);  // unix sockets and the like: as given
  }
  // "[addr]:port", or, as gRPC writes it, "%5Baddr%5D:port".
  absl::string_view host;
  if (absl::ConsumePrefix(&rest, "[")) {
    host = rest.substr(0, rest.find(']'));
  } else if (absl::ConsumePrefix(&rest, "%5B") ||
             absl::ConsumePrefix(&rest, "%5b")) {
    const size_t end = std::min(rest.find("%5D"), rest.find("%5d"));
    host = rest.substr(0, end);
  } else {
    return std::string(peer);
  }
  host = host.substr(0, host.find('%'));  // a zone: "fe80::1%25eth0"
  in6_addr address;
  if (inet_pton(AF_INET6, std::string(host).c_str(), &address) != 1) {
    return std::string(peer);
  }
  char text[INET6_ADDRSTRLEN];
  if (IN6_IS_ADDR_V4MAPPED(&address)) {
    // An IPv4 client of a dual-stack socket: the same client as over IPv4.
    inet_ntop(AF_INET, &address.s6_addr[12], text, sizeof(text));
    return absl::StrCat("ipv4:", text);
  }
  // One host usually holds a whole /64 (SLAAC, privacy addresses): it
  // counts as one client, whichever of its addresses it uses.
  std::fill(&address.s6_addr[8], &address.s6_addr[16], 0);
  inet_ntop(AF_INET6, &address, text, sizeof(text));
  return absl::StrCat("ipv6:", text, "/64");
}

}  // namespace inventory
