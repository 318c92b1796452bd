#include "common/health_service.h"

namespace inventory {
namespace {

using grpc::health::v1::HealthCheckResponse;

// How often a Watch stream checks whether its client went away.
constexpr absl::Duration kWatchPollInterval = absl::Milliseconds(250);

}  // namespace

HealthService::HealthService(const std::vector<std::string>& services) {
  absl::MutexLock lock(&mu_);
  statuses_[""] = HealthCheckResponse::NOT_SERVING;
  for (const std::string& service : services) {
    statuses_[service] = HealthCheckResponse::NOT_SERVING;
  }
}

void HealthService::Set(const std::string& service, ServingStatus status) {
  absl::MutexLock lock(&mu_);
  if (shut_down_) return;
  auto [it, added] = statuses_.try_emplace(service, status);
  if (added || it->second != status) {
    it->second = status;
    ++generation_;
  }
}

void HealthService::SetAll(ServingStatus status) {
  absl::MutexLock lock(&mu_);
  if (shut_down_) return;
  for (auto& [service, current] : statuses_) {
    if (current != status) {
      current = status;
      ++generation_;
    }
  }
}

void HealthService::Shutdown() {
  absl::MutexLock lock(&mu_);
  for (auto& [service, current] : statuses_) {
    current = HealthCheckResponse::NOT_SERVING;
  }
  shut_down_ = true;
  ++generation_;
}

HealthService::ServingStatus HealthService::StatusOf(
    const std::string& service) const {
  auto it = statuses_.find(service);
  return it == statuses_.end() ? HealthCheckResponse::SERVICE_UNKNOWN
                               : it->second;
}

grpc::Status HealthService::Check(
    grpc::ServerContext*, const grpc::health::v1::HealthCheckRequest* request,
    grpc::health::v1::HealthCheckResponse* response) {
  absl::MutexLock lock(&mu_);
  const ServingStatus status = StatusOf(request->service());
  if (status == HealthCheckResponse::SERVICE_UNKNOWN) {
    return grpc::Status(grpc::StatusCode::NOT_FOUND, "unknown service");
  }
  response->set_status(status);
  return grpc::Status::OK;
}

grpc::Status HealthService::Watch(
    grpc::ServerContext* context,
    const grpc::health::v1::HealthCheckRequest* request,
    grpc::ServerWriter<grpc::health::v1::HealthCheckResponse>* writer) {
  int64_t sent_generation = -1;
  ServingStatus sent_status = HealthCheckResponse::UNKNOWN;
  for (;;) {
    ServingStatus status;
    bool shut_down;
    {
      absl::MutexLock lock(&mu_);
      auto changed = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        return generation_ != sent_generation;
      };
      mu_.AwaitWithTimeout(absl::Condition(&changed), kWatchPollInterval);
      sent_generation = generation_;
      status = StatusOf(request->service());
      shut_down = shut_down_;
    }
    if (context->IsCancelled()) return grpc::Status::CANCELLED;
    if (status != sent_status) {
      HealthCheckResponse response;
      response.set_status(status);
      if (!writer->Write(response)) return grpc::Status::CANCELLED;
      sent_status = status;
    }
    if (shut_down) {
      return grpc::Status(grpc::StatusCode::UNAVAILABLE,
                          "server is shutting down");
    }
  }
}

}  // namespace inventory
