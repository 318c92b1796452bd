// Watchdog: runs an action when a deadline passes, unless the watch ended
// first. The building block for deadlines on calls that cannot take one
// themselves: a libpq call blocked on a silent socket (SocketWatchdog), a
// gRPC stream write blocked on a client that stopped reading.
//
//   Watchdog watchdog;
//   const int64_t watch = watchdog.Watch(deadline, [&] { call.Cancel(); });
//   ... the blocking call ...
//   if (watchdog.Unwatch(watch)) { /* it fired: the call was cut short */ }
#ifndef INVENTORY_COMMON_BASE_WATCHDOG_H_
#define INVENTORY_COMMON_BASE_WATCHDOG_H_

#include <cstdint>
#include <functional>
#include <map>
#include <thread>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace inventory {

// Thread-safe. One thread, asleep while no watch is due.
class Watchdog {
 public:
  Watchdog();
  // Fires nothing more; drops the watches left (destroying their actions).
  ~Watchdog();
  Watchdog(const Watchdog&) = delete;
  Watchdog& operator=(const Watchdog&) = delete;

  // Runs `fire` once at `deadline` unless unwatched before. `fire` runs on
  // the watchdog's thread under its lock: it must be short and must not
  // call back into the watchdog. It is destroyed by Unwatch(), so it may
  // own resources. Returns the watch's id (never 0).
  int64_t Watch(absl::Time deadline, std::function<void()> fire);
  // Ends the watch; true when it fired. Once this returns, `fire` is not
  // running and never will. An unknown id (or 0) is false.
  bool Unwatch(int64_t id);

 private:
  struct Entry {
    absl::Time deadline;
    std::function<void()> fire;
    bool fired = false;
  };

  void Loop();

  absl::Mutex mu_;
  std::map<int64_t, Entry> watches_ ABSL_GUARDED_BY(mu_);
  int64_t last_id_ ABSL_GUARDED_BY(mu_) = 0;
  bool changed_ ABSL_GUARDED_BY(mu_) = false;
  // The earliest deadline the thread sleeps until.
  absl::Time next_due_ ABSL_GUARDED_BY(mu_) = absl::InfiniteFuture();
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;  // last: starts once the fields above exist
};

}  // namespace inventory

#endif  // INVENTORY_COMMON_BASE_WATCHDOG_H_
