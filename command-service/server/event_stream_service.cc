#include "command-service/server/event_stream_service.h"

#include <algorithm>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/event_codec.h"
#include "common/field_violation.h"
#include "common/grpc_status.h"
#include "common/log.h"
#include "common/status_macros.h"
#include "google/protobuf/util/time_util.h"

namespace inventory {
namespace {

using inventory::v1::SubscribeRequest;
using inventory::v1::SubscribeResponse;

constexpr size_t kMaxStreamIdPrefix = 256;
// How often a waiting subscription checks for cancellation and shutdown.
constexpr absl::Duration kPollInterval = absl::Milliseconds(200);

bool Matches(const inventory::v1::SubscriptionFilter& filter,
             const inventory::v1::Event& event) {
  if (!absl::StartsWith(event.stream_id(), filter.stream_id_prefix())) {
    return false;
  }
  if (filter.event_types().empty()) return true;
  return std::find(filter.event_types().begin(), filter.event_types().end(),
                   event.event_type()) != filter.event_types().end();
}

// Sends the events of one subscription and remembers how far it got.
class Sender {
 public:
  Sender(const SubscribeRequest& request,
         const std::function<bool(const SubscribeResponse&)>& send)
      : filter_(request.filter()),
        send_(send),
        position_(request.after_position()) {}

  int64_t position() const { return position_; }
  absl::Time last_sent() const { return last_sent_; }

  // Sends `event` if it passes the filter; advances the position either way.
  bool Event(const inventory::v1::Event& event) {
    position_ = event.global_position();
    if (!Matches(filter_, event)) return true;
    *message_.mutable_event() = event;
    return Send();
  }
  bool CaughtUp(int64_t head) {
    message_.mutable_caught_up()->set_head_position(head);
    return Send();
  }
  bool Heartbeat(int64_t head) {
    auto* heartbeat = message_.mutable_heartbeat();
    heartbeat->set_head_position(head);
    *heartbeat->mutable_sent_at() =
        google::protobuf::util::TimeUtil::GetCurrentTime();
    return Send();
  }

 private:
  bool Send() {
    last_sent_ = absl::Now();
    return send_(message_);
  }

  const inventory::v1::SubscriptionFilter& filter_;
  const std::function<bool(const SubscribeResponse&)>& send_;
  SubscribeResponse message_;  // reused: its buffers outlive each send
  int64_t position_;
  absl::Time last_sent_ = absl::Now();
};

absl::Status ClientGone() { return absl::CancelledError("client went away"); }

}  // namespace

absl::Status ValidateSubscribeRequest(const SubscribeRequest& request) {
  if (request.after_position() < 0) {
    return InvalidField("after_position", "must not be negative");
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
  return absl::OkStatus();
}

EventStreamService::EventStreamService(EventStore* store, LiveEventBuffer* live,
                                       Options options)
    : store_(store), live_(live), options_(options) {}

grpc::Status EventStreamService::Subscribe(
    grpc::ServerContext* context, const SubscribeRequest* request,
    grpc::ServerWriter<SubscribeResponse>* writer) {
  const absl::Status status = RunSubscription(
      *request,
      [writer](const SubscribeResponse& message) {
        return writer->Write(message);
      },
      [context] { return context->IsCancelled(); });
  if (!status.ok() && status.code() != absl::StatusCode::kCancelled) {
    LogWarning("Subscribe ended: ", status.ToString());
  }
  return ToGrpcStatus(status);
}

absl::Status EventStreamService::RunSubscription(
    const SubscribeRequest& request,
    const std::function<bool(const SubscribeResponse&)>& send,
    const std::function<bool()>& cancelled) {
  RETURN_IF_ERROR(ValidateSubscribeRequest(request));
  Sender sender(request, send);
  auto shutting_down = [this] {
    return absl::UnavailableError("server is shutting down");
  };
  // Reads from the store up to `until` (or its end when until < 0).
  auto read_store = [&](int64_t until) -> absl::Status {
    for (;;) {
      if (shutting_down_) return shutting_down();
      if (cancelled()) return ClientGone();
      ASSIGN_OR_RETURN(
          std::vector<RecordedEvent> batch,
          store_->ReadAll(sender.position(), options_.catch_up_batch));
      for (const RecordedEvent& recorded : batch) {
        if (!sender.Event(*ToSharedEvent(recorded))) return ClientGone();
        if (until >= 0 && sender.position() >= until) return absl::OkStatus();
      }
      if (static_cast<int64_t>(batch.size()) < options_.catch_up_batch) {
        return absl::OkStatus();
      }
    }
  };

  // Catch-up.
  ASSIGN_OR_RETURN(const int64_t head, store_->HeadPosition());
  if (sender.position() < head) RETURN_IF_ERROR(read_store(head));
  if (!sender.CaughtUp(std::max(head, sender.position()))) return ClientGone();

  // Live.
  std::vector<SharedEvent> events;
  for (;;) {
    if (shutting_down_) return shutting_down();
    if (cancelled()) return ClientGone();
    const absl::Time heartbeat_due =
        sender.last_sent() + options_.heartbeat_interval;
    events.clear();
    switch (live_->WaitForEventsAfter(
        sender.position(), std::min(heartbeat_due, absl::Now() + kPollInterval),
        options_.live_batch, &events)) {
      case LiveEventBuffer::Outcome::kEvents:
        for (const SharedEvent& event : events) {
          if (!sender.Event(*event)) return ClientGone();
        }
        break;
      case LiveEventBuffer::Outcome::kTooOld:
        // Fell out of the window: take one batch from the store, then try
        // the window again.
        RETURN_IF_ERROR(
            read_store(sender.position() + options_.catch_up_batch));
        break;
      case LiveEventBuffer::Outcome::kTimeout:
        if (absl::Now() >= heartbeat_due &&
            !sender.Heartbeat(std::max(live_->head(), sender.position()))) {
          return ClientGone();
        }
        break;
      case LiveEventBuffer::Outcome::kStopped:
        return shutting_down();
    }
  }
}

}  // namespace inventory
