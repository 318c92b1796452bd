// StartGrpcServer: how both services build their gRPC server, in one place:
// listening address, limits, reflection, TLS and bearer tokens, and a clear
// error when the address cannot be bound.
#ifndef INVENTORY_COMMON_RPC_GRPC_SERVER_H_
#define INVENTORY_COMMON_RPC_GRPC_SERVER_H_

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/rpc/security/security_config.h"
#include "common/rpc/server_reflection.h"

namespace inventory {

struct GrpcServerSettings {
  std::string listen;          // host:port; port 0 picks a free one
  int max_message_bytes;       // per request and response
  int max_concurrent_streams;  // per client connection
  int max_threads;             // gRPC worker threads
  // TLS and bearer tokens; default: plaintext, every call allowed.
  ServerSecurity security;
  // With tokens: the services (full names) that the reader token may call
  // besides server reflection. Health checking needs no token; every other
  // service needs the writer token.
  std::vector<std::string> read_services;
  // A connection with no call open for this long is closed (GOAWAY).
  absl::Duration max_connection_idle = absl::Minutes(5);
  // A connection older than this is asked to go away (GOAWAY: new calls on
  // a new connection, which lets a balancer spread clients again); calls
  // still open on it get max_connection_age_grace more, then are cut.
  absl::Duration max_connection_age = absl::Hours(1);
  absl::Duration max_connection_age_grace = absl::Hours(1);
  ServerReflection::Options reflection;
};

// Settings from a server's options (CommandServerOptions,
// QueryServerOptions: the fields of the same names), and the services the
// reader token may call.
template <typename ServerOptions>
GrpcServerSettings SettingsFrom(const ServerOptions& options,
                                std::vector<std::string> read_services) {
  GrpcServerSettings settings;
  settings.listen = options.listen;
  settings.max_message_bytes = options.max_message_bytes;
  settings.max_concurrent_streams = options.max_concurrent_streams;
  settings.max_threads = options.max_threads;
  settings.security = options.security;
  settings.reflection = options.reflection;
  settings.read_services = std::move(read_services);
  return settings;
}

// A service to register, with its full name (for reflection's list).
struct NamedService {
  std::string name;
  grpc::Service* service;
};

// The running server and what it owns. Destroying it stops the server
// (the reflection services outlive it).
struct GrpcServer {
  std::unique_ptr<ServerReflection> reflection;
  std::unique_ptr<grpc::Server> server;  // last: destroyed first
};

// Registers `services` (which must outlive the server) plus server
// reflection (both versions, on the callback API), and starts serving.
// Sets *port to the bound port. The port is bound exclusively (no
// SO_REUSEPORT), so a second server on a busy port fails: UNAVAILABLE
// "cannot listen on ..." (which also names the TLS certificate and key as
// a possible cause when TLS is on: gRPC refuses a key that does not match
// its certificate at this point).
absl::StatusOr<std::unique_ptr<GrpcServer>> StartGrpcServer(
    const GrpcServerSettings& settings,
    const std::vector<NamedService>& services, int* port);

// The client, from ServerContext::peer(), as limits per client count it:
// an IPv4 address without its port ("ipv4:10.0.0.7:53211" ->
// "ipv4:10.0.0.7"), an IPv6 address's /64 ("ipv6:%5B2001:db8::7%5D:5000"
// -> "ipv6:2001:db8::/64"; an IPv4-mapped one as IPv4). Every connection
// of one host counts as one client; behind a proxy or a NAT (Docker's
// published ports included), every client is the proxy. Anything else is
// returned as given.
std::string ClientAddress(absl::string_view peer);

}  // namespace inventory

#endif  // INVENTORY_COMMON_RPC_GRPC_SERVER_H_
