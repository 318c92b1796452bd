// ConcurrencyLimit: at most N holders of a kind of resource at once (open
// subscriptions, waiting calls), and at most M of them per client, refused
// beyond that instead of queued, so that no client can tie up every thread
// or grow memory without bound, and one client cannot take every slot.
#ifndef INVENTORY_COMMON_RPC_CONCURRENCY_LIMIT_H_
#define INVENTORY_COMMON_RPC_CONCURRENCY_LIMIT_H_

#include <cstdint>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"

namespace inventory {

// Thread-safe; never blocks for long (one short lock).
class ConcurrencyLimit {
 public:
  // Held while the resource is in use; released when destroyed.
  class Slot {
   public:
    Slot(Slot&& other) noexcept
        : limit_(other.limit_), client_(std::move(other.client_)) {
      other.limit_ = nullptr;
    }
    Slot& operator=(Slot&& other) noexcept;
    Slot(const Slot&) = delete;
    Slot& operator=(const Slot&) = delete;
    ~Slot() { Release(); }

   private:
    friend class ConcurrencyLimit;
    Slot(ConcurrencyLimit* limit, std::string client)
        : limit_(limit), client_(std::move(client)) {}
    void Release();
    ConcurrencyLimit* limit_;
    std::string client_;
  };

  // `what` names the resource in the refusal, e.g. "open subscriptions";
  // `reason` is the refusal's ErrorInfo reason (error_reason.h). A `limit`
  // below 1 counts as 1. `per_client` caps the slots one client
  // (TryAcquire's key) may hold; 0 or less: no cap per client.
  ConcurrencyLimit(int64_t limit, absl::string_view what,
                   absl::string_view reason, int64_t per_client = 0);
  ConcurrencyLimit(const ConcurrencyLimit&) = delete;
  ConcurrencyLimit& operator=(const ConcurrencyLimit&) = delete;

  // A slot, or RESOURCE_EXHAUSTED when `limit` slots are held ("too many
  // <what> (limit N); retry later") or `client` holds `per_client` already
  // ("too many <what> from one client (limit M per client); ..."), with
  // the reason and metadata `limit` and `per_client`. The limit must
  // outlive the slot. `client` identifies the caller, e.g. its
  // address (ClientAddress() in grpc_server.h).
  absl::StatusOr<Slot> TryAcquire(absl::string_view client = "");

  int64_t limit() const { return limit_; }
  int64_t per_client() const { return per_client_; }
  int64_t in_use() const;
  // Slots `client` holds now.
  int64_t in_use_by(absl::string_view client) const;

 private:
  absl::Status Refusal(std::string message) const;

  const int64_t limit_;
  const int64_t per_client_;
  const std::string what_;
  const std::string reason_;
  mutable absl::Mutex mu_;
  int64_t in_use_ ABSL_GUARDED_BY(mu_) = 0;
  absl::flat_hash_map<std::string, int64_t> by_client_ ABSL_GUARDED_BY(mu_);
};

}  // namespace inventory

#endif  // INVENTORY_COMMON_RPC_CONCURRENCY_LIMIT_H_
