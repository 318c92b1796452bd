#include "common/eventstore/postgres/postgres_event_store.h"

#include <algorithm>
#include <atomic>
#include <pqxx/pqxx>
#include <stdexcept>
#include <utility>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/base/error_reason.h"
#include "common/base/log.h"
#include "common/base/status_macros.h"
#include "common/base/uuid.h"
#include "common/eventstore/postgres/postgres_connection_pool.h"
#include "common/eventstore/postgres/postgres_schema.h"
#include "common/eventstore/postgres/socket_watchdog.h"

namespace inventory {
namespace {

using postgres_internal::PendingAppend;

// Appends notify this channel with the new head position as payload. The
// listeners' checks of their own connections (see Listen()) travel on it
// too, with a payload that is not a number, which every listener ignores
// but the one that sent it. One channel means one LISTEN statement: the
// only statement on the listener's connection that waits for an answer
// without a timeout.
constexpr const char* kChannel = "inventory_events";

// Set when a store's destructor stopped waiting for its listener thread.
std::atomic<bool> listener_left_running{false};

// How long a call waits for an answer before its connection counts as
// silent (PostgresConnectionPool's answer_timeout). The server ends a
// statement at statement_timeout and answers at once; what it does not
// bound (the commit's flush to disk, sending a large page) gets half as
// long again, at least 2 s. Past that the connection is taken for dead; an
// append cut short so is recovered like any lost answer.
absl::Duration AnswerTimeout(absl::Duration statement_timeout) {
  if (statement_timeout <= absl::ZeroDuration()) return absl::ZeroDuration();
  return statement_timeout + std::max(absl::Seconds(2), statement_timeout / 2);
}

constexpr const char* kEventColumns =
    "global_position, stream_id, stream_version, event_id::text, event_type, "
    "payload::text, coalesce(metadata->>'request_id', ''), "
    "coalesce(metadata->>'correlation_id', ''), "
    "coalesce(metadata->>'causation_id', ''), "
    "(extract(epoch FROM recorded_at) * 1000000)::bigint";

// Prepared statements, defined on every pooled connection: the server
// parses and plans each once per connection instead of once per call.
constexpr const char* kAppendEvents = "append_events";
constexpr const char* kReadStream = "read_stream";
constexpr const char* kReadAll = "read_all";
constexpr const char* kHeadPosition = "head_position";
// How the listener's connection shows in pg_stat_activity.
constexpr const char* kListenerApplicationName = "inventory-listener";
constexpr const char* kFindRequest = "find_request";

void PrepareConnection(pqxx::connection& connection) {
  {
    // append_events() must read the head after it takes the append lock,
    // which READ COMMITTED guarantees (each statement of the function sees
    // what committed before it started); a database whose default is
    // REPEATABLE READ or SERIALIZABLE would give it a snapshot from before
    // the lock, and a duplicate position.
    pqxx::nontransaction tx(connection);
    tx.exec0(
        "SET SESSION CHARACTERISTICS AS TRANSACTION ISOLATION LEVEL READ "
        "COMMITTED");
  }
  connection.prepare(
      kAppendEvents,
      "SELECT o_outcome, o_version, o_position FROM append_events($1::text[], "
      "$2::bigint[], $3::text[], $4::text[], $5::integer[], $6::uuid[], "
      "$7::text[], $8::text[], $9::text[], $10::text[], $11::text[])");
  connection.prepare(kReadStream,
                     absl::StrCat("SELECT ", kEventColumns,
                                  " FROM events WHERE stream_id = $1 AND "
                                  "stream_version >= $2 ORDER BY "
                                  "stream_version LIMIT $3"));
  connection.prepare(kReadAll, absl::StrCat("SELECT ", kEventColumns,
                                            " FROM events WHERE "
                                            "global_position > $1 ORDER BY "
                                            "global_position LIMIT $2"));
  connection.prepare(kHeadPosition,
                     "SELECT coalesce(max(global_position), 0) FROM events");
  connection.prepare(kFindRequest,
                     "SELECT stream_id, fingerprint, stream_version, "
                     "global_position FROM event_requests WHERE request_id = "
                     "$1");
}

RecordedEvent EventFromRow(const pqxx::row& row) {
  RecordedEvent event;
  event.global_position = row[0].as<int64_t>();
  event.stream_id = row[1].as<std::string>();
  event.stream_version = row[2].as<int64_t>();
  event.event_id = row[3].as<std::string>();
  event.event_type = row[4].as<std::string>();
  event.payload_json = row[5].as<std::string>();
  event.metadata.request_id = row[6].as<std::string>();
  event.metadata.correlation_id = row[7].as<std::string>();
  event.metadata.causation_id = row[8].as<std::string>();
  event.recorded_at = absl::FromUnixMicros(row[9].as<int64_t>());
  return event;
}

std::vector<RecordedEvent> EventsFromResult(const pqxx::result& result) {
  std::vector<RecordedEvent> events;
  events.reserve(result.size());
  for (const pqxx::row& row : result) events.push_back(EventFromRow(row));
  return events;
}

// The recorded request, if any, inside the append transaction.
std::optional<RecordedRequest> LookupRequest(pqxx::transaction_base& tx,
                                             const std::string& request_id) {
  const pqxx::result rows = tx.exec_prepared(kFindRequest, request_id);
  if (rows.empty()) return std::nullopt;
  RecordedRequest recorded;
  recorded.stream_id = rows[0][0].as<std::string>();
  recorded.fingerprint = rows[0][1].as<std::string>();
  recorded.result.stream_version = rows[0][2].as<int64_t>();
  recorded.result.global_position = rows[0][3].as<int64_t>();
  return recorded;
}

// PostgreSQL's array input syntax for text[]: every element quoted, with
// backslash escapes, so any text (commas, quotes, braces) round-trips.
class TextArray {
 public:
  void Add(absl::string_view element) {
    literal_.push_back(literal_.empty() ? '{' : ',');
    literal_.push_back('"');
    for (char c : element) {
      if (c == '"' || c == '\\') literal_.push_back('\\');
      literal_.push_back(c);
    }
    literal_.push_back('"');
  }
  std::string Literal() const {
    return literal_.empty() ? "{}" : literal_ + "}";
  }

 private:
  std::string literal_;
};

template <typename Int>
std::string IntArray(const std::vector<Int>& values) {
  return absl::StrCat("{", absl::StrJoin(values, ","), "}");
}

// The arguments of append_events() (postgres_schema.cc) for a batch.
struct BatchArguments {
  TextArray streams, request_ids, fingerprints, event_ids, types, payloads,
      causation_ids, correlation_ids, event_request_ids;
  std::vector<int64_t> expected;
  std::vector<int> counts;
};

BatchArguments ArgumentsOf(const std::vector<PendingAppend*>& batch) {
  BatchArguments args;
  for (const PendingAppend* pending : batch) {
    const AppendRequest& request = *pending->request;
    args.streams.Add(request.stream_id);
    args.expected.push_back(request.expected_version.is_any()
                                ? -1
                                : request.expected_version.value());
    args.request_ids.Add(request.request_id);
    args.fingerprints.Add(pending->fingerprint);
    args.counts.push_back(static_cast<int>(request.events.size()));
    for (const std::string& id : pending->event_ids) args.event_ids.Add(id);
    for (const EventData& event : request.events) {
      args.types.Add(event.event_type);
      args.payloads.Add(event.payload_json);
      args.causation_ids.Add(event.metadata.causation_id);
      args.correlation_ids.Add(event.metadata.correlation_id);
      args.event_request_ids.Add(event.metadata.request_id);
    }
  }
  return args;
}

// One request's outcome as returned by append_events().
absl::StatusOr<AppendResult> OutcomeOf(const pqxx::row& row,
                                       const AppendRequest& request) {
  const std::string outcome = row[0].as<std::string>();
  AppendResult result;
  result.stream_version = row[1].as<int64_t>();
  result.global_position = row[2].as<int64_t>();
  if (outcome == "appended") return result;
  if (outcome == "recovered") {
    result.recovered = true;
    return result;
  }
  if (outcome == "replayed") {
    result.replayed = true;
    return result;
  }
  if (outcome == "reused") return RequestIdReused();
  if (outcome == "conflict") {
    return WrongExpectedVersion(request.stream_id, request.expected_version,
                                result.stream_version);
  }
  LogError("postgres: append: unknown outcome ", outcome);
  return absl::InternalError("append: database error");
}

// What one attempt at writing a batch did.
struct BatchAttempt {
  absl::Status status;
  // The statement was handed to the connection: if the connection broke
  // afterwards, the server may have executed and committed it.
  bool sent = false;
  std::string sqlstate;  // of an SQL error; empty for any other failure
};

// Appends `batch` in one statement (one transaction, one commit); on OK,
// `outcomes` holds each request's outcome, in order.
absl::Status AppendBatchInOneStatement(
    pqxx::connection& connection, const std::vector<PendingAppend*>& batch,
    std::vector<absl::StatusOr<AppendResult>>* outcomes,
    BatchAttempt* attempt) {
  outcomes->clear();
  const BatchArguments args = ArgumentsOf(batch);
  pqxx::nontransaction tx(connection);
  attempt->sent = true;
  pqxx::result rows;
  try {
    rows = tx.exec_prepared(
        kAppendEvents, args.streams.Literal(), IntArray(args.expected),
        args.request_ids.Literal(), args.fingerprints.Literal(),
        IntArray(args.counts), args.event_ids.Literal(), args.types.Literal(),
        args.payloads.Literal(), args.causation_ids.Literal(),
        args.correlation_ids.Literal(), args.event_request_ids.Literal());
  } catch (const pqxx::sql_error& e) {
    attempt->sqlstate = e.sqlstate();
    throw;
  }
  if (rows.size() != batch.size()) {
    LogError("postgres: append: ", rows.size(), " outcomes for ", batch.size(),
             " requests");
    return absl::InternalError("append: database error");
  }
  outcomes->reserve(batch.size());
  for (size_t i = 0; i < batch.size(); ++i) {
    outcomes->push_back(OutcomeOf(rows[i], *batch[i]->request));
  }
  return absl::OkStatus();
}

// True for an error that belongs to one request of a batch and fails it
// alone: a value the database refuses (class 22, data exception) or a
// violated constraint (class 23). A full disk, a lack of memory, a lost
// connection or anything else says nothing about any one request.
bool BelongsToOneRequest(absl::string_view sqlstate) {
  return absl::StartsWith(sqlstate, "22") || absl::StartsWith(sqlstate, "23");
}

absl::Status OutcomeUnknown(absl::Duration waited) {
  return WithReason(
      absl::UnavailableError(absl::StrCat(
          "append: the database connection was lost after the command was "
          "sent, and the outcome could not be learned within ",
          absl::FormatDuration(waited),
          ": the command may or may not have been applied; a retry with the "
          "same request_id is safe (without a request_id, read the item "
          "before sending the command again)")),
      reason::kOutcomeUnknown);
}

// Calls `on_payload` for each notification on `channel`.
class NotificationReceiver final : public pqxx::notification_receiver {
 public:
  NotificationReceiver(pqxx::connection_base& connection,
                       const std::string& channel,
                       std::function<void(const std::string&)> on_payload)
      : pqxx::notification_receiver(connection, channel),
        on_payload_(std::move(on_payload)) {}
  void operator()(const std::string& payload, int) override {
    on_payload_(payload);
  }

 private:
  std::function<void(const std::string&)> on_payload_;
};

// The listener thread's connection settings.
struct ListenerConfig {
  std::string url;  // with connect timeout and keepalives
  absl::Duration check_interval;
  std::string check_token;  // payload prefix of this store's checks
};

// A notification is a hint, never a fact: any role that may connect may
// NOTIFY the channel with any payload. So a position announced beyond what
// this store knows is committed is checked against the database (one
// query per round of notifications, on the listener's connection) and
// clamped to the real head before anyone acts on it.
void ClampAnnounced(pqxx::connection& connection, SocketWatchdog& watchdog,
                    const ListenerConfig& config,
                    PostgresEventStore::Shared& shared, int64_t announced) {
  {
    absl::MutexLock lock(&shared.mu);
    if (announced <= shared.notified_head) return;
  }
  const int64_t watch =
      watchdog.Watch(connection.sock(), absl::Now() + config.check_interval);
  absl::Cleanup unwatch = [&] { watchdog.Unwatch(watch); };
  pqxx::nontransaction tx(connection);
  const int64_t head =
      tx.exec1("SELECT coalesce(max(global_position), 0) FROM events")[0]
          .as<int64_t>();
  absl::MutexLock lock(&shared.mu);
  shared.notified_head =
      std::max(shared.notified_head, std::min(announced, head));
}

// Body of the listener thread: LISTEN, and on each round of notifications
// raise shared->notified_head (clamped: ClampAnnounced()); reconnects with
// backoff until shared->stopping. Uses nothing of the store but `shared` and
// `pool`, which it co-owns, so it may outlive the store (see
// PostgresEventStoreOptions::stop_timeout).
//
// A connection can die without a FIN (a host or a middlebox gone): no error
// ever comes, and notifications silently stop. So every check_interval the
// listener sends itself a notification (payload "check:<token>:<n>")
// through the pool,
// and reconnects when it does not arrive within check_interval.
void Listen(std::shared_ptr<PostgresEventStore::Shared> shared,
            std::shared_ptr<PostgresConnectionPool> pool,
            ListenerConfig config) {
  auto stopping = [&shared]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(shared->mu) {
    return shared->stopping;
  };
  auto is_stopping = [&shared] {
    absl::MutexLock lock(&shared->mu);
    return shared->stopping;
  };
  absl::Duration backoff = absl::Milliseconds(100);
  int64_t checks_sent = 0;
  // Bounds the LISTEN statement, which would wait forever for the answer
  // on a connection that went silent right after it was opened.
  SocketWatchdog watchdog;
  while (!is_stopping()) {
    try {
      pqxx::connection connection(config.url);
      std::string awaited_check;  // payload of the check in flight, if any
      const int64_t listen_watch = watchdog.Watch(
          connection.sock(), absl::Now() + config.check_interval);
      absl::Cleanup unwatch = [&] { watchdog.Unwatch(listen_watch); };
      // The highest position announced since the last clamp.
      int64_t announced = 0;
      NotificationReceiver receiver(
          connection, kChannel,
          [&announced, &awaited_check](const std::string& p) {
            if (!awaited_check.empty() && p == awaited_check) {
              awaited_check.clear();
              return;
            }
            int64_t position = 0;
            if (!absl::SimpleAtoi(p, &position)) return;
            announced = std::max(announced, position);
          });
      if (watchdog.Unwatch(listen_watch)) {
        throw std::runtime_error(
            absl::StrCat("no answer to LISTEN within ",
                         absl::FormatDuration(config.check_interval)));
      }
      // Leaving the scope (stopping, or an error) closes the connection
      // before the receiver is destroyed: libpqxx would otherwise send
      // UNLISTEN and wait for its answer, forever on a half-open
      // connection. Closing the session ends its LISTEN anyway.
      absl::Cleanup close = [&connection] { connection.disconnect(); };
      backoff = absl::Milliseconds(100);
      absl::Time next_check = absl::Now() + config.check_interval;
      absl::Time check_deadline = absl::InfiniteFuture();
      while (!is_stopping()) {
        connection.await_notification(0, 200'000);
        if (announced > 0) {
          ClampAnnounced(connection, watchdog, config, *shared, announced);
          announced = 0;
        }
        const absl::Time now = absl::Now();
        if (awaited_check.empty()) {
          check_deadline = absl::InfiniteFuture();
        } else if (now > check_deadline) {
          throw std::runtime_error(
              absl::StrCat("its own check did not come back within ",
                           absl::FormatDuration(config.check_interval),
                           " (half-open connection?)"));
        }
        if (awaited_check.empty() && now >= next_check) {
          awaited_check =
              absl::StrCat("check:", config.check_token, ":", ++checks_sent);
          const absl::Status sent = pool->Run(
              "listener check", [&](pqxx::connection& c) -> absl::Status {
                pqxx::nontransaction tx(c);
                tx.exec_params("SELECT pg_notify($1, $2)",
                               std::string(kChannel), awaited_check);
                return absl::OkStatus();
              });
          if (!sent.ok()) {
            throw std::runtime_error(
                absl::StrCat("cannot send its check: ", sent.message()));
          }
          check_deadline = absl::Now() + config.check_interval;
          next_check = absl::Now() + config.check_interval;
        }
      }
    } catch (const std::exception& e) {
      // Once stopping, the thread may have been left behind by a process
      // on its way out: it touches nothing global any more.
      if (!is_stopping()) {
        LogWarning("postgres: notification listener: ", e.what(),
                   "; reconnecting in ", absl::FormatDuration(backoff));
      }
    }
    absl::MutexLock lock(&shared->mu);
    shared->mu.AwaitWithTimeout(absl::Condition(&stopping), backoff);
    backoff = std::min(backoff * 2, absl::Seconds(5));
  }
  absl::MutexLock lock(&shared->mu);
  shared->listener_exited = true;
}

}  // namespace

absl::StatusOr<std::unique_ptr<PostgresEventStore>> PostgresEventStore::Open(
    const PostgresEventStoreOptions& options) {
  if (options.pool_size < 1) {
    return absl::InvalidArgumentError("pool_size must be at least 1");
  }
  std::unique_ptr<PostgresEventStore> store(new PostgresEventStore(options));
  INVENTORY_RETURN_IF_ERROR(store->pool_->RunWithoutAnswerTimeout(
      "migrate schema", [](pqxx::connection& connection) -> absl::Status {
        MigrateSchema(connection);
        return absl::OkStatus();
      }));
  const absl::Duration connect_timeout =
      options.statement_timeout > absl::ZeroDuration()
          ? options.statement_timeout
          : absl::Seconds(10);
  ListenerConfig config{
      WithFallbackApplicationName(
          WithKeepalives(WithConnectTimeout(options.url, connect_timeout),
                         options.listener_check_interval),
          kListenerApplicationName),
      options.listener_check_interval, NewUuid()};
  store->listener_ =
      std::thread(Listen, store->shared_, store->pool_, std::move(config));
  return store;
}

PostgresEventStore::PostgresEventStore(const PostgresEventStoreOptions& options)
    : options_(options),
      max_batch_(static_cast<size_t>(std::max(1, options.max_batch_requests))),
      pool_(std::make_shared<PostgresConnectionPool>(
          PostgresConnectionPool::Options{
              options.url, options.pool_size, options.acquire_timeout,
              PrepareConnection, options.statement_timeout,
              AnswerTimeout(options.statement_timeout)})),
      shared_(std::make_shared<Shared>()) {}

PostgresEventStore::~PostgresEventStore() {
  absl::MutexLock lock(&shared_->mu);
  shared_->stopping = true;
  shared_->waiters_stopped = true;
  if (!listener_.joinable()) return;
  auto exited = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(shared_->mu) {
    return shared_->listener_exited;
  };
  // The listener may be opening a connection (bounded by the connect
  // timeout, which may be longer than a shutdown should take).
  if (shared_->mu.AwaitWithTimeout(absl::Condition(&exited),
                                   options_.stop_timeout)) {
    shared_->mu.Unlock();
    listener_.join();
    shared_->mu.Lock();
  } else {
    LogWarning("postgres: notification listener still busy after ",
               absl::FormatDuration(options_.stop_timeout),
               "; not waiting for it");
    listener_.detach();
    listener_left_running.store(true);
  }
}

bool PostgresListenerLeftRunning() { return listener_left_running.load(); }

absl::StatusOr<AppendResult> PostgresEventStore::Append(
    const AppendRequest& request) {
  INVENTORY_RETURN_IF_ERROR(ValidateAppendRequest(request));
  // The event ids are this append's identity across attempts (see
  // WriteBatch()).
  std::vector<std::string> event_ids;
  event_ids.reserve(request.events.size());
  for (size_t i = 0; i < request.events.size(); ++i) {
    event_ids.push_back(NewUuid());
  }
  PendingAppend self{&request, StoredRequestFingerprint(request),
                     std::move(event_ids), std::nullopt};
  absl::MutexLock lock(&batch_mu_);
  queue_.push_back(&self);
  auto done_or_no_leader = [this,
                            &self]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(batch_mu_) {
    return self.result.has_value() || !leader_active_;
  };
  for (;;) {
    batch_mu_.Await(absl::Condition(&done_or_no_leader));
    if (self.result.has_value()) return *std::move(self.result);
    // No batch is being written: this caller writes the next one, made of
    // every append queued meanwhile (up to the bound), its own included
    // unless the queue is longer than that.
    leader_active_ = true;
    std::vector<PendingAppend*> batch;
    while (!queue_.empty() && batch.size() < max_batch_) {
      batch.push_back(queue_.front());
      queue_.pop_front();
    }
    batch_mu_.Unlock();
    WriteBatch(batch);
    batch_mu_.Lock();
    leader_active_ = false;
  }
}

PostgresEventStore::GroupCommitStats PostgresEventStore::group_commit_stats() {
  absl::MutexLock lock(&batch_mu_);
  return GroupCommitStats{statements_, batched_requests_,
                          static_cast<int64_t>(queue_.size()), leader_active_,
                          recovered_batches_};
}

void PostgresEventStore::WriteBatch(std::vector<PendingAppend*>& batch) {
  {
    absl::MutexLock lock(&batch_mu_);
    ++statements_;
    batched_requests_ += static_cast<int64_t>(batch.size());
  }
  std::vector<absl::StatusOr<AppendResult>> outcomes;
  const absl::Time started = absl::Now();
  // When the answer was found lost: the recovery's time counts from there
  // (the lost attempt itself may have taken until the answer timeout).
  absl::Time lost_at = absl::InfinitePast();
  absl::Duration backoff = absl::Milliseconds(50);
  bool answer_lost = false;
  BatchAttempt attempt;
  for (;;) {
    attempt = BatchAttempt();
    attempt.status = pool_->RunOnce(
        "append", [&batch, &outcomes, &attempt](pqxx::connection& connection) {
          return AppendBatchInOneStatement(connection, batch, &outcomes,
                                           &attempt);
        });
    if (attempt.status.ok()) break;
    // Only a connection that broke after the statement was sent leaves the
    // outcome open; every other failure rolled the statement back. Once an
    // answer was lost, any later failure leaves it open, except an error
    // that the same batch must have met the first time too.
    if (attempt.sent &&
        attempt.status.code() == absl::StatusCode::kUnavailable &&
        !answer_lost) {
      LogWarning("postgres: append: the answer to a batch of ", batch.size(),
                 " request(s) was lost; asking again on a new connection");
      answer_lost = true;
      lost_at = absl::Now();
      continue;  // at once: at least one attempt, whatever the time left
    }
    if (!answer_lost || BelongsToOneRequest(attempt.sqlstate)) break;
    const absl::Duration waited = absl::Now() - started;
    if (absl::Now() - lost_at + backoff > options_.outcome_recovery_timeout) {
      LogError("postgres: append: the outcome of a batch of ", batch.size(),
               " request(s) is unknown after ", absl::FormatDuration(waited),
               ": ", attempt.status.message());
      Publish(batch, std::vector<absl::StatusOr<AppendResult>>(
                         batch.size(), OutcomeUnknown(waited)));
      return;
    }
    absl::SleepFor(backoff);  // a pause before the next attempt
    backoff = std::min(backoff * 2, absl::Seconds(1));
  }
  if (attempt.status.ok()) {
    if (answer_lost) {
      LogInfo("postgres: append: recovered the outcome of a batch of ",
              batch.size(), " request(s) after a lost answer");
      absl::MutexLock lock(&batch_mu_);
      ++recovered_batches_;
    }
    // Waiters in this process learn of the commit now, without waiting for
    // the notification's round trip through the database.
    int64_t last = 0;
    for (const absl::StatusOr<AppendResult>& outcome : outcomes) {
      if (outcome.ok() && !outcome->replayed) {
        last = std::max(last, outcome->global_position);
      }
    }
    {
      absl::MutexLock lock(&shared_->mu);
      shared_->notified_head = std::max(shared_->notified_head, last);
    }
    Publish(batch, std::move(outcomes));
    return;
  }
  // Nothing was committed. An error that belongs to one request (a payload
  // the database refuses, say) failed the statement as a whole, so each
  // request is written alone to find it: one bad request never fails the
  // others. Any other error fails every request of the batch.
  if (batch.size() > 1 && BelongsToOneRequest(attempt.sqlstate)) {
    for (PendingAppend* pending : batch) {
      std::vector<PendingAppend*> alone = {pending};
      WriteBatch(alone);
    }
    return;
  }
  Publish(batch, std::vector<absl::StatusOr<AppendResult>>(batch.size(),
                                                           attempt.status));
}

void PostgresEventStore::Publish(
    std::vector<PendingAppend*>& batch,
    std::vector<absl::StatusOr<AppendResult>> outcomes) {
  absl::MutexLock lock(&batch_mu_);
  for (size_t i = 0; i < batch.size(); ++i) {
    batch[i]->result = std::move(outcomes[i]);
  }
}

absl::StatusOr<std::vector<RecordedEvent>> PostgresEventStore::ReadStream(
    absl::string_view stream_id, int64_t from_version, int64_t max_count) {
  INVENTORY_RETURN_IF_ERROR(
      ValidateReadStream(stream_id, from_version, max_count));
  return pool_->Run(
      "read stream",
      [&](pqxx::connection& connection)
          -> absl::StatusOr<std::vector<RecordedEvent>> {
        pqxx::nontransaction tx(connection);
        return EventsFromResult(tx.exec_prepared(
            kReadStream, std::string(stream_id), from_version, max_count));
      });
}

absl::StatusOr<std::vector<RecordedEvent>> PostgresEventStore::ReadAll(
    int64_t after_position, int64_t max_count) {
  INVENTORY_RETURN_IF_ERROR(ValidateReadAll(after_position, max_count));
  return pool_->Run("read all",
                    [&](pqxx::connection& connection)
                        -> absl::StatusOr<std::vector<RecordedEvent>> {
                      pqxx::nontransaction tx(connection);
                      return EventsFromResult(tx.exec_prepared(
                          kReadAll, after_position, max_count));
                    });
}

absl::StatusOr<int64_t> PostgresEventStore::HeadPosition() {
  int64_t notified_before = 0;
  {
    absl::MutexLock lock(&shared_->mu);
    notified_before = shared_->notified_head;
  }
  absl::StatusOr<int64_t> head =
      pool_->Run("head position",
                 [](pqxx::connection& connection) -> absl::StatusOr<int64_t> {
                   pqxx::nontransaction tx(connection);
                   return tx.exec_prepared1(kHeadPosition)[0].as<int64_t>();
                 });
  // Positions announced before the read began were committed before it,
  // so the read sees them, unless the log is now shorter (restored from a
  // backup, failed over): then those announcements describe another log,
  // and keeping them would make WaitForEventsAfter() report events that do
  // not exist, again and again.
  if (head.ok() && *head < notified_before) {
    absl::MutexLock lock(&shared_->mu);
    if (shared_->notified_head == notified_before) {
      shared_->notified_head = *head;
    }
  }
  return head;
}

absl::StatusOr<bool> PostgresEventStore::WaitForEventsAfter(
    int64_t after_position, absl::Time deadline) {
  Shared& shared = *shared_;
  for (;;) {
    {
      // Announced positions are committed, and so is every one before them
      // (appends commit in position order): no need to ask the database.
      absl::MutexLock lock(&shared.mu);
      if (shared.waiters_stopped) return StoreStopping();
      if (shared.notified_head > after_position &&
          shared.last_announced_answer != after_position) {
        shared.last_announced_answer = after_position;
        return true;
      }
      // Asked again after the same position: the announcement was of
      // another log (see HeadPosition()), or late; the database decides.
    }
    INVENTORY_ASSIGN_OR_RETURN(const int64_t head, HeadPosition());
    if (head > after_position) return true;
    const absl::Time now = absl::Now();
    if (now >= deadline) return false;
    absl::MutexLock lock(&shared.mu);
    auto notified = [&shared, after_position]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(
                        shared.mu) {
      return shared.notified_head > after_position || shared.waiters_stopped;
    };
    shared.mu.AwaitWithDeadline(
        absl::Condition(&notified),
        std::min(deadline, now + options_.wait_recheck_interval));
  }
}

int64_t PostgresEventStore::announced_head() const {
  absl::MutexLock lock(&shared_->mu);
  return shared_->notified_head;
}

void PostgresEventStore::StopWaiting() {
  absl::MutexLock lock(&shared_->mu);
  shared_->waiters_stopped = true;
}

absl::StatusOr<std::optional<RecordedRequest>> PostgresEventStore::FindRequest(
    absl::string_view request_id) {
  return pool_->Run("find request",
                    [&](pqxx::connection& connection)
                        -> absl::StatusOr<std::optional<RecordedRequest>> {
                      pqxx::nontransaction tx(connection);
                      return LookupRequest(tx, std::string(request_id));
                    });
}

}  // namespace inventory
