#include "common/socket_watchdog.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>

#include "common/log.h"

namespace inventory {

SocketWatchdog::SocketWatchdog() : thread_([this] { Loop(); }) {}

SocketWatchdog::~SocketWatchdog() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
    changed_ = true;
  }
  thread_.join();
  absl::MutexLock lock(&mu_);
  for (auto& [id, entry] : watches_) ::close(entry.fd);
}

int64_t SocketWatchdog::Watch(int fd, absl::Time deadline) {
  if (fd < 0) return 0;
  const int own = ::fcntl(fd, F_DUPFD_CLOEXEC, 0);
  if (own < 0) {
    LogWarning("socket watchdog: cannot duplicate descriptor ", fd,
               " (out of descriptors?); this call runs without a deadline");
    return 0;
  }
  absl::MutexLock lock(&mu_);
  const int64_t id = ++last_id_;
  watches_[id] = Entry{own, deadline};
  // The thread sleeps until the earliest deadline; wake it only when this
  // one is earlier.
  if (deadline < next_due_) changed_ = true;
  return id;
}

bool SocketWatchdog::Unwatch(int64_t id) {
  absl::MutexLock lock(&mu_);
  auto it = watches_.find(id);
  if (it == watches_.end()) return false;
  const bool fired = it->second.fired;
  ::close(it->second.fd);
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
    next_due_ = next;
    changed_ = false;
    mu_.AwaitWithDeadline(absl::Condition(&changed_), next);
  }
}

}  // namespace inventory
