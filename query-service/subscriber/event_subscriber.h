// EventSubscriber: keeps the read model in step with the command-service's
// event stream.
//
// It subscribes after the read model's checkpoint (its position), applies
// each event in order, and, when the stream breaks (command-service
// restarted, network cut, a stream silent for longer than stall_timeout),
// reconnects with capped exponential backoff and resumes after the
// checkpoint. A break is logged once, with its reason, and the resumption
// once ("event stream resumed after position N"); the retries between them
// are quiet. Because the read model ignores positions it already has and
// refuses gaps, every event is applied exactly once, in order.
//
// Two ends of a subscription are not ordinary breaks:
//  * The read model refuses an event it cannot project (InventoryReadModel
//    ::Apply). The model stays at the position before it and the service
//    stops serving; the event, its position and type are logged once. No
//    reconnection changes the log, so instead of reconnecting at once the
//    subscriber tries again quietly every Options::stopped_retry_interval:
//    a command-service upgraded meanwhile may now send the event with its
//    payload (and a shorter log would be noticed too). Upgrading the
//    query-service is the real fix; the new process rebuilds from the log.
//  * The log is shorter than the read model: Subscribe answers
//    OUT_OF_RANGE (after_position beyond the head), or a CaughtUp or
//    Heartbeat reports a head below the model's position. The log was
//    restored from a backup or failed over to a copy without the last
//    events, so the model describes a different log: the subscriber logs
//    it, stops serving, resets the model and rebuilds it from position 0.
//
// Within a subscription, one thread reads (and parses) stream messages while
// another applies them, through a short queue, so that receiving the next
// batch overlaps applying the last one.
#ifndef INVENTORY_QUERY_SERVICE_SUBSCRIBER_EVENT_SUBSCRIBER_H_
#define INVENTORY_QUERY_SERVICE_SUBSCRIBER_EVENT_SUBSCRIBER_H_

#include <grpcpp/grpcpp.h>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "inventory/v1/event_stream_service.grpc.pb.h"
#include "query-service/read_model/inventory_read_model.h"
#include "query-service/subscriber/progress_line.h"

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
    // While the read model is stopped at an event it cannot project, how
    // often to subscribe again (without logging).
    absl::Duration stopped_retry_interval = absl::Seconds(30);
  };

  // Called on the subscriber's threads each time the model becomes fit to
  // serve (true: a CaughtUp marker was reached, the first time or after a
  // rebuild or a stop) or stops being so (false: stopped at an event, or
  // rebuilding), with why, e.g. "caught up with the event log at position
  // 34".
  using ServingCallback =
      std::function<void(bool serving, const std::string& why)>;

  // `model` must outlive the subscriber.
  EventSubscriber(std::shared_ptr<grpc::Channel> channel,
                  InventoryReadModel* model, Options options,
                  ServingCallback on_serving);
  // Stops and joins the thread.
  ~EventSubscriber();

  void Start();
  void Stop();

  // True while the model is caught up with the log (since the last
  // CaughtUp marker) and neither stopped nor rebuilding.
  bool serving() const;
  // Number of (re)connections made so far.
  int connections() const;
  // Number of rebuilds from position 0 because the log was shorter.
  int rebuilds() const;

 private:
  // How one subscription ended.
  struct Ending {
    enum class Kind {
      kBroken,             // retry with backoff
      kProjectionStopped,  // the model refused an event
      kLogShorter,         // rebuild from position 0
    };
    Kind kind = Kind::kBroken;
    std::string why;
  };

  void Run();
  class MessageQueue;
  // One subscription, until it fails or Stop(); returns why it ended.
  Ending SubscribeOnce();
  // Applies the messages of `queue` in order until it is closed and empty;
  // on a refused event or a head below the model's position cancels
  // `context` and says why.
  std::optional<Ending> ApplyMessages(MessageQueue* queue,
                                      grpc::ClientContext* context);
  void SetServing(bool serving, const std::string& why);
  void Watchdog();
  // Logs a progress line (progress_line.h) when events were applied since
  // the last one and progress_interval passed, or `force` (caught up).
  void LogProgress(bool force);

  const std::unique_ptr<inventory::v1::EventStreamService::Stub> stub_;
  InventoryReadModel* const model_;
  const Options options_;
  ServingCallback on_serving_;

  mutable absl::Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  bool serving_ ABSL_GUARDED_BY(mu_) = false;
  int connections_ ABSL_GUARDED_BY(mu_) = 0;
  int rebuilds_ ABSL_GUARDED_BY(mu_) = 0;
  grpc::ClientContext* context_ ABSL_GUARDED_BY(mu_) = nullptr;
  absl::Time last_message_ ABSL_GUARDED_BY(mu_);
  std::thread runner_;
  std::thread watchdog_;

  // Progress reporting: where the last line (or the counting) started, and
  // the last head the command-service reported. Set by the running thread
  // before it starts an applying thread, then touched by that thread only.
  ProgressMark progress_mark_;
  std::optional<int64_t> known_head_;
  // A break of the event stream was logged and its resumption not yet:
  // retries stay quiet meanwhile. Touched by the running thread only.
  bool stream_broken_ = false;
  // The position of the refused event last logged (-1: none), so that a
  // stop is logged once however often the subscription is retried. Touched
  // by the running thread and the applying thread it starts and joins.
  int64_t logged_stop_ = -1;
};

}  // namespace inventory

#endif  // INVENTORY_QUERY_SERVICE_SUBSCRIBER_EVENT_SUBSCRIBER_H_
