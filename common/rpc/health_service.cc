#include "common/rpc/health_service.h"

#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/base/error_reason.h"
#include "common/rpc/grpc_server.h"
#include "common/rpc/grpc_status.h"

namespace inventory {

using grpc::health::v1::HealthCheckResponse;

// One Watch stream. Its state is guarded by the service's mutex, which
// every reaction takes: a status change, a write finishing, a cancel and
// the end of the call never interleave.
class HealthService::Watcher final
    : public grpc::ServerWriteReactor<HealthCheckResponse> {
 public:
  Watcher(HealthService* service, std::string name, ConcurrencyLimit::Slot slot)
      : service_(service), name_(std::move(name)), slot_(std::move(slot)) {}

  const std::string& name() const { return name_; }
  // The mutex that guards this watcher: its service's. The service, which
  // holds its own mu_, asserts it through this (the analysis cannot tell
  // that a watcher's service_ is that service).
  absl::Mutex& mu() const ABSL_LOCK_RETURNED(service_->mu_) {
    return service_->mu_;
  }

  // Sends `status` unless it was the last one sent; a write in flight
  // sends it when it completes.
  void Send(ServingStatus status) ABSL_EXCLUSIVE_LOCKS_REQUIRED(service_->mu_) {
    wanted_ = status;
    if (writing_ || finished_ || wanted_ == sent_) return;
    writing_ = true;
    sent_ = wanted_;
    response_.set_status(sent_);
    StartWrite(&response_);
  }

  // Ends the stream with `status` once no write is in flight.
  void End(grpc::Status status) ABSL_EXCLUSIVE_LOCKS_REQUIRED(service_->mu_) {
    if (finished_) return;
    ending_ = std::move(status);
    if (!writing_) FinishNow();
  }

  void OnWriteDone(bool ok) override {
    absl::MutexLock lock(&service_->mu_);
    writing_ = false;
    if (!ok) {
      End(grpc::Status::CANCELLED);
    } else if (ending_.has_value()) {
      FinishNow();
    } else {
      Send(wanted_);
    }
  }

  void OnCancel() override {
    absl::MutexLock lock(&service_->mu_);
    End(grpc::Status::CANCELLED);
  }

  void OnDone() override {
    {
      absl::MutexLock lock(&service_->mu_);
      service_->watchers_.erase(this);
    }
    delete this;
  }

 private:
  void FinishNow() ABSL_EXCLUSIVE_LOCKS_REQUIRED(service_->mu_) {
    finished_ = true;
    Finish(*ending_);
  }

  HealthService* const service_;
  const std::string name_;
  const ConcurrencyLimit::Slot slot_;  // released when the call is done
  HealthCheckResponse response_;       // owned until the write completes
  ServingStatus wanted_ = HealthCheckResponse::UNKNOWN;
  ServingStatus sent_ = HealthCheckResponse::UNKNOWN;
  bool writing_ = false;
  bool finished_ = false;
  std::optional<grpc::Status> ending_;
};

namespace {

grpc::Status ShuttingDown() {
  return ToGrpcStatus(
      WithReason(absl::UnavailableError("server is shutting down"),
                 reason::kShuttingDown));
}

// A Watch refused before it started.
class RefusedWatch final
    : public grpc::ServerWriteReactor<HealthCheckResponse> {
 public:
  explicit RefusedWatch(const grpc::Status& status) { Finish(status); }
  void OnDone() override { delete this; }
};

}  // namespace

HealthService::HealthService(const std::vector<std::string>& services,
                             Options options)
    : watch_limit_(options.max_watches, "health Watch streams",
                   reason::kTooManyStreams, options.max_watches_per_client) {
  absl::MutexLock lock(&mu_);
  statuses_[""] = HealthCheckResponse::NOT_SERVING;
  for (const std::string& service : services) {
    statuses_[service] = HealthCheckResponse::NOT_SERVING;
  }
}

HealthService::~HealthService() { Shutdown(); }

void HealthService::Set(const std::string& service, ServingStatus status) {
  absl::MutexLock lock(&mu_);
  if (shut_down_) return;
  auto [it, added] = statuses_.try_emplace(service, status);
  if (added || it->second != status) {
    it->second = status;
    Publish();
  }
}

void HealthService::SetAll(ServingStatus status) {
  absl::MutexLock lock(&mu_);
  if (shut_down_) return;
  bool changed = false;
  for (auto& [service, current] : statuses_) {
    changed = changed || current != status;
    current = status;
  }
  if (changed) Publish();
}

void HealthService::Shutdown() {
  absl::MutexLock lock(&mu_);
  if (shut_down_) return;
  for (auto& [service, current] : statuses_) {
    current = HealthCheckResponse::NOT_SERVING;
  }
  shut_down_ = true;
  Publish();
  for (Watcher* watcher : watchers_) {
    watcher->mu().AssertHeld();  // our mu_: watchers_ holds ours only
    watcher->End(ShuttingDown());
  }
}

void HealthService::Publish() {
  for (Watcher* watcher : watchers_) {
    watcher->mu().AssertHeld();  // our mu_: watchers_ holds ours only
    watcher->Send(StatusOf(watcher->name()));
  }
}

HealthService::ServingStatus HealthService::StatusOf(
    const std::string& service) const {
  auto it = statuses_.find(service);
  return it == statuses_.end() ? HealthCheckResponse::SERVICE_UNKNOWN
                               : it->second;
}

grpc::ServerUnaryReactor* HealthService::Check(
    grpc::CallbackServerContext* context,
    const grpc::health::v1::HealthCheckRequest* request,
    grpc::health::v1::HealthCheckResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  absl::MutexLock lock(&mu_);
  const ServingStatus status = StatusOf(request->service());
  if (status == HealthCheckResponse::SERVICE_UNKNOWN) {
    reactor->Finish(
        grpc::Status(grpc::StatusCode::NOT_FOUND, "unknown service"));
  } else {
    response->set_status(status);
    reactor->Finish(grpc::Status::OK);
  }
  return reactor;
}

grpc::ServerWriteReactor<HealthCheckResponse>* HealthService::Watch(
    grpc::CallbackServerContext* context,
    const grpc::health::v1::HealthCheckRequest* request) {
  absl::StatusOr<ConcurrencyLimit::Slot> slot =
      watch_limit_.TryAcquire(ClientAddress(context->peer()));
  if (!slot.ok()) return new RefusedWatch(ToGrpcStatus(slot.status()));
  auto* watcher = new Watcher(this, request->service(), std::move(*slot));
  absl::MutexLock lock(&mu_);
  watcher->mu().AssertHeld();  // our mu_: the watcher is ours
  if (shut_down_) {
    watcher->End(ShuttingDown());
  } else {
    watchers_.insert(watcher);
    watcher->Send(StatusOf(request->service()));
  }
  return watcher;
}

}  // namespace inventory
