// The command-service's log of its health: a change of the database
// probe's answer is one line, whatever the number of probes, in process on
// an in-memory store whose HeadPosition (the probe) can be made to fail.
#include <string>

#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "command-service/server/command_server.h"
#include "common/base/log_capture.h"
#include "common/base/status_matchers.h"
#include "common/eventstore/mock_event_store.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/in_process_services.h"

namespace inventory {
namespace {

constexpr absl::Duration kWaitTimeout = absl::Seconds(15);

// The database probe (HeadPosition) as a test steers it: failing while
// `down` is set, and counted, so that a test can wait for probes.
class Probes {
 public:
  // Makes `store`'s HeadPosition go through this object; before the store
  // is in use.
  explicit Probes(MockEventStore& store) {
    EventStore* const real = &store.real();
    ON_CALL(store, HeadPosition()).WillByDefault([this, real] {
      {
        absl::MutexLock lock(&mu_);
        ++probes_;
        if (down_) {
          return absl::StatusOr<int64_t>(absl::UnavailableError(
              "connection to server failed: Connection refused\n\tIs the "
              "server running?"));
        }
      }
      return real->HeadPosition();
    });
  }

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

 private:
  absl::Mutex mu_;
  bool down_ ABSL_GUARDED_BY(mu_) = false;
  int probes_ ABSL_GUARDED_BY(mu_) = 0;
};

TEST(CommandServerHealthLogTest, EachChangeOfTheProbesAnswerIsLoggedOnce) {
  LogCapture log;
  NiceMockEventStore store;  // in memory
  Probes probes(store);
  CommandServerOptions options;
  options.listen = "127.0.0.1:0";
  options.health_probe_interval = absl::Milliseconds(5);
  auto service = test_support::StartInProcessCommandService(&store, options);
  ASSERT_THAT(service, IsOk());
  ASSERT_TRUE(log.WaitFor("health: SERVING (database answers)", kWaitTimeout));

  // The database stops answering: many probes, one line, with the first
  // line of the reason.
  probes.SetDown(true);
  const std::string down =
      "health: NOT_SERVING (database unreachable: connection to server "
      "failed: Connection refused)";
  ASSERT_TRUE(log.WaitFor(down, kWaitTimeout));
  ASSERT_TRUE(probes.AwaitProbes(probes.probes() + 5));
  EXPECT_EQ(log.Count("health: NOT_SERVING"), 1);
  EXPECT_EQ(log.Count(down), 1);

  // It answers again: one line, then quiet.
  probes.SetDown(false);
  ASSERT_TRUE(
      log.WaitFor("health: SERVING (database answers again)", kWaitTimeout));
  ASSERT_TRUE(probes.AwaitProbes(probes.probes() + 5));
  EXPECT_EQ(log.Count("health: SERVING (database answers again)"), 1);
  EXPECT_EQ(log.Count("health: SERVING (database answers)"), 1);
  EXPECT_EQ(log.Count("health: NOT_SERVING"), 1);

  // A second outage is a second change.
  probes.SetDown(true);
  ASSERT_TRUE(log.WaitFor(down, kWaitTimeout, /*count=*/2));
  ASSERT_TRUE(probes.AwaitProbes(probes.probes() + 5));
  EXPECT_EQ(log.Count("health: NOT_SERVING"), 2);
  (*service)->server->Shutdown(absl::Seconds(1));
}

}  // namespace
}  // namespace inventory
