#include "common/rpc/concurrency_limit.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/base/error_reason.h"

namespace inventory {

ConcurrencyLimit::Slot& ConcurrencyLimit::Slot::operator=(
    Slot&& other) noexcept {
  if (this != &other) {
    Release();
    limit_ = other.limit_;
    client_ = std::move(other.client_);
    other.limit_ = nullptr;
  }
  return *this;
}

void ConcurrencyLimit::Slot::Release() {
  if (limit_ == nullptr) return;
  absl::MutexLock lock(&limit_->mu_);
  --limit_->in_use_;
  if (limit_->per_client_ > 0) {
    auto it = limit_->by_client_.find(client_);
    if (it != limit_->by_client_.end() && --it->second <= 0) {
      limit_->by_client_.erase(it);
    }
  }
  limit_ = nullptr;
}

ConcurrencyLimit::ConcurrencyLimit(int64_t limit, absl::string_view what,
                                   absl::string_view reason, int64_t per_client)
    : limit_(std::max<int64_t>(1, limit)),
      per_client_(std::max<int64_t>(0, per_client)),
      what_(what),
      reason_(reason) {}

absl::Status ConcurrencyLimit::Refusal(std::string message) const {
  return WithReason(absl::ResourceExhaustedError(std::move(message)), reason_,
                    {{"limit", absl::StrCat(limit_)},
                     {"per_client", absl::StrCat(per_client_)}});
}

absl::StatusOr<ConcurrencyLimit::Slot> ConcurrencyLimit::TryAcquire(
    absl::string_view client) {
  absl::MutexLock lock(&mu_);
  if (in_use_ >= limit_) {
    return Refusal(
        absl::StrCat("too many ", what_, " (limit ", limit_, "); retry later"));
  }
  if (per_client_ > 0) {
    int64_t& held = by_client_[client];
    if (held >= per_client_) {
      return Refusal(absl::StrCat("too many ", what_,
                                  " from one client (limit ", per_client_,
                                  " per client); close some first"));
    }
    ++held;
  }
  ++in_use_;
  return Slot(this, std::string(client));
}

int64_t ConcurrencyLimit::in_use() const {
  absl::MutexLock lock(&mu_);
  return in_use_;
}

int64_t ConcurrencyLimit::in_use_by(absl::string_view client) const {
  absl::MutexLock lock(&mu_);
  auto it = by_client_.find(client);
  return it == by_client_.end() ? 0 : it->second;
}

}  // namespace inventory
