// HealthService: the standard gRPC health checking service
// (grpc.health.v1.Health), implemented on the generated stubs so that
// server reflection can describe it and reflection clients can call it.
// (gRPC's built-in health service cannot be described through reflection.)
#ifndef INVENTORY_COMMON_HEALTH_SERVICE_H_
#define INVENTORY_COMMON_HEALTH_SERVICE_H_

#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "grpc/health/v1/health.grpc.pb.h"

namespace inventory {

// Thread-safe. Service "" is the server as a whole.
class HealthService final : public grpc::health::v1::Health::Service {
 public:
  using ServingStatus = grpc::health::v1::HealthCheckResponse::ServingStatus;

  // Registers `services` (plus "") as NOT_SERVING.
  explicit HealthService(const std::vector<std::string>& services);

  // Sets one service; unknown names are added.
  void Set(const std::string& service, ServingStatus status);
  // Sets every registered service, including "".
  void SetAll(ServingStatus status);
  // Sets everything NOT_SERVING and ends every Watch stream.
  void Shutdown();

  // OK with the status; NOT_FOUND for an unknown service.
  grpc::Status Check(grpc::ServerContext* context,
                     const grpc::health::v1::HealthCheckRequest* request,
                     grpc::health::v1::HealthCheckResponse* response) override;
  // Sends the status now and after every change, until the client cancels
  // or Shutdown(); SERVICE_UNKNOWN while the service is not registered.
  grpc::Status Watch(grpc::ServerContext* context,
                     const grpc::health::v1::HealthCheckRequest* request,
                     grpc::ServerWriter<grpc::health::v1::HealthCheckResponse>*
                         writer) override;

 private:
  ServingStatus StatusOf(const std::string& service) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  mutable absl::Mutex mu_;
  absl::flat_hash_map<std::string, ServingStatus> statuses_
      ABSL_GUARDED_BY(mu_);
  int64_t generation_ ABSL_GUARDED_BY(mu_) = 0;  // bumped on every change
  bool shut_down_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace inventory

#endif  // INVENTORY_COMMON_HEALTH_SERVICE_H_
