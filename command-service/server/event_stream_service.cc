#include "command-service/server/event_stream_service.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "command-service/server/event_subscription.h"
#include "common/api/event_codec.h"
#include "common/base/error_reason.h"
#include "common/base/field_violation.h"
#include "common/base/log.h"
#include "common/base/status_macros.h"
#include "common/rpc/grpc_server.h"
#include "common/rpc/grpc_status.h"

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
  const EventSubscription::Options subscription_options{
      options_.heartbeat_interval, options_.catch_up_batch,
      options_.live_batch};
  EventSubscription subscription(
      store_, live_, subscription_options, request, send,
      {cancelled, [this] { return shutting_down_.load(); }});
  return subscription.Run();
}

}  // namespace inventory
