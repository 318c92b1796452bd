#include "common/socket_watchdog.h"

#include <sys/socket.h>

#include <algorithm>

namespace inventory {

SocketWatchdog::SocketWatchdog() : thread_([this] { Loop(); }) {}

SocketWatchdog::~SocketWatchdog() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
    changed_ = true;
  }
  thread_.join();
}

int64_t SocketWatchdog::Watch(int fd, absl::Time deadline) {
  absl::MutexLock lock(&mu_);
  const int64_t id = ++last_id_;
  watches_[id] = Entry{fd, deadline};
  changed_ = true;
  return id;
}

bool SocketWatchdog::Unwatch(int64_t id) {
  absl::MutexLock lock(&mu_);
  auto it = watches_.find(id);
  if (it == watches_.end()) return false;
  const bool fired = it->second.fired;
  watches_.erase(it);
  return fired;
}

void SocketWatchdog::Loop() {
  absl::MutexLock lock(&mu_);
  while (!stopping_) {
    absl::Time next = absl::InfiniteFuture();
    const absl::Time now = absl::Now();
    for (auto& [id, entry] : watches_) {
      if (entry.fired) continue;
      if (entry.deadline <= now) {
        entry.fired = true;
        ::shutdown(entry.fd, SHUT_RDWR);
      } else {
        next = std::min(next, entry.deadline);
      }
    }
    changed_ = false;
    mu_.AwaitWithDeadline(absl::Condition(&changed_), next);
  }
}

}  // namespace inventory
