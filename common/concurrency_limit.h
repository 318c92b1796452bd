// ConcurrencyLimit: at most N holders of a kind of resource at once (open
// subscriptions, waiting calls), refused beyond that instead of queued, so
// that no client can tie up every thread or grow memory without bound.
#ifndef INVENTORY_COMMON_CONCURRENCY_LIMIT_H_
#define INVENTORY_COMMON_CONCURRENCY_LIMIT_H_

#include <atomic>
#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace inventory {

// Thread-safe; never blocks.
class ConcurrencyLimit {
 public:
  // Held while the resource is in use; released when destroyed.
  class Slot {
   public:
    Slot(Slot&& other) noexcept : limit_(other.limit_) {
      other.limit_ = nullptr;
    }
    Slot& operator=(Slot&& other) noexcept;
    Slot(const Slot&) = delete;
    Slot& operator=(const Slot&) = delete;
    ~Slot() { Release(); }

   private:
    friend class ConcurrencyLimit;
    explicit Slot(ConcurrencyLimit* limit) : limit_(limit) {}
    void Release();
    ConcurrencyLimit* limit_;
  };

  // `what` names the resource in the refusal, e.g. "open subscriptions".
  // A `limit` below 1 counts as 1.
  ConcurrencyLimit(int64_t limit, absl::string_view what);
  ConcurrencyLimit(const ConcurrencyLimit&) = delete;
  ConcurrencyLimit& operator=(const ConcurrencyLimit&) = delete;

  // A slot, or RESOURCE_EXHAUSTED ("too many <what> (limit N); retry
  // later") when `limit` slots are held. The limit must outlive the slot.
  absl::StatusOr<Slot> TryAcquire();

  int64_t limit() const { return limit_; }
  int64_t in_use() const { return in_use_.load(); }

 private:
  const int64_t limit_;
  const std::string what_;
  std::atomic<int64_t> in_use_{0};
};

}  // namespace inventory

#endif  // INVENTORY_COMMON_CONCURRENCY_LIMIT_H_
