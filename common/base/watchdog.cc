#include "common/base/watchdog.h"

#include <algorithm>
#include <utility>

namespace inventory {

Watchdog::Watchdog() : thread_([this] { Loop(); }) {}

Watchdog::~Watchdog() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
    changed_ = true;
  }
  thread_.join();
}

int64_t Watchdog::Watch(absl::Time deadline, std::function<void()> fire) {
  absl::MutexLock lock(&mu_);
  const int64_t id = ++last_id_;
  watches_[id] = Entry{deadline, std::move(fire)};
  // The thread sleeps until the earliest deadline; wake it only when this
  // one is earlier.
  if (deadline < next_due_) changed_ = true;
  return id;
}

bool Watchdog::Unwatch(int64_t id) {
  std::function<void()> done;  // destroyed outside the lock
  absl::MutexLock lock(&mu_);
  auto it = watches_.find(id);
  if (it == watches_.end()) return false;
  const bool fired = it->second.fired;
  done = std::move(it->second.fire);
  watches_.erase(it);
  return fired;
}

void Watchdog::Loop() {
  absl::MutexLock lock(&mu_);
  while (!stopping_) {
    absl::Time next = absl::InfiniteFuture();
    const absl::Time now = absl::Now();
    for (auto& [id, entry] : watches_) {
      if (entry.fired) continue;
      if (entry.deadline <= now) {
        entry.fired = true;
        entry.fire();
      } else {
        next = std::min(next, entry.deadline);
      }
    }
    next_due_ = next;
    changed_ = false;
    mu_.AwaitWithDeadline(absl::Condition(&changed_), next);
  }
}

}  // namespace inventory
