// Connections to PostgreSQL that go silent or are cut, other than under
// an append (lost_answer_fixture.h): a read on a silent connection, a
// listener stuck connecting at shutdown, a catch-up page cut, and a
// half-open LISTEN connection that the listener must notice.
#include <grpcpp/grpcpp.h>

#include "tests/lost_answer_fixture.h"

namespace inventory::lost_answer_testing {
namespace {

// --- A connection that goes silent -----------------------------------------

TEST_F(LostAnswerTest, AReadOnASilentConnectionIsUnavailableNotStuck) {
  // The server cancels a statement at statement_timeout; a connection
  // that stays silent a second longer is closed by the pool's watchdog.
  options_.statement_timeout = absl::Seconds(1);
  ASSERT_NO_FATAL_FAILURE(OpenStores());
  ASSERT_TRUE(store_->HeadPosition().ok());  // a pooled connection is open

  proxy_->BlackholeAll();  // no FIN, no RST, no answer
  const absl::Time start = absl::Now();
  const absl::StatusOr<int64_t> head = store_->HeadPosition();
  const absl::Duration took = absl::Now() - start;
  std::cout << "[ silent   ] " << head.status() << " after " << took << "\n";
  EXPECT_THAT(head, StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_LT(took, absl::Seconds(10)) << "the call waited on the silence";

  proxy_->Release();
  EXPECT_TRUE(store_->HeadPosition().ok()) << "a new connection serves";
}

TEST_F(LostAnswerTest, ShutdownDoesNotWaitForAListenerStuckConnecting) {
  options_.statement_timeout = absl::Seconds(3);  // connect timeout 3 s
  options_.listener_check_interval = absl::Milliseconds(500);
  options_.stop_timeout = absl::Milliseconds(200);
  ASSERT_NO_FATAL_FAILURE(OpenStores());
  // Everything goes silent: the listener's check fails (after the answer
  // timeout), and its new connection is accepted but never answered.
  proxy_->BlackholeAll();
  const int64_t accepted = proxy_->connections_accepted();
  ASSERT_TRUE(proxy_->WaitForConnections(accepted + 1, kWaitTimeout))
      << "the listener never tried to reconnect";
  const absl::Time start = absl::Now();
  store_.reset();
  const absl::Duration took = absl::Now() - start;
  std::cout << "[ shutdown ] the store closed after " << took
            << " while its listener was connecting\n";
  EXPECT_LT(took, absl::Seconds(2)) << "waited for the connect timeout";
  EXPECT_TRUE(PostgresListenerLeftRunning()) << "a process must know";
}

// --- A catch-up page cut midway ---------------------------------------------

TEST_F(LostAnswerTest, SubscriberGetsEveryEventOnceWhenACatchUpPageIsCut) {
  ASSERT_NO_FATAL_FAILURE(OpenStores());
  // A few thousand events, written directly, before the server starts, so
  // that a subscriber from position 0 reads them from the store in pages.
  constexpr int kRequests = 30;
  constexpr int kEventsPerRequest = 100;
  for (int r = 0; r < kRequests; ++r) {
    AppendRequest request;
    request.stream_id = absl::StrCat("item-fill-", r);
    for (int e = 0; e < kEventsPerRequest; ++e) {
      v1::Event event;
      event.mutable_items_checked_in()->set_item_id(absl::StrCat("fill-", r));
      event.mutable_items_checked_in()->set_quantity(e + 1);
      absl::StatusOr<EventData> data = ToEventData(event);
      ASSERT_TRUE(data.ok()) << data.status();
      request.events.push_back(*data);
    }
    ASSERT_TRUE(direct_->Append(request).ok());
  }
  const int64_t head = kRequests * kEventsPerRequest;
  ASSERT_NO_FATAL_FAILURE(StartServer());

  // Two cuts, so that a retry inside the store cannot hide the first.
  proxy_->CutResponse(FaultProxy::ExecutionOf("read_all"), 50'000,
                      /*times=*/2);
  std::vector<int64_t> positions;
  int64_t last = 0;
  int subscriptions = 0;
  std::vector<std::string> ends;
  while (last < head && subscriptions < 10) {
    ++subscriptions;
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + kWaitTimeout));
    v1::SubscribeRequest request;
    request.set_after_position(last);
    auto reader = events_->Subscribe(&context, request);
    v1::SubscribeResponse message;
    while (last < head && reader->Read(&message)) {
      std::vector<v1::Event> events(message.events().events().begin(),
                                    message.events().events().end());
      if (message.has_event()) events.push_back(message.event());
      for (const v1::Event& event : events) {
        positions.push_back(event.global_position());
        last = event.global_position();
      }
    }
    context.TryCancel();
    const grpc::Status status = reader->Finish();
    if (last < head) ends.push_back(Describe(status));
  }
  std::vector<int64_t> expected;
  for (int64_t p = 1; p <= head; ++p) expected.push_back(p);
  EXPECT_EQ(positions, expected) << "each event once, in order";
  EXPECT_GE(proxy_->responses_cut(), 1) << "no catch-up page was cut";
  std::cout << "[ catch-up ] " << proxy_->responses_cut() << " page(s) cut, "
            << subscriptions << " subscription(s);";
  for (const std::string& end : ends) std::cout << " ended: " << end << ";";
  std::cout << "\n";
}

// --- A half-open LISTEN connection ------------------------------------------

// Appends one event through the direct store (another process, as far as
// the proxied store knows: only a notification or a re-check tells it).
int64_t AppendElsewhere(PostgresEventStore& store, int n) {
  v1::Event event;
  event.mutable_items_checked_in()->set_item_id("elsewhere");
  event.mutable_items_checked_in()->set_quantity(n);
  AppendRequest request;
  request.stream_id = "item-elsewhere";
  request.events.push_back(*ToEventData(event));
  absl::StatusOr<AppendResult> result = store.Append(request);
  EXPECT_TRUE(result.ok()) << result.status();
  return result.ok() ? result->global_position : 0;
}

TEST_F(LostAnswerTest, WaitersSeeEveryEventWhileTheListenConnectionIsHalfOpen) {
  // LISTEN is answered, then the connection goes silent without FIN or RST.
  proxy_->Blackhole("LISTEN", FaultProxy::Point::kAfterResponse);
  options_.listener_check_interval = absl::Seconds(30);  // not within the test
  server_options_.live.idle_wait = absl::Seconds(30);  // the store must wake it
  ASSERT_NO_FATAL_FAILURE(Open());
  ASSERT_TRUE(proxy_->WaitForFaults(1, kWaitTimeout));

  v1::SubscribeRequest request;
  ASSERT_TRUE(direct_->HeadPosition().ok());
  request.set_after_position(*direct_->HeadPosition());
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(60)));
  auto reader = events_->Subscribe(&context, request);

  constexpr int kRounds = 5;
  // The waiter learns of an event at its next re-check (200 ms), plus the
  // read; the bound leaves room for a slow machine and is still far below
  // the 30 s that notifications or the listener's check would take.
  const absl::Duration bound = absl::Seconds(5);
  for (int round = 1; round <= kRounds; ++round) {
    const int64_t head = *direct_->HeadPosition();
    std::optional<absl::StatusOr<bool>> woke;
    absl::Time woke_at;
    std::thread waiter([&] {
      woke = store_->WaitForEventsAfter(head, absl::Now() + kWaitTimeout);
      woke_at = absl::Now();
    });
    const absl::Time appended_at = absl::Now();
    const int64_t position = AppendElsewhere(*direct_, round);
    waiter.join();
    ASSERT_TRUE(woke.has_value() && woke->ok());
    EXPECT_TRUE(**woke) << "round " << round;
    EXPECT_LT(woke_at - appended_at, bound) << "round " << round;

    // The live subscriber gets it too, in time.
    bool received = false;
    v1::SubscribeResponse message;
    while (!received && reader->Read(&message)) {
      for (const v1::Event& event : message.events().events()) {
        received = received || event.global_position() == position;
      }
      received = received || (message.has_event() &&
                              message.event().global_position() == position);
    }
    EXPECT_TRUE(received) << "round " << round;
    EXPECT_LT(absl::Now() - appended_at, bound + kRecheck) << "round " << round;
  }
  context.TryCancel();
  reader->Finish();
}

}  // namespace

void LostAnswerTest::ExpectListenerReconnects(FaultProxy::Point point) {
  proxy_->Blackhole("LISTEN", point);
  options_.listener_check_interval = absl::Seconds(1);
  // Long: only a notification wakes a waiter within the test's bound.
  options_.wait_recheck_interval = absl::Seconds(60);
  ASSERT_NO_FATAL_FAILURE(OpenStores());
  ASSERT_TRUE(proxy_->WaitForFaults(1, kWaitTimeout));
  const absl::Time blackholed_at = absl::Now();
  proxy_->Watch("LISTEN");
  const bool reconnected = proxy_->WaitForFaults(2, absl::Seconds(60));
  const absl::Duration took = absl::Now() - blackholed_at;
  std::cout << "[ listener ] "
            << (reconnected ? "sent LISTEN on a new connection after "
                            : "no new LISTEN within ")
            << took << "\n";
  ASSERT_TRUE(reconnected);
  EXPECT_LT(took, absl::Seconds(30));

  // Notifications flow again on the new connection. The proxy saw the
  // LISTEN go out, which the server may not have run yet: an append
  // announced before then is not heard, so append until one is. Only the
  // listener raises store_'s known head (store_ appends nothing), and a
  // later announcement covers the earlier appends.
  bool announced = false;
  for (int attempt = 1; attempt <= 5 && !announced; ++attempt) {
    const int64_t position = AppendElsewhere(*direct_, attempt);
    const absl::Time give_up = absl::Now() + absl::Seconds(3);
    while (!announced && absl::Now() < give_up) {
      announced = store_->announced_head() >= position;
      absl::SleepFor(absl::Milliseconds(10));  // polling a condition
    }
  }
  EXPECT_TRUE(announced) << "no append announced on the new connection";
}

namespace {

TEST_F(LostAnswerTest, ListenerReconnectsFromAHalfOpenConnection) {
  // LISTEN is answered, then nothing more comes: the self-check notices.
  ExpectListenerReconnects(FaultProxy::Point::kAfterResponse);
}

TEST_F(LostAnswerTest, ListenerReconnectsWhenItsListenIsNeverAnswered) {
  // The connection goes silent before LISTEN reaches the server: the
  // listener waits for an answer that never comes, until its watchdog.
  ExpectListenerReconnects(FaultProxy::Point::kBeforeRequest);
}

}  // namespace
}  // namespace inventory::lost_answer_testing
