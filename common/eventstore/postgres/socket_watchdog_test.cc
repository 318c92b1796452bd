#include "common/eventstore/postgres/socket_watchdog.h"

#include <sys/socket.h>
#include <unistd.h>

#include "absl/time/clock.h"
#include "gtest/gtest.h"

namespace inventory {
namespace {

// A connected pair of stream sockets; closed at the end of the test.
class SocketPair {
 public:
  SocketPair() { EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM, 0, fds_), 0); }
  ~SocketPair() {
    ::close(fds_[0]);
    ::close(fds_[1]);
  }
  int watched() const { return fds_[0]; }
  int peer() const { return fds_[1]; }

 private:
  int fds_[2] = {-1, -1};
};

// Fails unless a byte goes each way through `sockets`.
void ExpectCarriesDataBothWays(const SocketPair& sockets) {
  char byte;
  ASSERT_EQ(::send(sockets.peer(), "x", 1, 0), 1);
  EXPECT_EQ(::recv(sockets.watched(), &byte, 1, 0), 1);
  EXPECT_EQ(byte, 'x');
  ASSERT_EQ(::send(sockets.watched(), "y", 1, 0), 1);
  EXPECT_EQ(::recv(sockets.peer(), &byte, 1, 0), 1);
  EXPECT_EQ(byte, 'y');
}

TEST(SocketWatchdogTest, WakesABlockedReadAtTheDeadline) {
  SocketPair sockets;
  SocketWatchdog watchdog;
  const int64_t watch =
      watchdog.Watch(sockets.watched(), absl::Now() + absl::Milliseconds(50));
  char byte;
  // The peer never writes: only the watchdog can end this read.
  EXPECT_EQ(::recv(sockets.watched(), &byte, 1, 0), 0);
  EXPECT_TRUE(watchdog.Unwatch(watch));
}

TEST(SocketWatchdogTest, AnUnwatchedSocketIsLeftAlone) {
  SocketPair sockets;
  SocketWatchdog watchdog;
  const int64_t watch =
      watchdog.Watch(sockets.watched(), absl::Now() + absl::Milliseconds(50));
  EXPECT_FALSE(watchdog.Unwatch(watch));
  // A later watch that fires proves the first deadline passed meanwhile.
  SocketPair other;
  const int64_t later =
      watchdog.Watch(other.watched(), absl::Now() + absl::Milliseconds(100));
  char byte;
  EXPECT_EQ(::recv(other.watched(), &byte, 1, 0), 0);
  EXPECT_TRUE(watchdog.Unwatch(later));
  // The first socket still carries data both ways.
  ExpectCarriesDataBothWays(sockets);
}

TEST(SocketWatchdogTest, AnEarlierDeadlineAddedLaterFiresFirst) {
  SocketPair slow;
  SocketPair fast;
  SocketWatchdog watchdog;
  const int64_t slow_watch =
      watchdog.Watch(slow.watched(), absl::Now() + absl::Hours(1));
  const int64_t fast_watch =
      watchdog.Watch(fast.watched(), absl::Now() + absl::Milliseconds(20));
  char byte;
  EXPECT_EQ(::recv(fast.watched(), &byte, 1, 0), 0);
  EXPECT_TRUE(watchdog.Unwatch(fast_watch));
  EXPECT_FALSE(watchdog.Unwatch(slow_watch));
}

TEST(SocketWatchdogTest, ADescriptorClosedAndReusedIsNotShutDown) {
  SocketWatchdog watchdog;
  int first[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM, 0, first), 0);
  const int64_t watch =
      watchdog.Watch(first[0], absl::Now() + absl::Milliseconds(50));
  // The owner closes its descriptor (as libpq does on a lost connection);
  // a new socket may get the same number.
  ::close(first[0]);
  SocketPair reused;
  // A later deadline that fires shows the first one was handled.
  SocketPair later;
  const int64_t later_watch =
      watchdog.Watch(later.watched(), absl::Now() + absl::Milliseconds(100));
  char byte;
  EXPECT_EQ(::recv(later.watched(), &byte, 1, 0), 0);
  EXPECT_TRUE(watchdog.Unwatch(later_watch));
  // The first socket's peer sees its end shut down while the watchdog
  // still holds it open (without the shutdown: no data, EAGAIN).
  EXPECT_EQ(::recv(first[1], &byte, 1, MSG_DONTWAIT), 0);
  EXPECT_TRUE(watchdog.Unwatch(watch));
  // The new socket, whatever its number, was not touched.
  ExpectCarriesDataBothWays(reused);
  ::close(first[1]);
}

TEST(SocketWatchdogTest, UnknownWatchesAreNotFired) {
  SocketWatchdog watchdog;
  EXPECT_FALSE(watchdog.Unwatch(0));
  EXPECT_FALSE(watchdog.Unwatch(42));
}

}  // namespace
}  // namespace inventory
