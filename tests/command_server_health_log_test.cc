// The command-service's log of its health: a change of the database
// probe's answer is one line, whatever the number of probes, in process on
// an in-memory store whose HeadPosition (the probe) can be made to fail.
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "command-service/server/command_server.h"
#include "common/base/log_capture.h"
#include "common/eventstore/forwarding_event_store.h"
#include "common/eventstore/in_memory_event_store.h"
#include "gtest/gtest.h"

namespace inventory {
namespace {

constexpr absl::Duration kWaitTimeout = absl::Seconds(15);

// An in-memory store whose HeadPosition fails while `down` is set, and
// which counts the calls of it, so that a test can wait for probes.
class ProbedStore final : public ForwardingEventStore {
 public:
  ProbedStore() : ForwardingEventStore(&store_) {}

  void SetDown(bool down) {
    absl::MutexLock lock(&mu_);
    down_ = down;
  }
  // Waits until HeadPosition was called `count` times in all.
  bool AwaitProbes(int count) {
    absl::MutexLock lock(&mu_);
    auto enough = [&]() ABSL_SHARED_LOCKS_REQUIRED(mu_) {
      return probes_ >= count;
    };
    return mu_.AwaitWithTimeout(absl::Condition(&enough), kWaitTimeout);
  }
  int probes() {
    absl::MutexLock lock(&mu_);
    return probes_;
  }

  absl::StatusOr<int64_t> HeadPosition() override {
    {
      absl::MutexLock lock(&mu_);
      ++probes_;
      if (down_) {
        return absl::UnavailableError(
            "connection to server failed: Connection refused\n\tIs the "
            "server running?");
      }
    }
    return ForwardingEventStore::HeadPosition();
  }

 private:
  InMemoryEventStore store_;
  absl::Mutex mu_;
  bool down_ ABSL_GUARDED_BY(mu_) = false;
  int probes_ ABSL_GUARDED_BY(mu_) = 0;
};

TEST(CommandServerHealthLogTest, EachChangeOfTheProbesAnswerIsLoggedOnce) {
  LogCapture log;
  ProbedStore store;
  CommandServerOptions options;
  options.listen = "127.0.0.1:0";
  options.health_probe_interval = absl::Milliseconds(5);
  absl::StatusOr<std::unique_ptr<CommandServer>> server =
      CommandServer::Start(&store, options);
  ASSERT_TRUE(server.ok()) << server.status();
  ASSERT_TRUE(log.WaitFor("health: SERVING (database answers)", kWaitTimeout));

  // The database stops answering: many probes, one line, with the first
  // line of the reason.
  store.SetDown(true);
  const std::string down =
      "health: NOT_SERVING (database unreachable: connection to server "
      "failed: Connection refused)";
  ASSERT_TRUE(log.WaitFor(down, kWaitTimeout));
  ASSERT_TRUE(store.AwaitProbes(store.probes() + 5));
  EXPECT_EQ(log.Count("health: NOT_SERVING"), 1);
  EXPECT_EQ(log.Count(down), 1);

  // It answers again: one line, then quiet.
  store.SetDown(false);
  ASSERT_TRUE(
      log.WaitFor("health: SERVING (database answers again)", kWaitTimeout));
  ASSERT_TRUE(store.AwaitProbes(store.probes() + 5));
  EXPECT_EQ(log.Count("health: SERVING (database answers again)"), 1);
  EXPECT_EQ(log.Count("health: SERVING (database answers)"), 1);
  EXPECT_EQ(log.Count("health: NOT_SERVING"), 1);

  // A second outage is a second change.
  store.SetDown(true);
  ASSERT_TRUE(log.WaitFor(down, kWaitTimeout, /*count=*/2));
  ASSERT_TRUE(store.AwaitProbes(store.probes() + 5));
  EXPECT_EQ(log.Count("health: NOT_SERVING"), 2);
  (*server)->Shutdown(absl::Seconds(1));
}

}  // namespace
}  // namespace inventory
