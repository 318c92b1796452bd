// ForwardingEventStore: an EventStore that passes every call to another
// one. A base for decorators (a fault injected into one call, calls
// counted) that override only the calls they change. Thread-safe when the
// store it forwards to is; it does not own that store.
#ifndef INVENTORY_COMMON_EVENTSTORE_FORWARDING_EVENT_STORE_H_
#define INVENTORY_COMMON_EVENTSTORE_FORWARDING_EVENT_STORE_H_

#include <optional>
#include <vector>

#include "common/eventstore/event_store.h"

namespace inventory {

class ForwardingEventStore : public EventStore {
 public:
  // `inner` must outlive this store.
  explicit ForwardingEventStore(EventStore* inner) : inner_(inner) {}

  absl::StatusOr<AppendResult> Append(const AppendRequest& request) override {
    return inner_->Append(request);
  }
  absl::StatusOr<std::vector<RecordedEvent>> ReadStream(
      absl::string_view stream_id, int64_t from_version,
      int64_t max_count) override {
    return inner_->ReadStream(stream_id, from_version, max_count);
  }
  absl::StatusOr<std::vector<RecordedEvent>> ReadAll(
      int64_t after_position, int64_t max_count) override {
    return inner_->ReadAll(after_position, max_count);
  }
  absl::StatusOr<int64_t> HeadPosition() override {
    return inner_->HeadPosition();
  }
  absl::StatusOr<bool> WaitForEventsAfter(int64_t after_position,
                                          absl::Time deadline) override {
    return inner_->WaitForEventsAfter(after_position, deadline);
  }
  void StopWaiting() override { inner_->StopWaiting(); }
  absl::StatusOr<std::optional<RecordedRequest>> FindRequest(
      absl::string_view request_id) override {
    return inner_->FindRequest(request_id);
  }

 private:
  EventStore* const inner_;
};

}  // namespace inventory

#endif  // INVENTORY_COMMON_EVENTSTORE_FORWARDING_EVENT_STORE_H_
