#include "common/concurrency_limit.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace inventory {

ConcurrencyLimit::Slot& ConcurrencyLimit::Slot::operator=(
    Slot&& other) noexcept {
  if (this != &other) {
    Release();
    limit_ = other.limit_;
    other.limit_ = nullptr;
  }
  return *this;
}

void ConcurrencyLimit::Slot::Release() {
  if (limit_ != nullptr) limit_->in_use_.fetch_sub(1);
  limit_ = nullptr;
}

ConcurrencyLimit::ConcurrencyLimit(int64_t limit, absl::string_view what)
    : limit_(std::max<int64_t>(1, limit)), what_(what) {}

absl::StatusOr<ConcurrencyLimit::Slot> ConcurrencyLimit::TryAcquire() {
  int64_t current = in_use_.load();
  do {
    if (current >= limit_) {
      return absl::ResourceExhaustedError(absl::StrCat(
          "too many ", what_, " (limit ", limit_, "); retry later"));
    }
  } while (!in_use_.compare_exchange_weak(current, current + 1));
  return Slot(this);
}

}  // namespace inventory
