// PostgresEventStore against a real PostgreSQL server: the shared contract
// suite, plus what only a database can show (durability across re-opens,
// concurrent migrations, notifications across connections, a server
// restart, concurrent writer processes, psql-readable payloads).
#include "common/eventstore/postgres/postgres_event_store.h"

#include <cstdio>
#include <functional>
#include <map>
#include <memory>
#include <pqxx/pqxx>
#include <sstream>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "common/base/status_matchers.h"
#include "common/eventstore/event_store_contract_test.h"
#include "common/eventstore/postgres/postgres_schema.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/postgres_test_main.h"

namespace inventory {
namespace {

using ::testing::SizeIs;

std::string NewDatabase(absl::string_view prefix) {
  auto url = test_support::TestPostgres().CreateDatabase(prefix);
  EXPECT_TRUE(url.ok()) << url.status();
  return url.ok() ? *url : "";
}

std::unique_ptr<PostgresEventStore> OpenStore(
    const std::string& url, PostgresEventStoreOptions options = {}) {
  options.url = url;
  auto store = PostgresEventStore::Open(options);
  EXPECT_TRUE(store.ok()) << store.status();
  return store.ok() ? std::move(*store) : nullptr;
}

INSTANTIATE_TEST_SUITE_P(Postgres, EventStoreContractTest,
                         ::testing::Values(EventStoreFactory{
                             "Postgres",
                             []() -> std::unique_ptr<EventStore> {
                               return OpenStore(NewDatabase("contract"));
                             }}),
                         EventStoreFactoryName);

AppendRequest OneEvent(absl::string_view stream, absl::string_view payload) {
  AppendRequest request;
  request.stream_id = std::string(stream);
  request.events.push_back({"test.Happened", std::string(payload), {}});
  return request;
}

// Runs `command` through the shell and returns its standard output.
std::string RunAndCapture(const std::string& command) {
  std::string out;
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) return out;
  char buffer[4096];
  size_t n;
  while ((n = fread(buffer, 1, sizeof(buffer), pipe)) > 0)
    out.append(buffer, n);
  const int status = pclose(pipe);
  EXPECT_EQ(status, 0) << command;
  return out;
}

int64_t CountRows(const std::string& url, const std::string& sql) {
  pqxx::connection connection(url);
  pqxx::read_transaction tx(connection);
  return tx.exec1(sql)[0].as<int64_t>();
}

TEST(PostgresEventStoreTest, EventsAndRequestIdsSurviveReopen) {
  const std::string url = NewDatabase("reopen");
  AppendRequest request = OneEvent("s-1", R"({"n": 1})");
  request.request_id = "req-1";
  AppendResult first;
  {
    auto store = OpenStore(url);
    ASSERT_NE(store, nullptr);
    auto result = store->Append(request);
    ASSERT_TRUE(result.ok()) << result.status();
    first = *result;
  }
  auto store = OpenStore(url);
  ASSERT_NE(store, nullptr);
  auto again = store->Append(request);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_TRUE(again->replayed);
  EXPECT_EQ(again->global_position, first.global_position);
  AppendRequest other = OneEvent("s-1", R"({"n": 2})");
  other.request_id = "req-1";
  EXPECT_THAT(store->Append(other), StatusIs(absl::StatusCode::kAlreadyExists));
  EXPECT_THAT(*store->ReadAll(0, 100), SizeIs(1));
}

// Polls `condition` until it holds or 30 s pass.
bool Eventually(const std::function<bool()>& condition) {
  const absl::Time give_up = absl::Now() + absl::Seconds(30);
  while (!condition()) {
    if (absl::Now() > give_up) return false;
    absl::SleepFor(absl::Milliseconds(2));
  }
  return true;
}

TEST(PostgresEventStoreTest, GroupCommitKeepsEachRequestsOutcome) {
  const std::string url = NewDatabase("group_commit");
  auto store = OpenStore(url);
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->Append(OneEvent("s-1", R"({"n": 1})")).ok());

  // Holding the append lock from outside stalls the first batch, so every
  // request below queues up and goes into the next batch, in this order.
  pqxx::connection blocker_connection(url);
  pqxx::work blocker(blocker_connection);
  blocker.exec("SELECT pg_advisory_xact_lock(7349022)");

  auto with = [](AppendRequest request, ExpectedVersion expected,
                 absl::string_view request_id) {
    request.expected_version = expected;
    request.request_id = std::string(request_id);
    return request;
  };
  const std::vector<AppendRequest> requests = {
      OneEvent("s-0", "{}"),  // the stalled batch of its own
      with(OneEvent("s-1", R"({"n": 2})"), ExpectedVersion::Exact(1), ""),
      with(OneEvent("s-1", R"({"n": 9})"), ExpectedVersion::Exact(1), ""),
      OneEvent("s-2", R"({"text": "\u0000"})"),  // jsonb refuses NUL
      with(OneEvent("s-3", R"({"n": 1})"), ExpectedVersion::Any(), "r-1"),
      with(OneEvent("s-3", R"({"n": 1})"), ExpectedVersion::Any(), "r-1"),
      with(OneEvent("s-3", R"({"n": 5})"), ExpectedVersion::Any(), "r-1"),
      with(OneEvent("s-1", R"({"n": 3})"), ExpectedVersion::Exact(2), ""),
  };
  std::vector<absl::StatusOr<AppendResult>> results(
      requests.size(), absl::UnknownError("not run"));
  std::vector<std::thread> threads;
  for (size_t i = 0; i < requests.size(); ++i) {
    threads.emplace_back([&, i] { results[i] = store->Append(requests[i]); });
    ASSERT_TRUE(Eventually([&] {
      const auto stats = store->group_commit_stats();
      return stats.writing && stats.queued == static_cast<int64_t>(i);
    })) << "request "
        << i << " never queued";
  }
  blocker.abort();
  for (std::thread& thread : threads) thread.join();

  ASSERT_TRUE(results[0].ok()) << results[0].status();
  ASSERT_TRUE(results[1].ok()) << results[1].status();
  EXPECT_EQ(results[1]->stream_version, 2);
  EXPECT_THAT(results[2], StatusIs(absl::StatusCode::kAborted));
  EXPECT_THAT(std::string(results[2].status().message()),
              ::testing::HasSubstr("2"));
  EXPECT_THAT(results[3], StatusIs(absl::StatusCode::kInvalidArgument));
  ASSERT_TRUE(results[4].ok()) << results[4].status();
  EXPECT_FALSE(results[4]->replayed);
  ASSERT_TRUE(results[5].ok()) << results[5].status();
  EXPECT_TRUE(results[5]->replayed);
  EXPECT_EQ(results[5]->global_position, results[4]->global_position);
  EXPECT_THAT(results[6], StatusIs(absl::StatusCode::kAlreadyExists));
  ASSERT_TRUE(results[7].ok()) << results[7].status();
  EXPECT_EQ(results[7]->stream_version, 3);

  // Exactly the accepted events, at consecutive positions, in queue order.
  const auto log = store->ReadAll(0, 100);
  ASSERT_TRUE(log.ok()) << log.status();
  std::vector<std::string> streams;
  for (size_t i = 0; i < log->size(); ++i) {
    EXPECT_EQ((*log)[i].global_position, static_cast<int64_t>(i) + 1);
    streams.push_back(
        absl::StrCat((*log)[i].stream_id, "@", (*log)[i].stream_version));
  }
  EXPECT_THAT(streams, ::testing::ElementsAre("s-1@1", "s-0@1", "s-1@2",
                                              "s-3@1", "s-1@3"));
  EXPECT_EQ(results[7]->global_position, 5);
}

TEST(PostgresEventStoreTest, ConcurrentAppendsShareTransactions) {
  auto store = OpenStore(NewDatabase("shared_commits"));
  ASSERT_NE(store, nullptr);
  constexpr int kThreads = 32;
  constexpr int kAppendsEach = 20;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kAppendsEach; ++i) {
        EXPECT_TRUE(store->Append(OneEvent(absl::StrCat("s-", t), "{}")).ok());
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  const auto stats = store->group_commit_stats();
  EXPECT_EQ(stats.requests, kThreads * kAppendsEach);
  // With 32 writers waiting on each commit, batches hold several appends.
  EXPECT_LT(stats.statements, stats.requests / 2);
  EXPECT_THAT(*store->ReadAll(0, 1000), SizeIs(kThreads * kAppendsEach));
}

TEST(PostgresEventStoreTest, MigratingTwiceChangesNothing) {
  const std::string url = NewDatabase("migrate_twice");
  ASSERT_NE(OpenStore(url), nullptr);
  ASSERT_NE(OpenStore(url), nullptr);
  EXPECT_EQ(CountRows(url, "SELECT count(*) FROM schema_migrations"),
            LatestSchemaVersion());
}

TEST(PostgresEventStoreTest, ProcessesMigratingAtOnceAllSucceed) {
  const std::string url = NewDatabase("migrate_at_once");
  std::vector<FILE*> processes;
  for (int i = 0; i < 4; ++i) {
    processes.push_back(popen(
        absl::StrCat(EVENT_STORE_WRITER, " '", url, "' migrate 2>&1").c_str(),
        "r"));
    ASSERT_NE(processes.back(), nullptr);
  }
  for (FILE* process : processes) {
    char buffer[512];
    std::string out;
    while (fgets(buffer, sizeof(buffer), process) != nullptr) out += buffer;
    EXPECT_EQ(pclose(process), 0) << out;
  }
  EXPECT_EQ(CountRows(url, "SELECT count(*) FROM schema_migrations"),
            LatestSchemaVersion());
  auto store = OpenStore(url);
  ASSERT_NE(store, nullptr);
  EXPECT_TRUE(store->Append(OneEvent("s-1", "{}")).ok());
}

TEST(PostgresEventStoreTest, EventsCannotBeChangedOrDeleted) {
  const std::string url = NewDatabase("immutable");
  auto store = OpenStore(url);
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->Append(OneEvent("s-1", R"({"n": 1})")).ok());
  pqxx::connection connection(url);
  EXPECT_THROW(
      {
        pqxx::work tx(connection);
        tx.exec0("UPDATE events SET event_type = 'changed'");
      },
      pqxx::sql_error);
  EXPECT_THROW(
      {
        pqxx::work tx(connection);
        tx.exec0("DELETE FROM events");
      },
      pqxx::sql_error);
  // A statement-level trigger (migration 3): TRUNCATE skips row triggers.
  EXPECT_THROW(
      {
        pqxx::work tx(connection);
        tx.exec0("TRUNCATE events");
      },
      pqxx::sql_error);
  EXPECT_EQ((*store->ReadAll(0, 10))[0].event_type, "test.Happened");
}

TEST(PostgresEventStoreTest, AppendsRunAtReadCommittedWhateverTheDefault) {
  const std::string url = NewDatabase("isolation");
  {
    pqxx::connection connection(url);
    pqxx::nontransaction tx(connection);
    tx.exec0(absl::StrCat("ALTER DATABASE ", connection.dbname(),
                          " SET default_transaction_isolation = "
                          "'repeatable read'"));
  }
  // Two stores: two group-commit leaders whose statements wait for each
  // other's append lock. At REPEATABLE READ the second would read a head
  // from before the first committed, and fail on its position.
  auto first = OpenStore(url);
  auto second = OpenStore(url);
  ASSERT_NE(first, nullptr);
  ASSERT_NE(second, nullptr);
  constexpr int kThreads = 8;
  constexpr int kAppendsEach = 25;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      EventStore& store = t % 2 == 0 ? *first : *second;
      for (int i = 0; i < kAppendsEach; ++i) {
        const auto appended =
            store.Append(OneEvent(absl::StrCat("s-", t), "{}"));
        EXPECT_TRUE(appended.ok()) << appended.status();
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(CountRows(url, "SELECT count(*) FROM events"),
            kThreads * kAppendsEach);
}

// Installs a trigger that fails every insert into events with `sqlstate`.
void FailInsertsWith(const std::string& url, absl::string_view sqlstate) {
  pqxx::connection connection(url);
  pqxx::work tx(connection);
  tx.exec0(absl::StrCat(
      "CREATE FUNCTION test_fail_insert() RETURNS trigger LANGUAGE plpgsql AS "
      "$$ BEGIN RAISE EXCEPTION 'injected' USING ERRCODE = '",
      sqlstate,
      "'; END $$; CREATE TRIGGER test_fail_insert BEFORE INSERT ON events "
      "FOR EACH ROW EXECUTE FUNCTION test_fail_insert()"));
  tx.commit();
}

// Appends `count` requests that all go into one batch (the append lock is
// held from outside until every one is queued) and returns how many
// append_events() statements the store made for them.
int64_t StatementsForOneBatchOf(const std::string& url,
                                PostgresEventStore& store, int count) {
  const int64_t before = store.group_commit_stats().statements;
  pqxx::connection blocker_connection(url);
  pqxx::work blocker(blocker_connection);
  blocker.exec("SELECT pg_advisory_xact_lock(7349022)");
  std::vector<std::thread> threads;
  for (int i = 0; i < count; ++i) {
    threads.emplace_back([&store, i] {
      EXPECT_FALSE(store.Append(OneEvent(absl::StrCat("s-", i), "{}")).ok());
    });
    EXPECT_TRUE(Eventually([&] {
      const auto stats = store.group_commit_stats();
      return stats.writing && stats.queued == i;
    }));
  }
  blocker.abort();
  for (std::thread& thread : threads) thread.join();
  return store.group_commit_stats().statements - before;
}

TEST(PostgresEventStoreTest, OnlyAnErrorOfOneRequestSplitsABatch) {
  // Out of disk (53100) says nothing about any one request: the batch
  // fails once, as a whole (the first request is a batch of its own).
  const std::string disk_full = NewDatabase("disk_full");
  auto store = OpenStore(disk_full);
  ASSERT_NE(store, nullptr);
  FailInsertsWith(disk_full, "53100");
  EXPECT_EQ(StatementsForOneBatchOf(disk_full, *store, 5), 2);

  // A check violation (class 23) may belong to one request: each is tried
  // alone after the batch fails.
  const std::string check = NewDatabase("check_violation");
  store = OpenStore(check);
  ASSERT_NE(store, nullptr);
  FailInsertsWith(check, "23514");
  EXPECT_EQ(StatementsForOneBatchOf(check, *store, 5), 2 + 4);
}

TEST(PostgresEventStoreTest, StopWaitingEndsWaitsAtOnce) {
  auto store = OpenStore(NewDatabase("stop_waiting"));
  ASSERT_NE(store, nullptr);
  absl::Notification returned;
  absl::StatusOr<bool> waited = false;
  std::thread waiter([&] {
    waited = store->WaitForEventsAfter(0, absl::Now() + absl::Hours(1));
    returned.Notify();
  });
  store->StopWaiting();
  EXPECT_TRUE(returned.WaitForNotificationWithTimeout(absl::Seconds(10)));
  waiter.join();
  EXPECT_THAT(waited, StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_THAT(store->WaitForEventsAfter(0, absl::InfiniteFuture()),
              StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_TRUE(store->Append(OneEvent("s-1", "{}")).ok());
}

// A restore from a backup, played by a superuser who sets the triggers
// aside: the log loses its last events under a running store, which has
// been notified of them.
TEST(PostgresEventStoreTest, AShorterLogIsNotReportedAsNewEvents) {
  const std::string url = NewDatabase("shorter_log");
  auto store = OpenStore(url);
  ASSERT_NE(store, nullptr);
  for (int i = 0; i < 6; ++i) {
    ASSERT_TRUE(store->Append(OneEvent("s-1", "{}")).ok());
  }
  ASSERT_TRUE(*store->WaitForEventsAfter(5, absl::Now()));
  {
    pqxx::connection connection(url);
    pqxx::work tx(connection);
    tx.exec0("ALTER TABLE events DISABLE TRIGGER USER");
    tx.exec0("DELETE FROM events WHERE global_position > 3");
    tx.exec0("ALTER TABLE events ENABLE TRIGGER USER");
    tx.commit();
  }
  EXPECT_EQ(*store->HeadPosition(), 3);
  // Nothing follows position 3 now; position 6 was announced in the other
  // log (its notifications may even arrive only now). A caller such as the
  // live buffer asks, reads nothing after 3, and asks again: by then the
  // database answers. Before the fix the announcement answered true
  // forever, and the caller spun on empty reads.
  int answered_true = 0;
  absl::StatusOr<bool> woke = true;
  for (int asked = 0; asked < 3 && woke.ok() && *woke; ++asked) {
    woke = store->WaitForEventsAfter(3, absl::Now() + absl::Milliseconds(300));
    if (woke.ok() && *woke) {
      ++answered_true;
      EXPECT_TRUE(store->ReadAll(3, 10)->empty());
    }
  }
  ASSERT_TRUE(woke.ok()) << woke.status();
  EXPECT_FALSE(*woke);
  EXPECT_LE(answered_true, 1);
  // And the shorter log's new events are announced as usual.
  ASSERT_TRUE(store->Append(OneEvent("s-2", "{}")).ok());
  EXPECT_TRUE(*store->WaitForEventsAfter(3, absl::Now() + absl::Seconds(10)));
}

// Anyone who may connect may NOTIFY the channel. A notification is a hint:
// a forged one costs a caller one empty read, never a loop or a lost wake.
TEST(PostgresEventStoreTest, AForgedNotificationIsClampedToTheRealHead) {
  const std::string url = NewDatabase("forged_notify");
  PostgresEventStoreOptions options;
  // Only a notification can wake a waiter within the test.
  options.wait_recheck_interval = absl::Hours(1);
  auto store = OpenStore(url, options);
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->Append(OneEvent("s-1", "{}")).ok());
  ASSERT_TRUE(store->Append(OneEvent("s-1", "{}")).ok());
  {
    pqxx::connection connection(url);
    pqxx::nontransaction tx(connection);
    tx.exec0("NOTIFY inventory_events, 'not a position'");
    tx.exec0("NOTIFY inventory_events, '9223372036854775807'");
  }
  // A real append from another store, announced after the forgery.
  std::thread writer([&url] {
    auto other = OpenStore(url);
    ASSERT_NE(other, nullptr);
    EXPECT_TRUE(other->Append(OneEvent("s-2", "{}")).ok());
  });
  writer.join();
  // Only the listener raises the store's known head past its own appends:
  // once it is 3, the listener has handled the real notification, and the
  // forged one before it. The forged position was clamped to the head.
  ASSERT_TRUE(Eventually([&] { return store->announced_head() >= 3; }));
  EXPECT_EQ(store->announced_head(), 3) << "a forged position was believed";
  const absl::StatusOr<bool> woke =
      store->WaitForEventsAfter(2, absl::Now() + absl::Seconds(20));
  ASSERT_TRUE(woke.ok()) << woke.status();
  ASSERT_TRUE(*woke);
  EXPECT_EQ(store->ReadAll(2, 10)->size(), 1u);
  // Nobody is told of events after 3.
  const absl::StatusOr<bool> after_head =
      store->WaitForEventsAfter(3, absl::Now() + absl::Milliseconds(300));
  ASSERT_TRUE(after_head.ok()) << after_head.status();
  EXPECT_FALSE(*after_head) << "a forged position was believed";
  EXPECT_EQ(*store->HeadPosition(), 3);
}

TEST(PostgresEventStoreTest, NotificationWakesWaiterOfAnotherConnection) {
  const std::string url = NewDatabase("notify");
  PostgresEventStoreOptions options;
  // Without notifications the waiter would sleep for an hour.
  options.wait_recheck_interval = absl::Hours(1);
  auto waiter_store = OpenStore(url, options);
  auto writer_store = OpenStore(url);
  ASSERT_NE(waiter_store, nullptr);
  ASSERT_NE(writer_store, nullptr);
  for (int round = 0; round < 5; ++round) {
    absl::Notification waiting;
    absl::StatusOr<bool> woke = false;
    std::thread waiter([&] {
      waiting.Notify();
      woke = waiter_store->WaitForEventsAfter(round,
                                              absl::Now() + absl::Seconds(60));
    });
    waiting.WaitForNotification();
    ASSERT_TRUE(writer_store->Append(OneEvent("s-1", "{}")).ok());
    waiter.join();
    ASSERT_TRUE(woke.ok()) << woke.status();
    EXPECT_TRUE(*woke) << "round " << round;
  }
}

TEST(PostgresEventStoreTest, PsqlReadsPayloadFields) {
  const std::string url = NewDatabase("psql");
  auto store = OpenStore(url);
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store
                  ->Append(OneEvent(
                      "item-1", R"({"item_id": "1", "name": "Blue widget"})"))
                  .ok());
  const std::string out = RunAndCapture(absl::StrCat(
      "psql '", url, "' -tAc \"SELECT payload->>'name' FROM events ",
      "WHERE stream_id = 'item-1'\""));
  EXPECT_EQ(out, "Blue widget\n");
}

TEST(PostgresEventStoreTest, DatabaseRestartIsUnavailableThenRecovers) {
  if (!test_support::TestPostgres().owns_server())
    GTEST_SKIP() << "TEST_DATABASE_URL server";
  const std::string url = NewDatabase("restart");
  auto store = OpenStore(url);
  auto other = OpenStore(url);
  ASSERT_NE(store, nullptr);
  ASSERT_NE(other, nullptr);
  ASSERT_TRUE(store->Append(OneEvent("s-1", "{}")).ok());

  ASSERT_TRUE(test_support::TestPostgres().Stop().ok());
  EXPECT_THAT(store->Append(OneEvent("s-1", "{}")),
              StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_THAT(store->ReadAll(0, 10), StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_THAT(store->HeadPosition(), StatusIs(absl::StatusCode::kUnavailable));
  ASSERT_TRUE(test_support::TestPostgres().Restart().ok());

  // The very next call works: no restart of the process, no manual step.
  auto appended = store->Append(OneEvent("s-1", "{}"));
  ASSERT_TRUE(appended.ok()) << appended.status();
  EXPECT_EQ(appended->global_position, 2);
  // `other` was idle through the restart; its first call works too.
  auto read = other->ReadAll(0, 10);
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_THAT(*read, SizeIs(2));
  // And waiting for appends from elsewhere works again.
  std::thread writer(
      [&] { EXPECT_TRUE(other->Append(OneEvent("s-2", "{}")).ok()); });
  auto woke = store->WaitForEventsAfter(2, absl::Now() + absl::Seconds(60));
  writer.join();
  ASSERT_TRUE(woke.ok()) << woke.status();
  EXPECT_TRUE(*woke);
}

// Several writer processes append at once while this process tails the log.
// The tail must see every acknowledged event exactly once, at consecutive
// positions in increasing order, and nothing else.
TEST(PostgresEventStoreTest, ConcurrentWriterProcessesNeverMakeAReaderSkip) {
  constexpr int kWriters = 4;
  constexpr int kAppendsPerWriter = 1000;
  const std::string url = NewDatabase("writers");
  auto store = OpenStore(url);
  ASSERT_NE(store, nullptr);

  std::atomic<bool> writers_done{false};
  std::atomic<int64_t> final_head{-1};
  std::vector<RecordedEvent> seen;
  std::string reader_error;
  std::thread reader([&] {
    int64_t after = 0;
    const absl::Time give_up = absl::Now() + absl::Minutes(5);
    while (absl::Now() < give_up) {
      auto page = store->ReadAll(after, 500);
      if (!page.ok()) {
        reader_error = page.status().ToString();
        return;
      }
      for (RecordedEvent& event : *page) {
        if (event.global_position != after + 1) {
          reader_error =
              absl::StrCat("after ", after, " came ", event.global_position);
          return;
        }
        after = event.global_position;
        seen.push_back(std::move(event));
      }
      if (page->empty()) {
        if (writers_done && after >= final_head) return;
        (void)store->WaitForEventsAfter(after,
                                        absl::Now() + absl::Milliseconds(200));
      }
    }
    reader_error = "reader timed out";
  });

  std::vector<FILE*> writers;
  for (int w = 0; w < kWriters; ++w) {
    writers.push_back(popen(absl::StrCat(EVENT_STORE_WRITER, " '", url, "' ",
                                         kAppendsPerWriter, " ", w + 1)
                                .c_str(),
                            "r"));
    ASSERT_NE(writers.back(), nullptr);
  }
  // position -> "stream version", as acknowledged to the writers.
  std::map<int64_t, std::string> acknowledged;
  for (FILE* writer : writers) {
    char line[256];
    while (fgets(line, sizeof(line), writer) != nullptr) {
      std::istringstream in(line);
      int64_t position, version;
      std::string stream;
      ASSERT_TRUE(in >> position >> stream >> version) << line;
      EXPECT_TRUE(
          acknowledged.emplace(position, absl::StrCat(stream, " ", version))
              .second)
          << "position acknowledged twice: " << position;
    }
    EXPECT_EQ(pclose(writer), 0);
  }
  final_head = *store->HeadPosition();
  writers_done = true;
  reader.join();

  ASSERT_EQ(reader_error, "");
  ASSERT_EQ(acknowledged.size(), size_t{kWriters * kAppendsPerWriter});
  ASSERT_EQ(seen.size(), acknowledged.size());
  for (const RecordedEvent& event : seen) {
    EXPECT_EQ(acknowledged[event.global_position],
              absl::StrCat(event.stream_id, " ", event.stream_version));
  }
}

}  // namespace
}  // namespace inventory
