#include "common/eventstore/postgres/socket_watchdog.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <memory>

#include "common/base/log.h"

namespace inventory {
namespace {

// The watchdog's own duplicate of a descriptor, closed with the watch.
class OwnedDescriptor {
 public:
  explicit OwnedDescriptor(int fd) : fd_(fd) {}
  OwnedDescriptor(const OwnedDescriptor&) = delete;
  OwnedDescriptor& operator=(const OwnedDescriptor&) = delete;
  ~OwnedDescriptor() { ::close(fd_); }
  int fd() const { return fd_; }

 private:
  const int fd_;
};

}  // namespace

int64_t SocketWatchdog::Watch(int fd, absl::Time deadline) {
  if (fd < 0) return 0;
  const int own = ::fcntl(fd, F_DUPFD_CLOEXEC, 0);
  if (own < 0) {
    LogWarning("socket watchdog: cannot duplicate descriptor ", fd,
               " (out of descriptors?); this call runs without a deadline");
    return 0;
  }
  auto socket = std::make_shared<OwnedDescriptor>(own);
  return watchdog_.Watch(deadline,
                         [socket] { ::shutdown(socket->fd(), SHUT_RDWR); });
}

}  // namespace inventory
