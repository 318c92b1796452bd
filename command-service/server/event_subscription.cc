#include "command-service/server/event_subscription.h"

#include <algorithm>
#include <future>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/base/error_reason.h"
#include "common/base/status_macros.h"
#include "google/protobuf/util/time_util.h"

namespace inventory {
namespace {

using inventory::v1::SubscribeRequest;
using inventory::v1::SubscribeResponse;

// How often a waiting subscription checks for cancellation and shutdown.
constexpr absl::Duration kPollInterval = absl::Milliseconds(200);

// The most events in one EventBatch message, and the size at which a batch
// is sent even when it has fewer events (well below the 4 MiB default
// receive limit of gRPC clients).
constexpr int kMaxEventsPerMessage = 1024;
constexpr size_t kMaxBatchBytes = 1 << 20;

bool Matches(const inventory::v1::SubscriptionFilter& filter,
             absl::string_view stream_id, absl::string_view event_type) {
  if (!absl::StartsWith(stream_id, filter.stream_id_prefix())) return false;
  if (filter.event_types().empty()) return true;
  return std::find(filter.event_types().begin(), filter.event_types().end(),
                   event_type) != filter.event_types().end();
}

absl::Status ClientGone() { return absl::CancelledError("client went away"); }

absl::Status ShuttingDown() {
  return WithReason(absl::UnavailableError("server is shutting down"),
                    reason::kShuttingDown);
}

// The refusal of a subscriber whose position is beyond the log's head: its
// checkpoint belongs to a different (longer) log.
absl::Status BeyondTheHead(int64_t requested_position, int64_t head_position) {
  return WithReason(
      absl::OutOfRangeError(absl::StrCat(
          "after_position ", requested_position,
          " is beyond the event log's head position ", head_position,
          ": the log is shorter than the subscriber's checkpoint (restored "
          "from a backup or failed over?); rebuild from position 0")),
      reason::kLogPositionOutOfRange,
      {{"requested_position", absl::StrCat(requested_position)},
       {"head_position", absl::StrCat(head_position)}});
}

// OK when the log holds `event_id` at `position` (within the head);
// otherwise the refusal of a subscriber that read another log.
absl::Status CheckEventAt(EventStore& store, int64_t position,
                          const std::string& event_id) {
  INVENTORY_ASSIGN_OR_RETURN(const std::vector<RecordedEvent> at,
                             store.ReadAll(position - 1, 1));
  const std::string actual =
      !at.empty() && at[0].global_position == position ? at[0].event_id : "";
  if (actual == event_id) return absl::OkStatus();
  return WithReason(
      absl::OutOfRangeError(absl::StrCat(
          "the event at position ", position, " is not ", event_id,
          ", the event the subscriber applied there: the event log was "
          "replaced (restored or failed over, then written past the old "
          "head?); rebuild from position 0")),
      reason::kLogDiverged,
      {{"position", absl::StrCat(position)},
       {"expected_event_id", event_id},
       {"actual_event_id", actual}});
}

}  // namespace

// Sends the events of one subscription and remembers how far it got.
// Events are grouped into EventBatch messages when the subscriber asked
// for it; callers Flush() before they wait, so no event is held back.
// The messages are reused, so their buffers outlive each send.
class EventSubscription::Sender {
 public:
  Sender(const SubscribeRequest& request, const Sink& send)
      : filter_(request.filter()),
        send_(send),
        max_per_message_(std::clamp(request.max_events_per_message(), 1,
                                    kMaxEventsPerMessage)),
        position_(request.after_position()) {}

  int64_t position() const { return position_; }
  absl::Time last_sent() const { return last_sent_; }

  // Adds `recorded` (read from the store) if it passes the filter, and
  // advances the position either way. False when the client is gone.
  bool Add(const RecordedEvent& recorded) {
    position_ = recorded.global_position;
    if (!Matches(filter_, recorded.stream_id, recorded.event_type)) {
      return true;
    }
    inventory::v1::Event* slot = NextSlot();
    DecodeEventKeepingEnvelope(recorded, slot);
    return Added(*slot);
  }
  // The same for an event of the live window.
  bool Add(const inventory::v1::Event& event) {
    position_ = event.global_position();
    if (!Matches(filter_, event.stream_id(), event.event_type())) return true;
    inventory::v1::Event* slot = NextSlot();
    *slot = event;
    return Added(*slot);
  }
  // Sends the events added since the last send.
  bool Flush() {
    if (pending_ == 0) return true;
    pending_ = 0;
    pending_bytes_ = 0;
    const bool sent = Send(batch_message_);
    // Clear() keeps the element objects allocated for the next batch.
    batch_message_.mutable_events()->mutable_events()->Clear();
    return sent;
  }
  bool CaughtUp(int64_t head) {
    if (!Flush()) return false;
    control_message_.mutable_caught_up()->set_head_position(head);
    return Send(control_message_);
  }
  bool Heartbeat(int64_t head) {
    if (!Flush()) return false;
    auto* heartbeat = control_message_.mutable_heartbeat();
    heartbeat->set_head_position(head);
    *heartbeat->mutable_sent_at() =
        google::protobuf::util::TimeUtil::GetCurrentTime();
    return Send(control_message_);
  }

 private:
  inventory::v1::Event* NextSlot() {
    if (max_per_message_ == 1) return single_message_.mutable_event();
    return batch_message_.mutable_events()->add_events();
  }
  bool Added(const inventory::v1::Event& event) {
    if (max_per_message_ == 1) return Send(single_message_);
    ++pending_;
    pending_bytes_ += event.ByteSizeLong();
    if (pending_ >= max_per_message_ || pending_bytes_ >= kMaxBatchBytes) {
      return Flush();
    }
    return true;
  }
  bool Send(const SubscribeResponse& message) {
    last_sent_ = absl::Now();
    return send_(message);
  }

  const inventory::v1::SubscriptionFilter& filter_;
  const Sink& send_;
  const int max_per_message_;
  SubscribeResponse single_message_;   // `event`
  SubscribeResponse batch_message_;    // `events`
  SubscribeResponse control_message_;  // `caught_up` or `heartbeat`
  int pending_ = 0;
  size_t pending_bytes_ = 0;
  int64_t position_;
  absl::Time last_sent_ = absl::Now();
};

EventSubscription::EventSubscription(EventStore* store, LiveEventBuffer* live,
                                     Options options,
                                     const SubscribeRequest& request, Sink send,
                                     Stop stop)
    : store_(store),
      live_(live),
      options_(options),
      request_(request),
      send_(std::move(send)),
      stop_(std::move(stop)),
      sender_(std::make_unique<Sender>(request_, send_)) {}

EventSubscription::~EventSubscription() = default;

int64_t EventSubscription::position() const { return sender_->position(); }

absl::Status EventSubscription::Stopping() const {
  if (stop_.shutting_down()) return ShuttingDown();
  if (stop_.cancelled()) return ClientGone();
  return absl::OkStatus();
}

absl::Status EventSubscription::ReadStore(int64_t until) {
  // The next page is read while the current one is sent: the database and
  // the stream work side by side.
  auto read_page = [this](int64_t after) {
    return store_->ReadAll(after, options_.catch_up_batch);
  };
  absl::StatusOr<std::vector<RecordedEvent>> page =
      read_page(sender_->position());
  for (;;) {
    INVENTORY_RETURN_IF_ERROR(Stopping());
    INVENTORY_RETURN_IF_ERROR(page.status());
    const bool last_page =
        static_cast<int64_t>(page->size()) < options_.catch_up_batch ||
        (until >= 0 && page->back().global_position >= until);
    std::future<absl::StatusOr<std::vector<RecordedEvent>>> next;
    if (!last_page) {
      next = std::async(std::launch::async, read_page,
                        page->back().global_position);
    }
    for (const RecordedEvent& recorded : *page) {
      if (!sender_->Add(recorded)) return ClientGone();
      if (until >= 0 && sender_->position() >= until) break;
    }
    if (!sender_->Flush()) return ClientGone();
    if (last_page) return absl::OkStatus();
    page = next.get();
  }
}

// The buffer's head, unless the subscription got ahead of it by reading
// the store (then the store's). A store head below the subscription's
// position means the log became shorter.
absl::StatusOr<int64_t> EventSubscription::HeadForHeartbeat() {
  const int64_t live_head = live_->head();
  if (live_head >= sender_->position()) return live_head;
  const absl::StatusOr<int64_t> store_head = store_->HeadPosition();
  // The store unreachable is no reason to end a live stream.
  if (!store_head.ok()) return sender_->position();
  if (*store_head < sender_->position()) {
    return BeyondTheHead(sender_->position(), *store_head);
  }
  return *store_head;
}

absl::Status EventSubscription::Run() {
  Sender& sender = *sender_;
  // Catch-up. The buffer's shrinks are counted from before the head is
  // read, so that none after it goes unnoticed.
  int64_t shrinks_seen = live_->shrinks();
  INVENTORY_ASSIGN_OR_RETURN(const int64_t head, store_->HeadPosition());
  if (sender.position() > head) {
    return BeyondTheHead(sender.position(), head);
  }
  if (!request_.after_event_id().empty()) {
    INVENTORY_RETURN_IF_ERROR(CheckEventAt(*store_, request_.after_position(),
                                           request_.after_event_id()));
  }
  if (sender.position() < head) INVENTORY_RETURN_IF_ERROR(ReadStore(head));
  if (!sender.CaughtUp(std::max(head, sender.position()))) return ClientGone();

  // Live.
  std::vector<SharedEvent> events;
  for (;;) {
    INVENTORY_RETURN_IF_ERROR(Stopping());
    // Checked before anything from the buffer is sent: after a shrink its
    // window holds events of the shorter log.
    if (const std::optional<int64_t> lowest =
            live_->LowestHeadAfterShrinks(shrinks_seen)) {
      if (sender.position() > *lowest) {
        return BeyondTheHead(sender.position(), *lowest);
      }
      shrinks_seen = live_->shrinks();
    }
    const absl::Time heartbeat_due =
        sender.last_sent() + options_.heartbeat_interval;
    events.clear();
    const LiveEventBuffer::Outcome outcome = live_->WaitForEventsAfter(
        sender.position(), std::min(heartbeat_due, absl::Now() + kPollInterval),
        options_.live_batch, &events);
    if (live_->shrinks() != shrinks_seen) continue;  // check it first
    switch (outcome) {
      case LiveEventBuffer::Outcome::kEvents:
        for (const SharedEvent& event : events) {
          if (!sender.Add(*event)) return ClientGone();
        }
        if (!sender.Flush()) return ClientGone();
        break;
      case LiveEventBuffer::Outcome::kTooOld:
        // Fell out of the window: take one batch from the store, then try
        // the window again.
        INVENTORY_RETURN_IF_ERROR(
            ReadStore(sender.position() + options_.catch_up_batch));
        break;
      case LiveEventBuffer::Outcome::kTimeout:
        if (absl::Now() >= heartbeat_due) {
          INVENTORY_ASSIGN_OR_RETURN(const int64_t heartbeat_head,
                                     HeadForHeartbeat());
          if (!sender.Heartbeat(heartbeat_head)) return ClientGone();
        }
        break;
      case LiveEventBuffer::Outcome::kStopped:
        return ShuttingDown();
    }
  }
}

}  // namespace inventory
