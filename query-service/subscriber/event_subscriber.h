// EventSubscriber: keeps the read model in step with the command-service's
// event stream.
//
// It subscribes after the read model's checkpoint (its position), applies
// each event in order, and, when the stream breaks (command-service
// restarted, network cut, a stream silent for longer than stall_timeout),
// reconnects with capped exponential backoff and resumes after the
// checkpoint. Because the read model ignores positions it already has and
// refuses gaps, every event is applied exactly once, in order.
//
// Within a subscription, one thread reads (and parses) stream messages while
// another applies them, through a short queue, so that receiving the next
// batch overlaps applying the last one.
#ifndef INVENTORY_QUERY_SERVICE_SUBSCRIBER_EVENT_SUBSCRIBER_H_
#define INVENTORY_QUERY_SERVICE_SUBSCRIBER_EVENT_SUBSCRIBER_H_

#include <grpcpp/grpcpp.h>

#include <functional>
#include <memory>
#include <thread>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "inventory/v1/event_stream_service.grpc.pb.h"
#include "query-service/read_model/inventory_read_model.h"

namespace inventory {

// Thread-safe.
class EventSubscriber {
 public:
  struct Options {
    absl::Duration initial_backoff = absl::Milliseconds(100);
    absl::Duration max_backoff = absl::Seconds(5);
    // A stream that sends nothing (not even a heartbeat) for this long is
    // considered dead and replaced.
    absl::Duration stall_timeout = absl::Seconds(20);
    // How often progress is logged while catching up.
    absl::Duration progress_interval = absl::Seconds(5);
    // Events per stream message asked of the command-service; batches are
    // applied under one lock of the read model.
    int max_events_per_message = 512;
  };

  // `model` must outlive the subscriber. `on_caught_up` runs once, on the
  // subscriber's applying thread, when the first CaughtUp marker has been
  // reached.
  EventSubscriber(std::shared_ptr<grpc::Channel> channel,
                  InventoryReadModel* model, Options options,
                  std::function<void()> on_caught_up);
  // Stops and joins the thread.
  ~EventSubscriber();

  void Start();
  void Stop();

  // True once the first catch-up completed.
  bool caught_up() const;
  // Number of (re)connections made so far.
  int connections() const;

 private:
  void Run();
  class MessageQueue;
  // One subscription, until it fails or Stop(); returns why it ended.
  grpc::Status SubscribeOnce();
  // Applies the messages of `queue` in order until it is closed and empty;
  // on a refused event cancels `context` and returns the reason.
  absl::Status ApplyMessages(MessageQueue* queue, grpc::ClientContext* context);
  void Watchdog();
  void LogProgress(int64_t head, bool force);

  const std::unique_ptr<inventory::v1::EventStreamService::Stub> stub_;
  InventoryReadModel* const model_;
  const Options options_;
  std::function<void()> on_caught_up_;

  mutable absl::Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  bool caught_up_ ABSL_GUARDED_BY(mu_) = false;
  int connections_ ABSL_GUARDED_BY(mu_) = 0;
  grpc::ClientContext* context_ ABSL_GUARDED_BY(mu_) = nullptr;
  absl::Time last_message_ ABSL_GUARDED_BY(mu_);
  std::thread runner_;
  std::thread watchdog_;

  // Progress reporting, touched by the applying thread only.
  absl::Time last_progress_log_ = absl::InfinitePast();
  int64_t last_progress_position_ = 0;
};

}  // namespace inventory

#endif  // INVENTORY_QUERY_SERVICE_SUBSCRIBER_EVENT_SUBSCRIBER_H_
