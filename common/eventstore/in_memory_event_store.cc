#include "common/eventstore/in_memory_event_store.h"

#include <algorithm>

#include "common/base/status_macros.h"
#include "common/base/uuid.h"

namespace inventory {

absl::StatusOr<AppendResult> InMemoryEventStore::Append(
    const AppendRequest& request) {
  INVENTORY_RETURN_IF_ERROR(ValidateAppendRequest(request));
  const std::string fingerprint = StoredRequestFingerprint(request);
  const absl::Time now = absl::Now();

  absl::MutexLock lock(&mu_);
  if (!request.request_id.empty()) {
    auto it = requests_.find(request.request_id);
    if (it != requests_.end()) {
      if (it->second.fingerprint != fingerprint) return RequestIdReused();
      AppendResult replay = it->second.result;
      replay.replayed = true;
      return replay;
    }
  }
  std::vector<size_t>& stream = streams_[request.stream_id];
  const int64_t current_version = static_cast<int64_t>(stream.size());
  if (!request.expected_version.Matches(current_version)) {
    if (stream.empty()) streams_.erase(request.stream_id);
    return WrongExpectedVersion(request.stream_id, request.expected_version,
                                current_version);
  }
  for (const EventData& data : request.events) {
    RecordedEvent event;
    event.global_position = static_cast<int64_t>(events_.size()) + 1;
    event.stream_id = request.stream_id;
    event.stream_version = static_cast<int64_t>(stream.size()) + 1;
    event.event_id = NewUuid();
    event.event_type = data.event_type;
    event.payload_json = data.payload_json;
    event.metadata = data.metadata;
    event.recorded_at = now;
    stream.push_back(events_.size());
    events_.push_back(std::move(event));
  }
  AppendResult result;
  result.stream_version = static_cast<int64_t>(stream.size());
  result.global_position = static_cast<int64_t>(events_.size());
  if (!request.request_id.empty()) {
    requests_[request.request_id] =
        RecordedRequest{request.stream_id, fingerprint, result};
  }
  return result;
}

absl::StatusOr<std::vector<RecordedEvent>> InMemoryEventStore::ReadStream(
    absl::string_view stream_id, int64_t from_version, int64_t max_count) {
  INVENTORY_RETURN_IF_ERROR(
      ValidateReadStream(stream_id, from_version, max_count));
  absl::MutexLock lock(&mu_);
  std::vector<RecordedEvent> out;
  auto it = streams_.find(stream_id);
  if (it == streams_.end()) return out;
  const std::vector<size_t>& indexes = it->second;
  for (size_t v = static_cast<size_t>(from_version - 1);
       v < indexes.size() && static_cast<int64_t>(out.size()) < max_count;
       ++v) {
    out.push_back(events_[indexes[v]]);
  }
  return out;
}

absl::StatusOr<std::vector<RecordedEvent>> InMemoryEventStore::ReadAll(
    int64_t after_position, int64_t max_count) {
  INVENTORY_RETURN_IF_ERROR(ValidateReadAll(after_position, max_count));
  absl::MutexLock lock(&mu_);
  std::vector<RecordedEvent> out;
  const int64_t size = static_cast<int64_t>(events_.size());
  if (after_position >= size) return out;
  const int64_t end =
      after_position + std::min(max_count, size - after_position);
  out.reserve(static_cast<size_t>(end - after_position));
  for (int64_t i = after_position; i < end; ++i) out.push_back(events_[i]);
  return out;
}

absl::StatusOr<int64_t> InMemoryEventStore::HeadPosition() {
  absl::MutexLock lock(&mu_);
  return static_cast<int64_t>(events_.size());
}

absl::StatusOr<bool> InMemoryEventStore::WaitForEventsAfter(
    int64_t after_position, absl::Time deadline) {
  absl::MutexLock lock(&mu_);
  auto has_more = [this, after_position]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return static_cast<int64_t>(events_.size()) > after_position ||
           waiters_stopped_;
  };
  const bool woken =
      mu_.AwaitWithDeadline(absl::Condition(&has_more), deadline);
  if (waiters_stopped_) return StoreStopping();
  return woken;
}

void InMemoryEventStore::StopWaiting() {
  absl::MutexLock lock(&mu_);
  waiters_stopped_ = true;
}

absl::StatusOr<std::optional<RecordedRequest>> InMemoryEventStore::FindRequest(
    absl::string_view request_id) {
  absl::MutexLock lock(&mu_);
  auto it = requests_.find(request_id);
  if (it == requests_.end()) return std::optional<RecordedRequest>();
  return std::optional<RecordedRequest>(it->second);
}

}  // namespace inventory
