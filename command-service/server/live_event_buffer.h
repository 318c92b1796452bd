// LiveEventBuffer: the most recent events of the log, shared by every
// subscriber of the event stream.
//
// One thread tails the store (waking on its change notification, so appends
// by other processes arrive too), converts each new event to its wire form
// once, and keeps the newest `capacity` of them. Subscribers read from this
// window by position. A subscriber that falls further behind than the
// window is told so (kTooOld) and reads from the store instead until it is
// close again. Memory therefore stays bounded by `capacity` whatever the
// number or speed of subscribers, and a slow subscriber never holds back a
// fast one: nobody waits for anybody.
#ifndef INVENTORY_COMMAND_SERVICE_SERVER_LIVE_EVENT_BUFFER_H_
#define INVENTORY_COMMAND_SERVICE_SERVER_LIVE_EVENT_BUFFER_H_

#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/eventstore/event_store.h"
#include "inventory/v1/events.pb.h"

namespace inventory {

using SharedEvent = std::shared_ptr<const inventory::v1::Event>;

// The wire form of a recorded event. An event whose payload cannot be
// decoded keeps its envelope (position, stream, type) without payload, so
// that subscribers still see every position; the problem is logged.
void DecodeEventKeepingEnvelope(const RecordedEvent& recorded,
                                inventory::v1::Event* out);
SharedEvent ToSharedEvent(const RecordedEvent& recorded);

// Thread-safe.
class LiveEventBuffer {
 public:
  struct Options {
    size_t capacity = 8192;    // events kept in memory
    int64_t read_batch = 512;  // events read from the store at once
    absl::Duration idle_wait = absl::Seconds(1);  // store wait per round
    // While idle, how often the store's head is compared with the
    // buffer's, to notice a log that became shorter (see shrinks()).
    absl::Duration head_check_interval = absl::Seconds(5);
  };
  enum class Outcome { kEvents, kTimeout, kTooOld, kStopped };

  // `store` must outlive the buffer. Starts tailing from the store's head.
  LiveEventBuffer(EventStore* store, Options options);
  // Stops the tailing thread.
  ~LiveEventBuffer();
  LiveEventBuffer(const LiveEventBuffer&) = delete;
  LiveEventBuffer& operator=(const LiveEventBuffer&) = delete;

  // Waits until the window holds events after `position`, then appends up
  // to `max_count` of them, in order, to `out` (kEvents). kTimeout when
  // `deadline` passes first; kTooOld when events after `position` have
  // already left the window (read them from the store); kStopped after
  // Stop().
  Outcome WaitForEventsAfter(int64_t position, absl::Time deadline,
                             size_t max_count, std::vector<SharedEvent>* out);

  // The position of the newest event the buffer has seen.
  int64_t head() const;
  // How often the store's head was found below the buffer's (a database
  // restored from a backup, or failed over to a copy without the last
  // events). The buffer then forgets its window and follows the store
  // from its new head; subscribers past that head are beyond the log.
  int64_t shrinks() const;
  // The lowest head the store had after the shrinks that followed the
  // first `seen` ones; nullopt when there were none.
  std::optional<int64_t> LowestHeadAfterShrinks(int64_t seen) const;
  // Events held now (never more than capacity).
  size_t size() const;
  // Wakes every waiter with kStopped and ends the tailing thread.
  void Stop();

 private:
  void Tail();
  // Waits up to `timeout` unless stopped; returns false when stopped.
  bool PauseUnlessStopped(absl::Duration timeout);

  EventStore* const store_;
  const Options options_;
  mutable absl::Mutex mu_;
  std::deque<SharedEvent> window_ ABSL_GUARDED_BY(mu_);  // consecutive
  int64_t head_ ABSL_GUARDED_BY(mu_) = -1;  // -1 until the first read
  // heads_after_shrinks_[i]: the store's head found at shrink i + 1.
  std::vector<int64_t> heads_after_shrinks_ ABSL_GUARDED_BY(mu_);
  bool stopped_ ABSL_GUARDED_BY(mu_) = false;
  std::thread tailer_;
};

}  // namespace inventory

#endif  // INVENTORY_COMMAND_SERVICE_SERVER_LIVE_EVENT_BUFFER_H_
