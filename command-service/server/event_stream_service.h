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
#ifndef INVENTORY_COMMAND_SERVICE_SERVER_EVENT_STREAM_SERVICE_H_
#define INVENTORY_COMMAND_SERVICE_SERVER_EVENT_STREAM_SERVICE_H_

#include <atomic>
#include <functional>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "command-service/server/live_event_buffer.h"
#include "common/event_store.h"
#include "inventory/v1/event_stream_service.grpc.pb.h"

namespace inventory {

// Thread-safe: one gRPC thread per subscription.
class EventStreamService final
    : public inventory::v1::EventStreamService::Service {
 public:
  struct Options {
    absl::Duration heartbeat_interval = absl::Seconds(5);
    int64_t catch_up_batch = 1000;  // events read from the store at once
    size_t live_batch = 512;        // events taken from the buffer at once
  };

  // `store` and `live` must outlive the service.
  EventStreamService(EventStore* store, LiveEventBuffer* live, Options options);

  grpc::Status Subscribe(
      grpc::ServerContext* context,
      const inventory::v1::SubscribeRequest* request,
      grpc::ServerWriter<inventory::v1::SubscribeResponse>* writer) override;

  // Ends every subscription (UNAVAILABLE: "server is shutting down") within
  // a fraction of a second, so the server can stop.
  void BeginShutdown() { shutting_down_ = true; }

  // The transport-independent body of Subscribe(), for tests: `send`
  // returns false when the client is gone; `cancelled` is polled.
  absl::Status RunSubscription(
      const inventory::v1::SubscribeRequest& request,
      const std::function<bool(const inventory::v1::SubscribeResponse&)>& send,
      const std::function<bool()>& cancelled);

 private:
  EventStore* const store_;
  LiveEventBuffer* const live_;
  const Options options_;
  std::atomic<bool> shutting_down_{false};
};

// INVALID_ARGUMENT naming the field when the request is malformed: negative
// after_position, an unknown event type, a stream id prefix over 256 bytes.
absl::Status ValidateSubscribeRequest(
    const inventory::v1::SubscribeRequest& request);

}  // namespace inventory

#endif  // INVENTORY_COMMAND_SERVICE_SERVER_EVENT_STREAM_SERVICE_H_
