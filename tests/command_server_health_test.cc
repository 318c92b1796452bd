// The command server's health checking and shutdown, two servers on one
// database, and a database outage (command_server_fixture.h). Linked last
// into command_server_test: DatabaseOutageTest stops and restarts the
// shared PostgreSQL server.
#include <grpcpp/grpcpp.h>

#include "tests/command_server_fixture.h"

namespace inventory::command_server_testing {
namespace {

// --- Health and shutdown --------------------------------------------------

using test_support::AwaitHealth;
using test_support::CheckHealth;

const std::vector<std::string>& OurServices() {
  static const auto* services = new std::vector<std::string>{
      "", "inventory.v1.CommandService", "inventory.v1.EventStreamService"};
  return *services;
}

class HealthAndShutdownTest : public ServerTest {};

TEST_P(HealthAndShutdownTest, ServicesAreServingAndUnknownIsNotFound) {
  for (const std::string& service : OurServices()) {
    SCOPED_TRACE(service);
    HealthCheckResponse::ServingStatus status;
    const grpc::Status result = CheckHealth(node_->health(), service, &status);
    ASSERT_TRUE(result.ok()) << Describe(result);
    EXPECT_EQ(status, HealthCheckResponse::SERVING);
  }
  for (const std::string service :
       {"inventory.v1.QueryService", "no.such.Service", "inventory.v1"}) {
    SCOPED_TRACE(service);
    HealthCheckResponse::ServingStatus status;
    EXPECT_TRUE(HasCode(CheckHealth(node_->health(), service, &status),
                        StatusCode::NOT_FOUND));
  }
}

TEST_P(HealthAndShutdownTest, ShutdownEndsAnOpenSubscriptionWithUnavailable) {
  ASSERT_TRUE(Applied(Send(Create("s")), "s", 1, 1));
  auto caught_up = SubscribeCaughtUp();
  auto other = SubscribeCaughtUp(1);

  // The grace period is long: a stream that does not end by itself would
  // hold Shutdown() for all of it.
  const absl::Time start = absl::Now();
  std::thread shutdown([&] { node_->server().Shutdown(absl::Seconds(20)); });
  for (Subscription* subscription : {caught_up.get(), other.get()}) {
    const std::optional<grpc::Status> end =
        subscription->WaitForEnd(absl::Seconds(10));
    ASSERT_TRUE(end.has_value()) << "stream still open after Shutdown()";
    EXPECT_TRUE(HasCode(*end, StatusCode::UNAVAILABLE));
    EXPECT_THAT(end->error_message(), HasSubstr("shutting down"));
  }
  shutdown.join();
  const absl::Duration took = absl::Now() - start;
  EXPECT_LT(took, absl::Seconds(5)) << "Shutdown() took " << took;
  EXPECT_TRUE(HasCode(Send(Create("after")), StatusCode::UNAVAILABLE));
}

INSTANTIATE_TEST_SUITE_P(Stores, HealthAndShutdownTest,
                         ::testing::Values(StoreKind::kInMemory,
                                           StoreKind::kPostgres),
                         StoreKindName);

// --- PostgreSQL only ------------------------------------------------------

// Two command servers on one database, each on a store of its own: each
// publishes the events the other appends, and they share idempotency.
TEST(SharedDatabaseTest, SubscriberOnOneServerSeesEventsAppendedThroughOther) {
  const std::string url = NewDatabase("shared");
  auto a = StartNode(OpenPostgres(url), TestOptions());
  auto b = StartNode(OpenPostgres(url), TestOptions());
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  Subscription on_a(a->events(), After(0));
  Subscription on_b(b->events(), After(0));
  ASSERT_TRUE(on_a.WaitFor(HasCaughtUp));
  ASSERT_TRUE(on_b.WaitFor(HasCaughtUp));

  EXPECT_TRUE(Applied(SendTo(b->commands(), Create("x", "SKU-1", "X", "req-x")),
                      "x", 1, 1));
  EXPECT_TRUE(Applied(SendTo(b->commands(), CheckIn("x", 3)), "x", 2, 2));
  ASSERT_TRUE(on_a.WaitFor(HasEventsThrough(2)))
      << "server A did not publish B's events: " << Describe(on_a.messages());
  // A decides on what B recorded, and B on what A recorded.
  EXPECT_TRUE(Applied(SendTo(a->commands(), CheckIn("x", 4, 2)), "x", 3, 3));
  EXPECT_TRUE(Applied(SendTo(b->commands(), Remove("x", 7, 3)), "x", 4, 4));
  // A request_id recorded through B is replayed by A.
  const Reply replay =
      SendTo(a->commands(), Create("x", "SKU-1", "X", "req-x"));
  ASSERT_TRUE(replay.status.ok()) << Describe(replay.status);
  EXPECT_TRUE(replay.replayed);
  EXPECT_EQ(replay.global_position, 1);

  ASSERT_TRUE(on_a.WaitFor(HasEventsThrough(4))) << Describe(on_a.messages());
  ASSERT_TRUE(on_b.WaitFor(HasEventsThrough(4))) << Describe(on_b.messages());
  const std::vector<v1::Event> seen_a = EventsOf(on_a.messages());
  const std::vector<v1::Event> seen_b = EventsOf(on_b.messages());
  ASSERT_THAT(PositionsOf(seen_a), ElementsAre(1, 2, 3, 4));
  ASSERT_THAT(PositionsOf(seen_b), ElementsAre(1, 2, 3, 4));
  for (size_t i = 0; i < seen_a.size(); ++i) {
    EXPECT_EQ(seen_a[i].SerializeAsString(), seen_b[i].SerializeAsString());
  }
}

// Stops and restarts the shared PostgreSQL server, so it is a parameterized
// suite: those run after every plain TEST, and this one is defined last.
// It uses a database of its own and leaves the server running.
class DatabaseOutageTest : public ServerTest {};

TEST_P(DatabaseOutageTest, NotServingAndUnavailableWhileDownThenRecovers) {
  if (!test_support::TestPostgres().owns_server())
    GTEST_SKIP() << "TEST_DATABASE_URL server";
  for (const std::string& service : OurServices()) {
    ASSERT_TRUE(AwaitHealth(node_->health(), service,
                            HealthCheckResponse::SERVING, absl::Seconds(1)));
  }
  ASSERT_TRUE(Applied(Send(Create("o1")), "o1", 1, 1));
  auto subscription = SubscribeCaughtUp();

  // Whatever happens below, the server runs again afterwards.
  struct RestartOnExit {
    bool stopped = false;
    ~RestartOnExit() {
      if (stopped) {
        EXPECT_TRUE(test_support::TestPostgres().Restart().ok());
      }
    }
  } restart_on_exit;
  ASSERT_TRUE(test_support::TestPostgres().Stop().ok());
  restart_on_exit.stopped = true;

  for (const std::string& service : OurServices()) {
    SCOPED_TRACE(service);
    EXPECT_TRUE(AwaitHealth(node_->health(), service,
                            HealthCheckResponse::NOT_SERVING));
  }
  EXPECT_TRUE(HasCode(Send(Create("o2", "SKU-1", "O2", "req-o2")),
                      StatusCode::UNAVAILABLE));
  EXPECT_TRUE(HasCode(Send(CheckIn("o1", 1)), StatusCode::UNAVAILABLE));
  EXPECT_TRUE(HasCode(Send(Deactivate("o1", 1)), StatusCode::UNAVAILABLE));
  {
    auto during = Subscribe();
    const std::optional<grpc::Status> end = during->WaitForEnd();
    ASSERT_TRUE(end.has_value());
    EXPECT_TRUE(HasCode(*end, StatusCode::UNAVAILABLE));
  }
  // The open subscription survives the outage.
  EXPECT_FALSE(subscription->ended());

  ASSERT_TRUE(test_support::TestPostgres().Restart().ok());
  restart_on_exit.stopped = false;
  for (const std::string& service : OurServices()) {
    SCOPED_TRACE(service);
    EXPECT_TRUE(
        AwaitHealth(node_->health(), service, HealthCheckResponse::SERVING));
  }
  // The command that failed is retried with its request_id: applied once.
  EXPECT_TRUE(Applied(Send(Create("o2", "SKU-1", "O2", "req-o2")), "o2", 1, 2));
  const Reply replay = Send(Create("o2", "SKU-1", "O2", "req-o2"));
  EXPECT_TRUE(replay.status.ok() && replay.replayed) << Describe(replay.status);
  EXPECT_TRUE(Applied(Send(CheckIn("o1", 1)), "o1", 2, 3));

  // The subscription that stayed open gets the new events.
  ASSERT_TRUE(subscription->WaitFor(HasEventsThrough(3)))
      << Describe(subscription->messages());
  EXPECT_THAT(PositionsOf(subscription->messages()), ElementsAre(1, 2, 3));
  EXPECT_EQ(CountCaughtUp(subscription->messages()), 1);
  auto after = SubscribeCaughtUp();
  EXPECT_THAT(PositionsOf(after->messages()), ElementsAre(1, 2, 3));
}

INSTANTIATE_TEST_SUITE_P(Postgres, DatabaseOutageTest,
                         ::testing::Values(StoreKind::kPostgres),
                         StoreKindName);

}  // namespace
}  // namespace inventory::command_server_testing
