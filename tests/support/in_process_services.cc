#include "tests/support/in_process_services.h"

#include <utility>

#include "common/base/status_macros.h"
#include "tests/support/channels.h"

namespace inventory::test_support {
namespace {

// A server on TLS needs a CA for its stubs, and a CA only makes sense for a
// server on TLS: a mismatch is the test's mistake, not a silent plaintext
// channel (or one that cannot connect).
absl::Status CheckStubsMatchServer(const ServerSecurity& security,
                                   const std::string& root_certificates) {
  if (security.tls() && root_certificates.empty()) {
    return absl::InvalidArgumentError(
        "the server uses TLS: give the CA that signed its certificate");
  }
  if (!security.tls() && !root_certificates.empty()) {
    return absl::InvalidArgumentError(
        "a CA was given for a server without TLS");
  }
  return absl::OkStatus();
}

}  // namespace

std::string InProcessCommandService::address() const {
  return LoopbackAddress(server->port());
}

std::string InProcessQueryService::address() const {
  return LoopbackAddress(server->port());
}

absl::StatusOr<std::unique_ptr<InProcessCommandService>>
StartInProcessCommandService(EventStore* store,
                             const CommandServerOptions& options,
                             const std::string& root_certificates) {
  INVENTORY_RETURN_IF_ERROR(
      CheckStubsMatchServer(options.security, root_certificates));
  absl::StatusOr<std::unique_ptr<CommandServer>> server =
      CommandServer::Start(store, options);
  if (!server.ok()) return server.status();
  auto service = std::make_unique<InProcessCommandService>();
  service->server = std::move(*server);
  service->channel = ChannelTo(service->address(), root_certificates);
  service->commands = v1::CommandService::NewStub(service->channel);
  service->events = v1::EventStreamService::NewStub(service->channel);
  service->health = grpc::health::v1::Health::NewStub(service->channel);
  return service;
}

absl::StatusOr<std::unique_ptr<InProcessQueryService>>
StartInProcessQueryService(const QueryServerOptions& options,
                           const std::string& root_certificates) {
  INVENTORY_RETURN_IF_ERROR(
      CheckStubsMatchServer(options.security, root_certificates));
  absl::StatusOr<std::unique_ptr<QueryServer>> server =
      QueryServer::Start(options);
  if (!server.ok()) return server.status();
  auto service = std::make_unique<InProcessQueryService>();
  service->server = std::move(*server);
  service->channel = ChannelTo(service->address(), root_certificates);
  service->queries = v1::QueryService::NewStub(service->channel);
  service->health = grpc::health::v1::Health::NewStub(service->channel);
  return service;
}

}  // namespace inventory::test_support
