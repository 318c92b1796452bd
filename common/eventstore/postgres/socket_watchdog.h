// Deadlines for blocking calls on sockets that a library owns.
//
// libpq waits for a server's answer without a timeout of its own, and a
// connection can go silent without an error ever arriving (no FIN, no RST;
// a middlebox that keeps acknowledging). A SocketWatchdog shuts down the
// socket of a call that outlives its deadline (shutdown(2), not close(2):
// the descriptor stays its owner's), so the blocked call wakes with an
// error and the owner drops the connection.
//
//   SocketWatchdog watchdog;
//   const int64_t watch = watchdog.Watch(connection.sock(), deadline);
//   ... blocking calls on the connection ...
//   if (watchdog.Unwatch(watch)) { /* it fired: the connection is dead */ }
//
// The watchdog keeps a duplicate of the descriptor until Unwatch(), so the
// socket it shuts down is always the watched one, even when the owner has
// closed its descriptor meanwhile (libpq does, on a lost connection) and
// the number went to a new socket.
#ifndef INVENTORY_COMMON_EVENTSTORE_POSTGRES_SOCKET_WATCHDOG_H_
#define INVENTORY_COMMON_EVENTSTORE_POSTGRES_SOCKET_WATCHDOG_H_

#include <cstdint>

#include "absl/time/time.h"
#include "common/base/watchdog.h"

namespace inventory {

// Thread-safe. One thread (a Watchdog), asleep while no watch is due.
class SocketWatchdog {
 public:
  // Shuts the socket of `fd` down (both directions) at `deadline` unless
  // unwatched before. Returns the watch's id; 0 (no watch) when `fd` is
  // negative or cannot be duplicated.
  int64_t Watch(int fd, absl::Time deadline);
  // Ends the watch; true when it fired. An unknown id (or 0) is false.
  bool Unwatch(int64_t id) { return watchdog_.Unwatch(id); }

 private:
  Watchdog watchdog_;
};

}  // namespace inventory

#endif  // INVENTORY_COMMON_EVENTSTORE_POSTGRES_SOCKET_WATCHDOG_H_
