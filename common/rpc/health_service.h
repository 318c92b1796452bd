// HealthService: the standard gRPC health checking service
// (grpc.health.v1.Health), implemented on the generated stubs so that
// server reflection can describe it and reflection clients can call it.
// (gRPC's built-in health service cannot be described through reflection.)
//
// It is served with gRPC's callback API: an open Watch stream holds no
// thread, only a little memory, so clients without a token (health
// checking needs none) cannot take the threads that commands need. Watch
// streams are capped all the same, in all and per client address.
#ifndef INVENTORY_COMMON_RPC_HEALTH_SERVICE_H_
#define INVENTORY_COMMON_RPC_HEALTH_SERVICE_H_

#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/synchronization/mutex.h"
#include "common/rpc/concurrency_limit.h"
#include "grpc/health/v1/health.grpc.pb.h"

namespace inventory {

// Thread-safe. Service "" is the server as a whole.
class HealthService final : public grpc::health::v1::Health::CallbackService {
 public:
  using ServingStatus = grpc::health::v1::HealthCheckResponse::ServingStatus;

  struct Options {
    // Watch streams open at once, and per client address; one more is
    // RESOURCE_EXHAUSTED, reason TOO_MANY_STREAMS.
    int64_t max_watches = 1000;
    int64_t max_watches_per_client = 10;
  };

  // Registers `services` (plus "") as NOT_SERVING.
  explicit HealthService(const std::vector<std::string>& services)
      : HealthService(services, Options()) {}
  HealthService(const std::vector<std::string>& services, Options options);
  ~HealthService() override;

  // Sets one service; unknown names are added.
  void Set(const std::string& service, ServingStatus status);
  // Sets every registered service, including "".
  void SetAll(ServingStatus status);
  // Sets everything NOT_SERVING and ends every Watch stream (UNAVAILABLE,
  // reason SHUTTING_DOWN).
  void Shutdown();

  // OK with the status; NOT_FOUND for an unknown service.
  grpc::ServerUnaryReactor* Check(
      grpc::CallbackServerContext* context,
      const grpc::health::v1::HealthCheckRequest* request,
      grpc::health::v1::HealthCheckResponse* response) override;
  // Sends the status now and after every change, until the client cancels
  // or Shutdown(); SERVICE_UNKNOWN while the service is not registered.
  grpc::ServerWriteReactor<grpc::health::v1::HealthCheckResponse>* Watch(
      grpc::CallbackServerContext* context,
      const grpc::health::v1::HealthCheckRequest* request) override;

  // Watch streams open now.
  int64_t watches() const { return watch_limit_.in_use(); }

 private:
  class Watcher;

  ServingStatus StatusOf(const std::string& service) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Tells every watcher its service's status.
  void Publish() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  ConcurrencyLimit watch_limit_;
  mutable absl::Mutex mu_;
  absl::flat_hash_map<std::string, ServingStatus> statuses_
      ABSL_GUARDED_BY(mu_);
  absl::flat_hash_set<Watcher*> watchers_ ABSL_GUARDED_BY(mu_);
  bool shut_down_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace inventory

#endif  // INVENTORY_COMMON_RPC_HEALTH_SERVICE_H_
