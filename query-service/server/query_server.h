// QueryServer: the whole read side as one gRPC server: the read model, the
// subscriber that feeds it from the command-service, QueryService, health
// checking and server reflection. main.cc runs one; tests run one
// in-process.
//
// Health is NOT_SERVING until the subscriber has caught up with the event
// log for the first time, then SERVING: a load balancer never routes a
// query to a replica that is still rebuilding. It turns NOT_SERVING again
// while the read model is stopped at an event it cannot project, or is
// being rebuilt because the log became shorter (event_subscriber.h). Each
// change is logged once with its reason ("health: SERVING (caught up with
// the event log at position 34)").
#ifndef INVENTORY_QUERY_SERVICE_SERVER_QUERY_SERVER_H_
#define INVENTORY_QUERY_SERVICE_SERVER_QUERY_SERVER_H_

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "common/rpc/grpc_server.h"
#include "common/rpc/health_service.h"
#include "common/rpc/security/security_config.h"
#include "query-service/read_model/inventory_read_model.h"
#include "query-service/server/query_service.h"
#include "query-service/subscriber/event_subscriber.h"

namespace inventory {

struct QueryServerOptions {
  // host:port to listen on; port 0 picks a free port (see port()).
  std::string listen = "127.0.0.1:50052";
  // host:port of the command-service whose event stream feeds the model.
  std::string command_service = "127.0.0.1:50051";
  // How the subscription reaches it: TLS (verifying the command-service's
  // certificate) and the token it presents; default plaintext, no token.
  ChannelSecurity command_service_security;
  // This server's TLS and bearer tokens (off by default). With tokens,
  // QueryService and reflection take the reader or the writer token;
  // health checking none.
  ServerSecurity security;
  int max_message_bytes = 4 << 20;
  int max_concurrent_streams = 100;
  int max_threads = 512;
  // Caps on health Watch and reflection streams (served on the callback
  // API: they hold no thread).
  HealthService::Options health;
  ServerReflection::Options reflection;
  QueryService::Options query;
  EventSubscriber::Options subscriber;
};

// Thread-safe.
class QueryServer {
 public:
  // Starts serving (NOT_SERVING) and subscribing. UNAVAILABLE when the
  // address cannot be bound; INVALID_ARGUMENT when query.list_scan_limit
  // is below 1.
  static absl::StatusOr<std::unique_ptr<QueryServer>> Start(
      const QueryServerOptions& options);
  ~QueryServer();

  int port() const { return port_; }
  const InventoryReadModel& model() const { return model_; }
  const EventSubscriber& subscriber() const { return *subscriber_; }
  const QueryService& query_service() const { return query_service_; }
  HealthService& health() { return health_; }

  // Health NOT_SERVING, subscription stopped, streams end, in-flight calls
  // get `grace`. Idempotent.
  void Shutdown(absl::Duration grace);

 private:
  explicit QueryServer(const QueryServerOptions& options);

  const QueryServerOptions options_;
  InventoryReadModel model_;
  QueryService query_service_;
  HealthService health_;
  std::unique_ptr<EventSubscriber> subscriber_;
  std::unique_ptr<GrpcServer> server_;
  int port_ = 0;
  absl::Mutex mu_;
  bool shut_down_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace inventory

#endif  // INVENTORY_QUERY_SERVICE_SERVER_QUERY_SERVER_H_
