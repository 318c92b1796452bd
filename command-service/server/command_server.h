// CommandServer: the whole write side as one gRPC server: CommandService,
// EventStreamService, health checking (grpc.health.v1.Health) and server
// reflection, on top of an EventStore. main.cc turns flags into Options and
// runs one; tests run one in-process on a free port.
#ifndef INVENTORY_COMMAND_SERVICE_SERVER_COMMAND_SERVER_H_
#define INVENTORY_COMMAND_SERVICE_SERVER_COMMAND_SERVER_H_

#include <grpcpp/grpcpp.h>

#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "command-service/application/item_command_handler.h"
#include "command-service/server/command_service.h"
#include "command-service/server/event_stream_service.h"
#include "command-service/server/live_event_buffer.h"
#include "common/eventstore/event_store.h"
#include "common/rpc/grpc_server.h"
#include "common/rpc/health_service.h"
#include "common/rpc/security/security_config.h"

namespace inventory {

struct CommandServerOptions {
  // host:port to listen on; port 0 picks a free port (see port()).
  std::string listen = "127.0.0.1:50051";
  int max_message_bytes = 4 << 20;   // per request and response
  int max_concurrent_streams = 100;  // per client connection
  int max_threads = 512;             // gRPC threads; each subscriber uses one
  // TLS and bearer tokens (off by default). With tokens, CommandService
  // takes the writer token; EventStreamService and reflection the reader
  // or the writer token; health checking none.
  ServerSecurity security;
  // How often the database is probed for the health status.
  absl::Duration health_probe_interval = absl::Seconds(2);
  // Caps on health Watch and reflection streams (served on the callback
  // API: they hold no thread).
  HealthService::Options health;
  ServerReflection::Options reflection;
  ItemCommandHandler::Options handler;
  EventStreamService::Options stream;
  LiveEventBuffer::Options live;
};

// Thread-safe.
class CommandServer {
 public:
  // Builds and starts the server. `store` must outlive it. UNAVAILABLE when
  // the address cannot be bound (e.g. the port is in use).
  static absl::StatusOr<std::unique_ptr<CommandServer>> Start(
      EventStore* store, const CommandServerOptions& options);

  // Shuts down (with a 5 second grace period) unless already done.
  ~CommandServer();

  // The port actually bound.
  int port() const { return port_; }
  HealthService& health() { return health_; }
  const LiveEventBuffer& live_buffer() const { return live_; }
  const EventStreamService& event_stream_service() const {
    return event_stream_service_;
  }

  // Health NOT_SERVING, streams end with UNAVAILABLE, in-flight unary calls
  // get `grace` to finish, then the server stops. Idempotent.
  void Shutdown(absl::Duration grace);

 private:
  CommandServer(EventStore* store, const CommandServerOptions& options);
  // Sets health from one probe of the store, and logs a change of it
  // ("health: SERVING (database answers again)", "health: NOT_SERVING
  // (database unreachable: <reason>)").
  void ProbeDatabase();
  void ProbeLoop();

  EventStore* const store_;
  const CommandServerOptions options_;
  ItemCommandHandler handler_;
  LiveEventBuffer live_;
  CommandService command_service_;
  EventStreamService event_stream_service_;
  HealthService health_;
  std::unique_ptr<GrpcServer> server_;
  int port_ = 0;

  absl::Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  bool shut_down_ ABSL_GUARDED_BY(mu_) = false;
  std::thread prober_;
  // Whether the last probe's store answered (nullopt: no probe yet).
  // Touched by Start()'s first probe, then by the probing thread only.
  std::optional<bool> database_answered_;
};

}  // namespace inventory

#endif  // INVENTORY_COMMAND_SERVICE_SERVER_COMMAND_SERVER_H_
