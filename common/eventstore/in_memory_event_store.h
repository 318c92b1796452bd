// An EventStore that keeps everything in process memory.
//
// For unit tests, and for running the command-service without a database
// (everything is lost when the process ends). Implements the full contract
// of event_store.h, including idempotency and change notification.
#ifndef INVENTORY_COMMON_EVENTSTORE_IN_MEMORY_EVENT_STORE_H_
#define INVENTORY_COMMON_EVENTSTORE_IN_MEMORY_EVENT_STORE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "common/eventstore/event_store.h"

namespace inventory {

// Thread-safe; one mutex serializes appends, which makes the global order
// the append order.
class InMemoryEventStore final : public EventStore {
 public:
  InMemoryEventStore() = default;
  InMemoryEventStore(const InMemoryEventStore&) = delete;
  InMemoryEventStore& operator=(const InMemoryEventStore&) = delete;

  absl::StatusOr<AppendResult> Append(const AppendRequest& request) override;
  absl::StatusOr<std::vector<RecordedEvent>> ReadStream(
      absl::string_view stream_id, int64_t from_version,
      int64_t max_count) override;
  absl::StatusOr<std::vector<RecordedEvent>> ReadAll(
      int64_t after_position, int64_t max_count) override;
  absl::StatusOr<int64_t> HeadPosition() override;
  absl::StatusOr<bool> WaitForEventsAfter(int64_t after_position,
                                          absl::Time deadline) override;
  absl::StatusOr<std::optional<RecordedRequest>> FindRequest(
      absl::string_view request_id) override;
  void StopWaiting() override;

 private:
  absl::Mutex mu_;
  bool waiters_stopped_ ABSL_GUARDED_BY(mu_) = false;
  // events_[i] has global position i + 1.
  std::vector<RecordedEvent> events_ ABSL_GUARDED_BY(mu_);
  // Indexes into events_, per stream, in version order.
  absl::flat_hash_map<std::string, std::vector<size_t>> streams_
      ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, RecordedRequest> requests_
      ABSL_GUARDED_BY(mu_);
};

}  // namespace inventory

#endif  // INVENTORY_COMMON_EVENTSTORE_IN_MEMORY_EVENT_STORE_H_
