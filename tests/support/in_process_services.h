// The services of an integration test in this process: a CommandServer on
// a store the test owns, and a QueryServer following a command-service,
// each listening on loopback (a free port, or a given one to come back on
// after a restart), with the generated stubs on a channel to it
// (channels.h): plaintext, or TLS when the server's options.security has a
// certificate and the test passes the CA that signed it. The counterpart
// of inventory_system.h, which runs the real binaries.
//
//   InMemoryEventStore store;
//   auto command = StartInProcessCommandService(&store, command_options);
//   query_options.command_service = (*command)->address();
//   auto query = StartInProcessQueryService(query_options);
//
// Several command servers may share one database: each on a store of its
// own opened on the same URL. Bearer tokens are the calls' business (an
// "authorization" header on each ClientContext), not the channel's.
//
// Destroying one stops its server (at once, without a grace period).
#ifndef INVENTORY_TESTS_SUPPORT_IN_PROCESS_SERVICES_H_
#define INVENTORY_TESTS_SUPPORT_IN_PROCESS_SERVICES_H_

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "command-service/server/command_server.h"
#include "common/eventstore/event_store.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "inventory/v1/command_service.grpc.pb.h"
#include "inventory/v1/event_stream_service.grpc.pb.h"
#include "inventory/v1/query_service.grpc.pb.h"
#include "query-service/server/query_server.h"

namespace inventory::test_support {

// A running CommandServer and stubs on a channel to it. Members are
// destroyed in reverse: the stubs, then the server.
struct InProcessCommandService {
  std::unique_ptr<CommandServer> server;
  std::shared_ptr<grpc::Channel> channel;
  std::unique_ptr<v1::CommandService::Stub> commands;
  std::unique_ptr<v1::EventStreamService::Stub> events;
  std::unique_ptr<grpc::health::v1::Health::Stub> health;

  // "127.0.0.1:<port>".
  std::string address() const;
};

// Starts a CommandServer on `store` (not owned; it must outlive the
// server) with `options` (options.listen: "127.0.0.1:0" for a free port).
// The stubs' channel speaks TLS trusting `root_certificates` (PEM) when
// given, for a server whose options.security has a certificate; else
// plaintext. INVALID_ARGUMENT, and no server, when only one of the two is
// given: a test meant for TLS never runs in plaintext by mistake.
absl::StatusOr<std::unique_ptr<InProcessCommandService>>
StartInProcessCommandService(EventStore* store,
                             const CommandServerOptions& options,
                             const std::string& root_certificates = "");

// A running QueryServer and stubs on a channel to it.
struct InProcessQueryService {
  std::unique_ptr<QueryServer> server;
  std::shared_ptr<grpc::Channel> channel;
  std::unique_ptr<v1::QueryService::Stub> queries;
  std::unique_ptr<grpc::health::v1::Health::Stub> health;

  std::string address() const;
};

// Starts a QueryServer with `options` (options.command_service: the
// command-service to follow). It need not be SERVING yet. The stubs'
// channel speaks TLS trusting `root_certificates` when given, as above.
absl::StatusOr<std::unique_ptr<InProcessQueryService>>
StartInProcessQueryService(const QueryServerOptions& options,
                           const std::string& root_certificates = "");

}  // namespace inventory::test_support

#endif  // INVENTORY_TESTS_SUPPORT_IN_PROCESS_SERVICES_H_
