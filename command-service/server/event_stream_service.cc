#include "command-service/server/event_stream_service.h"

#include <algorithm>
#include <future>
#include <optional>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/api/event_codec.h"
#include "common/base/error_reason.h"
#include "common/base/field_violation.h"
#include "common/base/log.h"
#include "common/base/status_macros.h"
#include "common/rpc/grpc_server.h"
#include "common/rpc/grpc_status.h"
#include "google/protobuf/util/time_util.h"

namespace inventory {
namespace {

using inventory::v1::SubscribeRequest;
using inventory::v1::SubscribeResponse;

constexpr size_t kMaxStreamIdPrefix = 256;
// Event ids are UUIDs (36 characters); room for other forms.
constexpr size_t kMaxEventId = 64;
// There are six event types; a longer list only repeats them, and each
// entry costs a comparison per event sent.
constexpr int kMaxEventTypes = 16;
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

// Sends the events of one subscription and remembers how far it got.
// Events are grouped into EventBatch messages when the subscriber asked
// for it; callers Flush() before they wait, so no event is held back.
// The messages are reused, so their buffers outlive each send.
class Sender {
 public:
  Sender(const SubscribeRequest& request,
         const std::function<bool(const SubscribeResponse&)>& send)
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
  const std::function<bool(const SubscribeResponse&)>& send_;
  const int max_per_message_;
  SubscribeResponse single_message_;   // `event`
  SubscribeResponse batch_message_;    // `events`
  SubscribeResponse control_message_;  // `caught_up` or `heartbeat`
  int pending_ = 0;
  size_t pending_bytes_ = 0;
  int64_t position_;
  absl::Time last_sent_ = absl::Now();
};

absl::Status ClientGone() { return absl::CancelledError("client went away"); }

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

absl::Status ValidateSubscribeRequest(const SubscribeRequest& request) {
  if (request.after_position() < 0) {
    return InvalidField("after_position", "must not be negative");
  }
  if (request.max_events_per_message() < 0) {
    return InvalidField("max_events_per_message", "must not be negative");
  }
  if (request.filter().event_types_size() > kMaxEventTypes) {
    return InvalidField(
        "filter.event_types",
        absl::StrCat("must list at most ", kMaxEventTypes, " event types"));
  }
  for (const std::string& type : request.filter().event_types()) {
    if (!IsKnownEventType(type)) {
      return InvalidField(
          "filter.event_types",
          "unknown event type (known: inventory.v1.ItemCreated, "
          "ItemRenamed, ItemsCheckedIn, ItemsRemoved, "
          "ItemDeactivated, ItemReactivated)");
    }
  }
  if (request.filter().stream_id_prefix().size() > kMaxStreamIdPrefix) {
    return InvalidField(
        "filter.stream_id_prefix",
        absl::StrCat("must be at most ", kMaxStreamIdPrefix, " bytes"));
  }
  if (!request.after_event_id().empty()) {
    if (request.after_position() == 0) {
      return InvalidField("after_event_id",
                          "needs after_position (no event is at position 0)");
    }
    if (request.after_event_id().size() > kMaxEventId) {
      return InvalidField("after_event_id",
                          absl::StrCat("must be at most ", kMaxEventId,
                                       " bytes (event ids are UUIDs)"));
    }
  }
  return absl::OkStatus();
}

EventStreamService::EventStreamService(EventStore* store, LiveEventBuffer* live,
                                       Options options)
    : RawRequestService(inventory::v1::EventStreamService::service_full_name()),
      store_(store),
      live_(live),
      options_(options),
      subscribers_(options.max_subscribers, "open subscriptions",
                   reason::kTooManySubscribers,
                   options.max_subscribers_per_client) {
  if (options.write_timeout < absl::InfiniteDuration()) {
    DropStalledStreamsAfter(options.write_timeout);
  }
  DecodeServerStream<SubscribeRequest, SubscribeResponse>(
      "Subscribe",
      [this](grpc::ServerContext* context, const SubscribeRequest& request,
             const Send<SubscribeResponse>& send) {
        return ServeSubscription(context, request, send);
      });
}

grpc::Status EventStreamService::ServeSubscription(
    grpc::ServerContext* context, const SubscribeRequest& request,
    const Send<SubscribeResponse>& send) {
  const absl::Status status = RunSubscription(
      request, send, [context] { return context->IsCancelled(); },
      ClientAddress(context->peer()));
  if (!status.ok() && status.code() != absl::StatusCode::kCancelled) {
    LogWarning("Subscribe ended: ", StatusForLog(status));
  }
  return ToGrpcStatus(status);
}

absl::Status EventStreamService::RunSubscription(
    const SubscribeRequest& request,
    const std::function<bool(const SubscribeResponse&)>& send,
    const std::function<bool()>& cancelled, absl::string_view client) {
  INVENTORY_RETURN_IF_ERROR(ValidateSubscribeRequest(request));
  INVENTORY_ASSIGN_OR_RETURN(const ConcurrencyLimit::Slot slot,
                             subscribers_.TryAcquire(client));
  Sender sender(request, send);
  auto shutting_down = [] {
    return WithReason(absl::UnavailableError("server is shutting down"),
                      reason::kShuttingDown);
  };
  // Reads from the store up to `until` (or its end when until < 0). The
  // next page is read while the current one is sent: the database and the
  // stream work side by side.
  auto read_page = [this](int64_t after) {
    return store_->ReadAll(after, options_.catch_up_batch);
  };
  auto read_store = [&](int64_t until) -> absl::Status {
    absl::StatusOr<std::vector<RecordedEvent>> page =
        read_page(sender.position());
    for (;;) {
      if (shutting_down_) return shutting_down();
      if (cancelled()) return ClientGone();
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
        if (!sender.Add(recorded)) return ClientGone();
        if (until >= 0 && sender.position() >= until) break;
      }
      if (!sender.Flush()) return ClientGone();
      if (last_page) return absl::OkStatus();
      page = next.get();
    }
  };

  // The head a heartbeat reports: the buffer's, unless the subscription
  // got ahead of it by reading the store (then the store's). A store head
  // below the subscription's position means the log became shorter.
  auto head_for_heartbeat = [&]() -> absl::StatusOr<int64_t> {
    const int64_t live_head = live_->head();
    if (live_head >= sender.position()) return live_head;
    const absl::StatusOr<int64_t> store_head = store_->HeadPosition();
    // The store unreachable is no reason to end a live stream.
    if (!store_head.ok()) return sender.position();
    if (*store_head < sender.position()) {
      return BeyondTheHead(sender.position(), *store_head);
    }
    return *store_head;
  };

  // Catch-up. The buffer's shrinks are counted from before the head is
  // read, so that none after it goes unnoticed.
  int64_t shrinks_seen = live_->shrinks();
  INVENTORY_ASSIGN_OR_RETURN(const int64_t head, store_->HeadPosition());
  if (sender.position() > head) {
    return BeyondTheHead(sender.position(), head);
  }
  if (!request.after_event_id().empty()) {
    INVENTORY_RETURN_IF_ERROR(CheckEventAt(*store_, request.after_position(),
                                           request.after_event_id()));
  }
  if (sender.position() < head) INVENTORY_RETURN_IF_ERROR(read_store(head));
  if (!sender.CaughtUp(std::max(head, sender.position()))) return ClientGone();

  // Live.
  std::vector<SharedEvent> events;
  for (;;) {
    if (shutting_down_) return shutting_down();
    if (cancelled()) return ClientGone();
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
            read_store(sender.position() + options_.catch_up_batch));
        break;
      case LiveEventBuffer::Outcome::kTimeout:
        if (absl::Now() >= heartbeat_due) {
          INVENTORY_ASSIGN_OR_RETURN(const int64_t heartbeat_head,
                                     head_for_heartbeat());
          if (!sender.Heartbeat(heartbeat_head)) return ClientGone();
        }
        break;
      case LiveEventBuffer::Outcome::kStopped:
        return shutting_down();
    }
  }
}

}  // namespace inventory
