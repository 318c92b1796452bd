// Lost answers of commands (lost_answer_fixture.h): every command kind,
// with and without request_id, alone and in a batch of 64, its answer cut
// after the commit or before the request reached PostgreSQL; and an
// outcome the store cannot learn (UNAVAILABLE, OUTCOME_UNKNOWN), after
// which a retry is safe.
#include <grpcpp/grpcpp.h>

#include "tests/lost_answer_fixture.h"

namespace inventory::lost_answer_testing {
namespace {

// --- One command, one lost answer -------------------------------------------

struct Case {
  Kind kind;
  bool with_request_id;
  FaultProxy::Point point;  // kAtResponse: after commit; kBeforeRequest
};

std::string CaseName(const ::testing::TestParamInfo<Case>& info) {
  return absl::StrCat(
      RpcName(info.param.kind),
      info.param.with_request_id ? "_WithRequestId" : "_NoRequestId",
      info.param.point == FaultProxy::Point::kAtResponse ? "_CutAfterCommit"
                                                         : "_CutBeforeSend");
}

std::vector<Case> AllCases() {
  std::vector<Case> cases;
  for (FaultProxy::Point point :
       {FaultProxy::Point::kAtResponse, FaultProxy::Point::kBeforeRequest}) {
    for (Kind kind : kKinds) {
      for (bool with_request_id : {false, true}) {
        cases.push_back(Case{kind, with_request_id, point});
      }
    }
  }
  return cases;
}

class SingleLostAnswerTest : public LostAnswerTest,
                             public ::testing::WithParamInterface<Case> {};

TEST_P(SingleLostAnswerTest, AnswersTheTrueOutcomeOnce) {
  ASSERT_NO_FATAL_FAILURE(Open());
  const Case& c = GetParam();
  const std::string item = "lost-1";
  ASSERT_NO_FATAL_FAILURE(Prepare(c.kind, item));
  const std::vector<RecordedEvent> before = EventsOf(item);
  const std::string request_id =
      c.with_request_id ? "9b2f4c1e-7d3a-4e5b-8c6d-1a2b3c4d5e6f" : "";

  const int64_t recovered_before =
      store_->group_commit_stats().recovered_batches;
  proxy_->Arm(FaultProxy::Action::kCut, c.point, AppendEvents());
  const Reply reply = Send(*commands_, c.kind, item, request_id);
  EXPECT_EQ(proxy_->faults_fired(), 1) << "the fault never hit the append";
  const std::vector<RecordedEvent> after = EventsOf(item);
  EXPECT_TRUE(TrueOutcome(reply, before, after, EventTypeOf(c.kind)));
  EXPECT_TRUE(reply.status.ok())
      << "the store should have learned the outcome: "
      << Describe(reply.status);
  EXPECT_FALSE(reply.replayed);
  // The store could not tell the two cuts apart and went through its
  // recovery both times: after a commit it found its own events (that the
  // item has one new event, not two, checked by TrueOutcome above, is
  // what shows it), before it the append was simply made.
  EXPECT_EQ(store_->group_commit_stats().recovered_batches - recovered_before,
            1);

  if (c.with_request_id && reply.status.ok()) {
    // The client's own retry (its answer could have been lost too) is a
    // replay of the same outcome.
    const Reply again = Send(*commands_, c.kind, item, request_id);
    ASSERT_TRUE(again.status.ok()) << Describe(again.status);
    EXPECT_TRUE(again.replayed);
    EXPECT_EQ(again.version, reply.version);
    EXPECT_EQ(again.global_position, reply.global_position);
    EXPECT_EQ(EventsOf(item).size(), after.size());
  }
}

INSTANTIATE_TEST_SUITE_P(EveryCommandKind, SingleLostAnswerTest,
                         ::testing::ValuesIn(AllCases()), CaseName);

// --- A full group-commit batch ----------------------------------------------

TEST_F(LostAnswerTest, EveryCommandOfALostBatchGetsItsTrueOutcome) {
  constexpr int kCommands = 64;
  options_.max_batch_requests = kCommands;
  ASSERT_NO_FATAL_FAILURE(Open());
  std::vector<std::string> items;
  std::vector<std::vector<RecordedEvent>> before;
  for (int i = 0; i < kCommands; ++i) {
    items.push_back(absl::StrCat("batch-", i));
    ASSERT_NO_FATAL_FAILURE(Prepare(kKinds[i % 6], items.back()));
    before.push_back(EventsOf(items.back()));
  }
  const PostgresEventStore::GroupCommitStats start =
      store_->group_commit_stats();

  // The first append is held at the proxy while the other commands queue
  // behind it; the next one, their batch, loses its answer.
  proxy_->Hold(AppendEvents());
  proxy_->CutAfter(AppendEvents());
  std::vector<Reply> replies(kCommands);
  std::vector<std::thread> senders;
  for (int i = 0; i < kCommands; ++i) {
    senders.emplace_back([&, i] {
      const std::string request_id =
          i % 2 == 0 ? absl::StrCat("batch-request-", i) : "";
      replies[i] = Send(*commands_, kKinds[i % 6], items[i], request_id);
    });
  }
  ASSERT_TRUE(proxy_->WaitForFaults(1, kWaitTimeout)) << "nothing was held";
  // Every command is in the held statement or queued behind it.
  int64_t queued = 0;
  const absl::Time deadline = absl::Now() + kWaitTimeout;
  for (;;) {
    const PostgresEventStore::GroupCommitStats now =
        store_->group_commit_stats();
    queued = now.queued;
    if (now.requests - start.requests + now.queued >= kCommands ||
        absl::Now() > deadline) {
      break;
    }
    absl::SleepFor(absl::Milliseconds(5));  // polling a counter
  }
  proxy_->ResumeHeld();
  for (std::thread& t : senders) t.join();

  EXPECT_GT(queued, 1) << "the lost batch would not be a batch";
  EXPECT_EQ(proxy_->faults_fired(), 2) << "the cut never hit the batch";
  const PostgresEventStore::GroupCommitStats end = store_->group_commit_stats();
  EXPECT_GE(end.recovered_batches - start.recovered_batches, 1);
  std::cout << "[ batch    ] " << queued << " commands queued behind the held "
            << "append; " << end.statements - start.statements
            << " statements carried " << end.requests - start.requests
            << " appends; " << end.recovered_batches - start.recovered_batches
            << " batch(es) recovered\n";
  int ok = 0;
  for (int i = 0; i < kCommands; ++i) {
    const Kind kind = kKinds[i % 6];
    EXPECT_TRUE(TrueOutcome(replies[i], before[i], EventsOf(items[i]),
                            EventTypeOf(kind)))
        << RpcName(kind) << " " << items[i];
    if (replies[i].status.ok()) ++ok;
  }
  EXPECT_EQ(ok, kCommands) << "with recovery every command is answered OK";
}

// --- The outcome cannot be learned ------------------------------------------

class OutcomeUnknownTest
    : public LostAnswerTest,
      public ::testing::WithParamInterface<FaultProxy::Action> {};

TEST_P(OutcomeUnknownTest, AnswersUnavailableAndARetryIsSafe) {
  options_.pool_size = 1;  // the append runs on the one open connection
  options_.outcome_recovery_timeout = absl::Seconds(1);
  options_.statement_timeout = absl::Seconds(2);
  ASSERT_NO_FATAL_FAILURE(Open());
  const std::string item = "unknown-1";
  ASSERT_NO_FATAL_FAILURE(Prepare(Kind::kCheckIn, item));
  const std::vector<RecordedEvent> before = EventsOf(item);
  const std::string request_id = "0d9e8f7a-6b5c-4d3e-9f1a-2b3c4d5e6f70";

  // The answer is lost (reset, or never comes), and the database stays
  // out of reach for new connections.
  proxy_->Arm(GetParam(), FaultProxy::Point::kAtResponse, AppendEvents());
  proxy_->RefuseNewConnections(true);
  const absl::Time start = absl::Now();
  const Reply reply = Send(*commands_, Kind::kCheckIn, item, request_id);
  const absl::Duration took = absl::Now() - start;
  EXPECT_EQ(proxy_->faults_fired(), 1);
  EXPECT_THAT(reply.status, GrpcStatusIs(grpc::StatusCode::UNAVAILABLE))
      << Describe(reply.status) << " after " << took;
  EXPECT_EQ(ReasonOf(reply.status), "OUTCOME_UNKNOWN")
      << Describe(reply.status);
  EXPECT_LT(took, absl::Seconds(10));
  std::cout << "[ unknown  ] answered " << Describe(reply.status) << " after "
            << took << "\n";
  EXPECT_TRUE(
      TrueOutcome(reply, before, EventsOf(item), EventTypeOf(Kind::kCheckIn)));

  proxy_->RefuseNewConnections(false);
  proxy_->Release();
  const Reply retry = Send(*commands_, Kind::kCheckIn, item, request_id);
  ASSERT_TRUE(retry.status.ok()) << Describe(retry.status);
  const std::vector<RecordedEvent> after = EventsOf(item);
  EXPECT_TRUE(TrueOutcome(retry, before, after, EventTypeOf(Kind::kCheckIn)));
}

INSTANTIATE_TEST_SUITE_P(
    LostAnswerTest, OutcomeUnknownTest,
    ::testing::Values(FaultProxy::Action::kCut, FaultProxy::Action::kBlackhole),
    [](const ::testing::TestParamInfo<FaultProxy::Action>& info) {
      return info.param == FaultProxy::Action::kCut ? "ConnectionReset"
                                                    : "AnswerNeverComes";
    });

}  // namespace
}  // namespace inventory::lost_answer_testing
