// StartGrpcServer: how both services build their gRPC server, in one place:
// listening address, limits, reflection, TLS and bearer tokens, and a clear
// error when the address cannot be bound.
#ifndef INVENTORY_COMMON_GRPC_SERVER_H_
#define INVENTORY_COMMON_GRPC_SERVER_H_

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/security_config.h"

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
};

// Registers `services` (which must outlive the server) plus server
// reflection, and starts serving. Sets *port to the bound port. The port is
// bound exclusively (no SO_REUSEPORT), so a second server on a busy port
// fails: UNAVAILABLE "cannot listen on ..." (which also names the TLS
// certificate and key as a possible cause when TLS is on: gRPC refuses a
// key that does not match its certificate at this point).
absl::StatusOr<std::unique_ptr<grpc::Server>> StartGrpcServer(
    const GrpcServerSettings& settings,
    const std::vector<grpc::Service*>& services, int* port);

}  // namespace inventory

#endif  // INVENTORY_COMMON_GRPC_SERVER_H_
