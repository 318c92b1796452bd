// EventSubscription: one subscriber's walk along the global event log, the
// body of EventStreamService.Subscribe without gRPC (event_stream_service.h
// tells the story the client sees).
//
// Catch-up: every stored event after the requested position, read from the
// store a page (Options::catch_up_batch events) at a time, the next page
// read while the current one is sent; then a CaughtUp message with the
// store's head at the start. Live: events from the LiveEventBuffer as they
// commit (a page from the store whenever the subscriber has fallen out of
// the buffer's window), and a Heartbeat whenever nothing was sent for
// Options::heartbeat_interval. Every event after the requested position is
// considered exactly once, in order: the switch from catch-up to live
// leaves no gap and repeats nothing.
//
// Events that pass the request's filter are sent one per message, or
// grouped into EventBatch messages when the request asks for
// max_events_per_message above 1 (at most 1024 events, and a batch reaching
// 1 MiB is sent early). A batch is never held back while the subscription
// waits: it is sent at the end of every store page and buffer read.
#ifndef INVENTORY_COMMAND_SERVICE_SERVER_EVENT_SUBSCRIPTION_H_
#define INVENTORY_COMMAND_SERVICE_SERVER_EVENT_SUBSCRIPTION_H_

#include <cstdint>
#include <functional>
#include <memory>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "command-service/server/live_event_buffer.h"
#include "common/eventstore/event_store.h"
#include "inventory/v1/event_stream_service.pb.h"

namespace inventory {

// Not thread-safe: one thread runs one subscription. Many subscriptions may
// share a store and a buffer.
class EventSubscription {
 public:
  struct Options {
    absl::Duration heartbeat_interval = absl::Seconds(5);
    int64_t catch_up_batch = 1000;  // events read from the store at once
    size_t live_batch = 512;        // events taken from the buffer at once
  };
  // Delivers one message; returns false when the subscriber is gone.
  using Sink =
      std::function<bool(const inventory::v1::SubscribeResponse& message)>;
  // Why a subscription should end early. Both are polled between store
  // pages and at least every 200 ms while the subscription waits.
  struct Stop {
    std::function<bool()> cancelled;      // the subscriber went away
    std::function<bool()> shutting_down;  // the server is stopping
  };

  // `request` (copied) must have passed ValidateSubscribeRequest()
  // (event_stream_service.h). `store` and `live` must outlive the
  // subscription.
  EventSubscription(EventStore* store, LiveEventBuffer* live, Options options,
                    const inventory::v1::SubscribeRequest& request, Sink send,
                    Stop stop);
  ~EventSubscription();
  EventSubscription(const EventSubscription&) = delete;
  EventSubscription& operator=(const EventSubscription&) = delete;

  // Sends the subscription until it ends; call once. It never ends OK:
  //  * CANCELLED "client went away" when the sink returned false or
  //    Stop::cancelled said so;
  //  * UNAVAILABLE, reason SHUTTING_DOWN, when Stop::shutting_down said so
  //    or the buffer was stopped;
  //  * OUT_OF_RANGE, reason LOG_POSITION_OUT_OF_RANGE, when the position is
  //    beyond the log's head: after_position above the store's head at the
  //    start (nothing is sent), or, while live, a log that became shorter
  //    under it (LiveEventBuffer::shrinks(), or a store head below it when a
  //    heartbeat is due);
  //  * OUT_OF_RANGE, reason LOG_DIVERGED, when after_event_id is set and the
  //    store holds another event at after_position (nothing is sent);
  //  * the store's own error when it fails during catch-up or while
  //    reading past the buffer's window (the events before it were sent).
  //    A store that fails while a heartbeat's head is looked up does not
  //    end the subscription.
  absl::Status Run();

  // The position of the last event considered (sent, or skipped by the
  // filter): the request's after_position until the first one.
  int64_t position() const;

 private:
  class Sender;

  // Sends the stored events after position() up to `until` (up to the
  // store's end when until < 0).
  absl::Status ReadStore(int64_t until);
  // The head a heartbeat reports (see the .cc).
  absl::StatusOr<int64_t> HeadForHeartbeat();
  // Non-OK when Stop says the subscription should end.
  absl::Status Stopping() const;

  EventStore* const store_;
  LiveEventBuffer* const live_;
  const Options options_;
  const inventory::v1::SubscribeRequest request_;
  const Sink send_;
  const Stop stop_;
  std::unique_ptr<Sender> sender_;
};

}  // namespace inventory

#endif  // INVENTORY_COMMAND_SERVICE_SERVER_EVENT_SUBSCRIPTION_H_
