#include "command-service/server/live_event_buffer.h"

#include <algorithm>
#include <atomic>

#include "common/api/event_codec.h"
#include "common/base/log.h"

namespace inventory {

void DecodeEventKeepingEnvelope(const RecordedEvent& recorded,
                                inventory::v1::Event* out) {
  const absl::Status converted = DecodeEventOrDataLoss(recorded, out);
  if (converted.ok()) return;
  // Logged the first time each such event is sent, not every time a
  // subscriber (one stopped at it retries now and then) reads it again.
  static std::atomic<int64_t> last_logged{0};
  int64_t logged = last_logged.load();
  while (recorded.global_position > logged &&
         !last_logged.compare_exchange_weak(logged, recorded.global_position)) {
  }
  if (recorded.global_position > logged) {
    LogError("event stream: ", converted.message(),
             "; sending it without payload");
  }
  out->Clear();
  out->set_global_position(recorded.global_position);
  out->set_stream_id(recorded.stream_id);
  out->set_stream_version(recorded.stream_version);
  out->set_event_id(recorded.event_id);
  out->set_event_type(recorded.event_type);
}

SharedEvent ToSharedEvent(const RecordedEvent& recorded) {
  auto event = std::make_shared<inventory::v1::Event>();
  DecodeEventKeepingEnvelope(recorded, event.get());
  return event;
}

LiveEventBuffer::LiveEventBuffer(EventStore* store, Options options)
    : store_(store), options_(options) {
  tailer_ = std::thread([this] { Tail(); });
}

LiveEventBuffer::~LiveEventBuffer() {
  Stop();
  tailer_.join();
}

void LiveEventBuffer::Stop() {
  absl::MutexLock lock(&mu_);
  stopped_ = true;
}

int64_t LiveEventBuffer::head() const {
  absl::MutexLock lock(&mu_);
  return std::max<int64_t>(head_, 0);
}

int64_t LiveEventBuffer::shrinks() const {
  absl::MutexLock lock(&mu_);
  return static_cast<int64_t>(heads_after_shrinks_.size());
}

std::optional<int64_t> LiveEventBuffer::LowestHeadAfterShrinks(
    int64_t seen) const {
  absl::MutexLock lock(&mu_);
  if (seen < 0 || seen >= static_cast<int64_t>(heads_after_shrinks_.size())) {
    return std::nullopt;
  }
  return *std::min_element(heads_after_shrinks_.begin() + seen,
                           heads_after_shrinks_.end());
}

size_t LiveEventBuffer::size() const {
  absl::MutexLock lock(&mu_);
  return window_.size();
}

LiveEventBuffer::Outcome LiveEventBuffer::WaitForEventsAfter(
    int64_t position, absl::Time deadline, size_t max_count,
    std::vector<SharedEvent>* out) {
  absl::MutexLock lock(&mu_);
  auto ready = [this, position]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return stopped_ || head_ > position;
  };
  if (!mu_.AwaitWithDeadline(absl::Condition(&ready), deadline)) {
    return Outcome::kTimeout;
  }
  if (stopped_) return Outcome::kStopped;
  const int64_t first = head_ - static_cast<int64_t>(window_.size()) + 1;
  if (position + 1 < first) return Outcome::kTooOld;
  const size_t begin = static_cast<size_t>(position + 1 - first);
  const size_t end = std::min(window_.size(), begin + max_count);
  out->insert(out->end(), window_.begin() + begin, window_.begin() + end);
  return Outcome::kEvents;
}

bool LiveEventBuffer::PauseUnlessStopped(absl::Duration timeout) {
  absl::MutexLock lock(&mu_);
  mu_.AwaitWithTimeout(absl::Condition(&stopped_), timeout);
  return !stopped_;
}

void LiveEventBuffer::Tail() {
  absl::Duration backoff = absl::Milliseconds(100);
  auto failed = [&](const absl::Status& status) {
    LogWarning("event stream: reading the store: ", status.message(),
               "; retrying in ", absl::FormatDuration(backoff));
    const bool go_on = PauseUnlessStopped(backoff);
    backoff = std::min(backoff * 2, absl::Seconds(5));
    return go_on;
  };
  int64_t head = -1;
  absl::Time head_checked = absl::Now();
  for (;;) {
    {
      absl::MutexLock lock(&mu_);
      if (stopped_) return;
    }
    if (head < 0) {
      absl::StatusOr<int64_t> start = store_->HeadPosition();
      if (!start.ok()) {
        if (!failed(start.status())) return;
        continue;
      }
      head = *start;
      absl::MutexLock lock(&mu_);
      head_ = head;
      continue;
    }
    absl::StatusOr<std::vector<RecordedEvent>> batch =
        store_->ReadAll(head, options_.read_batch);
    if (!batch.ok()) {
      if (!failed(batch.status())) return;
      continue;
    }
    backoff = absl::Milliseconds(100);
    if (batch->empty() &&
        absl::Now() - head_checked >= options_.head_check_interval) {
      // Nothing after our head: is there still a head at all? Events
      // appended to a shorter log get positions we have seen already, and
      // would never be read from here.
      head_checked = absl::Now();
      const absl::StatusOr<int64_t> store_head = store_->HeadPosition();
      if (store_head.ok() && *store_head < head) {
        LogError("event stream: the event log's head position is ", *store_head,
                 ", below ", head,
                 ", the last position this process has seen: the database "
                 "was restored or failed over to a copy that lacks events. "
                 "Subscribers past position ",
                 *store_head, " are refused with OUT_OF_RANGE");
        head = *store_head;
        absl::MutexLock lock(&mu_);
        window_.clear();
        head_ = head;
        heads_after_shrinks_.push_back(head);
        continue;
      }
    }
    if (batch->empty()) {
      (void)store_->WaitForEventsAfter(head, absl::Now() + options_.idle_wait);
      continue;
    }
    std::vector<SharedEvent> converted;
    converted.reserve(batch->size());
    for (const RecordedEvent& recorded : *batch) {
      converted.push_back(ToSharedEvent(recorded));
    }
    head = batch->back().global_position;
    absl::MutexLock lock(&mu_);
    for (SharedEvent& event : converted) window_.push_back(std::move(event));
    while (window_.size() > options_.capacity) window_.pop_front();
    head_ = head;
  }
}

}  // namespace inventory
