// EventStreamService: publishes the global event log as a gRPC server
// stream (inventory.v1.EventStreamService.Subscribe).
//
// A subscription has two phases. Catch-up: every stored event after the
// requested position, read from the store in batches, then a CaughtUp
// message with the head position at the time the subscription started.
// Live: events from the shared LiveEventBuffer as they commit (falling back
// to the store whenever the subscriber has fallen out of the buffer's
// window), and a Heartbeat whenever nothing was sent for a while. Positions
// only ever increase, and without a filter they are consecutive.
//
// A subscription whose position is beyond the log's head (after_position
// above the head at the start; or, while live, a log that became shorter
// under it: LiveEventBuffer::shrinks(), or a store head below it when a
// heartbeat is due) ends with OUT_OF_RANGE, reason
// LOG_POSITION_OUT_OF_RANGE, naming both positions: its checkpoint belongs
// to another log, and waiting would silently skip the events the shorter
// log gets at positions the subscriber has seen already.
//
// The walk along the log is EventSubscription's (event_subscription.h),
// which knows nothing of gRPC; this service adds what belongs to the call:
// request validation, the caps on open subscriptions, the write timeout
// for stalled readers, shutdown, and the conversion of the final status.
#ifndef INVENTORY_COMMAND_SERVICE_SERVER_EVENT_STREAM_SERVICE_H_
#define INVENTORY_COMMAND_SERVICE_SERVER_EVENT_STREAM_SERVICE_H_

#include <atomic>
#include <functional>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "command-service/server/live_event_buffer.h"
#include "common/eventstore/event_store.h"
#include "common/rpc/concurrency_limit.h"
#include "common/rpc/raw_request_service.h"
#include "inventory/v1/event_stream_service.grpc.pb.h"

namespace inventory {

// Requests are decoded by RawRequestService, so a string that is not valid
// UTF-8 is INVALID_ARGUMENT naming the field.
//
// Thread-safe: one gRPC thread per subscription.
class EventStreamService final
    : public RawRequestService<inventory::v1::EventStreamService::Service> {
 public:
  struct Options {
    absl::Duration heartbeat_interval = absl::Seconds(5);
    int64_t catch_up_batch = 1000;  // events read from the store at once
    size_t live_batch = 512;        // events taken from the buffer at once
    // Subscriptions open at once; one more is RESOURCE_EXHAUSTED. Each
    // holds a gRPC thread, so this stays well below the thread limit.
    int64_t max_subscribers = 128;
    // ... and from one client address (0: no cap per client), so that one
    // client cannot keep every other subscriber out.
    int64_t max_subscribers_per_client = 32;
    // A subscriber that reads nothing for this long while a message waits
    // for it is dropped, and its slot and thread come free.
    absl::Duration write_timeout = absl::Seconds(30);
  };

  // `store` and `live` must outlive the service.
  EventStreamService(EventStore* store, LiveEventBuffer* live, Options options);

  // Ends every subscription (UNAVAILABLE: "server is shutting down") within
  // a fraction of a second, so the server can stop.
  void BeginShutdown() { shutting_down_ = true; }

  // The transport-independent body of Subscribe, for tests: `send`
  // returns false when the client is gone; `cancelled` is polled.
  // RESOURCE_EXHAUSTED when Options::max_subscribers are open already, or
  // max_subscribers_per_client from `client` (its address).
  absl::Status RunSubscription(
      const inventory::v1::SubscribeRequest& request,
      const std::function<bool(const inventory::v1::SubscribeResponse&)>& send,
      const std::function<bool()>& cancelled, absl::string_view client = "");

  // Subscriptions open now.
  int64_t subscribers() const { return subscribers_.in_use(); }

 private:
  grpc::Status ServeSubscription(
      grpc::ServerContext* context,
      const inventory::v1::SubscribeRequest& request,
      const Send<inventory::v1::SubscribeResponse>& send);

  EventStore* const store_;
  LiveEventBuffer* const live_;
  const Options options_;
  ConcurrencyLimit subscribers_;
  std::atomic<bool> shutting_down_{false};
};

// INVALID_ARGUMENT naming the field when the request is malformed: negative
// after_position or max_events_per_message, an unknown event type, more
// than 16 event types, a stream id prefix over 256 bytes.
absl::Status ValidateSubscribeRequest(
    const inventory::v1::SubscribeRequest& request);

}  // namespace inventory

#endif  // INVENTORY_COMMAND_SERVICE_SERVER_EVENT_STREAM_SERVICE_H_
