// The whole CQRS loop as real processes under many faults at once: a
// chaos test with 32 concurrent writers, a subscriber that stalls for 30
// seconds and all of the faults of cqrs_fault_test.cc in one run, and a
// crash of a PostgreSQL cluster that runs with fsync=on.
//
// What the chaos and crash tests prove, and how:
// * Exactly once, with and without request ids. Every command carries a
//   unique correlation id (header x-correlation-id, stored in each event's
//   metadata); half of the writers send no request_id and never resend a
//   command whose answer they lost (they count it as unacknowledged).
//   Every acknowledged command is exactly one event, at the version and
//   position its answer named; no other command is more than one; every
//   event is some command's.
// * Projection, not just delivery: the expected state is a fold written
//   in the tests (ReferenceFold, cqrs_fault_store.h), from the events as
//   read by SQL, with payloads parsed by protobuf's JSON parser; it shares
//   no code with the query-service's projection or the event codec. Every
//   field of every item the query-service returns must equal it.
// * That faults hit commands in flight: first attempts retried after a
//   fault and `replayed` answers are counted, and both must be above zero.
// * Durability across a crash of PostgreSQL: acknowledged commands survive
//   an immediate shutdown (every server process quits at once, no
//   checkpoint; restart runs crash recovery from the write-ahead log) of a
//   cluster with fsync=on. The machine's page cache survives such a crash,
//   so this proves PostgreSQL's crash recovery and our use of it, not the
//   disk's own durability after a power cut.
#include <signal.h>

#include <thread>

#include "tests/cqrs_fault_fixture.h"
#include "tests/support/channels.h"

namespace inventory::cqrs_fault_testing {
namespace {

TEST_F(CqrsFaultTest, ChaosUnderLoadLosesNothingAcknowledged) {
  constexpr int kClients = 32;
  // The documented bound (docs/security.md, Limits) on what a stalled
  // subscriber may add to the command-service's memory while writers go on.
  constexpr int64_t kStalledSubscriberBoundKiB = 24 * 1024;
  const absl::Time started = absl::Now();
  AwaitQueryServing();
  const std::string address = command_address();
  CommandLedger ledger;
  ChaosWriters writers(address, &ledger);
  ASSERT_NO_FATAL_FAILURE(writers.Start(kClients));
  ASSERT_TRUE(ledger.AwaitAcknowledged(300));

  // A subscriber that reads one message, then nothing for 30 seconds,
  // while the writers go on.
  {
    auto stream_stub = inventory::v1::EventStreamService::NewStub(
        test_support::ChannelTo(address));
    grpc::ClientContext context;
    inventory::v1::SubscribeRequest request;
    auto reader = stream_stub->Subscribe(&context, request);
    inventory::v1::SubscribeResponse message;
    ASSERT_TRUE(reader->Read(&message));
    const int64_t before_kib = ResidentKiB(command().pid());
    ASSERT_GT(before_kib, 0) << "cannot read the command-service's VmRSS";
    const int acknowledged_before = ledger.acknowledged();
    int64_t peak_kib = before_kib;
    const absl::Time resume = absl::Now() + absl::Seconds(30);
    while (absl::Now() < resume) {
      peak_kib = std::max(peak_kib, ResidentKiB(command().pid()));
      // Sampling memory over the stall, which is a span of time by design.
      absl::SleepFor(absl::Milliseconds(100));
    }
    const int written = ledger.acknowledged() - acknowledged_before;
    std::cout << "stalled subscriber: " << written
              << " commands acknowledged in 30 s; command-service RSS "
              << before_kib / 1024 << " MiB before, peak " << peak_kib / 1024
              << " MiB (+" << (peak_kib - before_kib) / 1024 << " MiB)\n";
    EXPECT_GT(written, 1000) << "the writers went on";
    EXPECT_LE(peak_kib - before_kib, kStalledSubscriberBoundKiB);
    // Reading again, the subscriber gets every event in order, no gap.
    const int64_t head = ledger.head();
    int64_t position = message.event().global_position();
    while (position < head && reader->Read(&message)) {
      if (!message.has_event()) continue;
      ASSERT_EQ(message.event().global_position(), position + 1);
      position = message.event().global_position();
    }
    EXPECT_EQ(position, head) << command().Log();
    context.TryCancel();
    reader->Finish();
  }
  std::cout << "chaos: stall and catch-up done after "
            << absl::FormatDuration(absl::Now() - started) << "\n";

  // The faults, each once enough commands went through since the last.
  auto after_more = [&](int more) {
    return ledger.AwaitAcknowledged(ledger.acknowledged() + more);
  };
  ASSERT_TRUE(after_more(200)) << command().Log();
  KillCommandServiceWithAnswersInFlight();
  ASSERT_TRUE(after_more(200)) << command().Log();
  if (server_->owns_server()) {
    ASSERT_TRUE(server_->Stop().ok());
    ASSERT_TRUE(server_->Restart().ok());
  } else {
    std::cout << "chaos: TEST_DATABASE_URL is set, so the PostgreSQL restart "
                 "is skipped\n";
  }
  ASSERT_TRUE(after_more(200)) << command().Log();
  query().Signal(SIGKILL);
  ASSERT_TRUE(query().Wait(absl::Seconds(10)).ok());
  StartQueryService();
  ASSERT_TRUE(after_more(200));
  KillCommandServiceWithAnswersInFlight();
  ASSERT_TRUE(after_more(200)) << command().Log();
  KillCommandServiceWithAnswersInFlight();
  ASSERT_TRUE(after_more(200)) << command().Log();
  writers.Stop();
  std::cout << "chaos: faults done after "
            << absl::FormatDuration(absl::Now() - started) << "\n";

  ExpectRunExactlyOnce("chaos", ledger, writers);
  EXPECT_GT(ledger.retried(), 0) << "no fault hit a command in flight";
  EXPECT_GT(ledger.replayed(), 0) << "no answer was lost after a commit";
  // Both services recovered by themselves.
  EXPECT_THAT(query().Log(), ::testing::HasSubstr("event stream ended"));
  std::cout << "chaos: checked after "
            << absl::FormatDuration(absl::Now() - started) << "\n";
}

// PostgreSQL (fsync=on, synchronous_commit=on) crashes twice while 16
// writers, half without request ids, send commands: an immediate shutdown,
// then crash recovery on restart. Every command acknowledged before or
// after a crash is exactly one event; no other command is more than one;
// the read model is the fold of what survived.
TEST_F(DurableCqrsFaultTest, CrashOfDurablePostgresLosesNothingAcknowledged) {
  AwaitQueryServing();
  CommandLedger ledger;
  ChaosWriters writers(command_address(), &ledger);
  ASSERT_NO_FATAL_FAILURE(writers.Start(16));
  int acknowledged_before_crashes = 0;
  for (int crash = 0; crash < 2; ++crash) {
    ASSERT_TRUE(ledger.AwaitAcknowledged(ledger.acknowledged() + 500))
        << command().Log();
    ASSERT_TRUE(server_->Crash().ok());
    acknowledged_before_crashes = ledger.acknowledged();
    ASSERT_TRUE(server_->Restart().ok());
  }
  ASSERT_TRUE(ledger.AwaitAcknowledged(ledger.acknowledged() + 500))
      << command().Log();
  writers.Stop();
  std::cout << "crash: " << acknowledged_before_crashes
            << " commands acknowledged before the last crash\n";
  ExpectRunExactlyOnce("crash", ledger, writers);
  // A crash meets appends in flight: the store recovers their outcome, or
  // the writers retry them.
  EXPECT_GT(ledger.retried() + StoreRecoveries().requests, 0)
      << "no crash hit a command in flight";
}

}  // namespace
}  // namespace inventory::cqrs_fault_testing
