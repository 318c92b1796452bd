#include "common/postgres_event_store.h"

#include <pqxx/pqxx>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/log.h"
#include "common/postgres_connection_pool.h"
#include "common/postgres_schema.h"
#include "common/status_macros.h"
#include "common/uuid.h"

namespace inventory {
namespace {

using postgres_internal::PendingAppend;

constexpr const char* kChannel = "inventory_events";

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
constexpr const char* kFindRequest = "find_request";

void PrepareStatements(pqxx::connection& connection) {
  connection.prepare(
      kAppendEvents,
      "SELECT o_outcome, o_version, o_position FROM append_events($1::text[], "
      "$2::bigint[], $3::text[], $4::text[], $5::integer[], $6::text[], "
      "$7::text[], $8::text[], $9::text[], $10::text[])");
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
  TextArray streams, request_ids, fingerprints, types, payloads, causation_ids,
      correlation_ids, event_request_ids;
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

// Appends `batch` in one statement (one transaction, one commit); on OK,
// `outcomes` holds each request's outcome, in order.
absl::Status AppendBatchInOneStatement(
    pqxx::connection& connection, const std::vector<PendingAppend*>& batch,
    std::vector<absl::StatusOr<AppendResult>>* outcomes) {
  outcomes->clear();
  const BatchArguments args = ArgumentsOf(batch);
  pqxx::nontransaction tx(connection);
  const pqxx::result rows = tx.exec_prepared(
      kAppendEvents, args.streams.Literal(), IntArray(args.expected),
      args.request_ids.Literal(), args.fingerprints.Literal(),
      IntArray(args.counts), args.types.Literal(), args.payloads.Literal(),
      args.causation_ids.Literal(), args.correlation_ids.Literal(),
      args.event_request_ids.Literal());
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

// Calls `on_payload` for each notification on kChannel.
class NotificationReceiver final : public pqxx::notification_receiver {
 public:
  NotificationReceiver(pqxx::connection_base& connection,
                       std::function<void(const std::string&)> on_payload)
      : pqxx::notification_receiver(connection, kChannel),
        on_payload_(std::move(on_payload)) {}
  void operator()(const std::string& payload, int) override {
    on_payload_(payload);
  }

 private:
  std::function<void(const std::string&)> on_payload_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<PostgresEventStore>> PostgresEventStore::Open(
    const PostgresEventStoreOptions& options) {
  if (options.pool_size < 1) {
    return absl::InvalidArgumentError("pool_size must be at least 1");
  }
  std::unique_ptr<PostgresEventStore> store(new PostgresEventStore(options));
  RETURN_IF_ERROR(store->pool_->Run(
      "migrate schema", [](pqxx::connection& connection) -> absl::Status {
        MigrateSchema(connection);
        return absl::OkStatus();
      }));
  store->listener_ = std::thread([s = store.get()] { s->Listen(); });
  return store;
}

PostgresEventStore::PostgresEventStore(const PostgresEventStoreOptions& options)
    : url_(options.url),
      wait_recheck_interval_(options.wait_recheck_interval),
      max_batch_(static_cast<size_t>(std::max(1, options.max_batch_requests))),
      pool_(std::make_unique<PostgresConnectionPool>(
          PostgresConnectionPool::Options{
              options.url, options.pool_size, options.acquire_timeout,
              PrepareStatements, options.statement_timeout})) {}

PostgresEventStore::~PostgresEventStore() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  if (listener_.joinable()) listener_.join();
}

absl::StatusOr<AppendResult> PostgresEventStore::Append(
    const AppendRequest& request) {
  RETURN_IF_ERROR(ValidateAppendRequest(request));
  PendingAppend self{&request, FingerprintOf(request), std::nullopt};
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
                          static_cast<int64_t>(queue_.size()), leader_active_};
}

void PostgresEventStore::WriteBatch(std::vector<PendingAppend*>& batch) {
  {
    absl::MutexLock lock(&batch_mu_);
    ++statements_;
    batched_requests_ += static_cast<int64_t>(batch.size());
  }
  std::vector<absl::StatusOr<AppendResult>> outcomes;
  const absl::Status status =
      pool_->Run("append", [&batch, &outcomes](pqxx::connection& connection) {
        return AppendBatchInOneStatement(connection, batch, &outcomes);
      });
  if (status.ok()) {
    // Waiters in this process learn of the commit now, without waiting for
    // the notification's round trip through the database.
    int64_t last = 0;
    for (const absl::StatusOr<AppendResult>& outcome : outcomes) {
      if (outcome.ok() && !outcome->replayed) {
        last = std::max(last, outcome->global_position);
      }
    }
    {
      absl::MutexLock lock(&mu_);
      notified_head_ = std::max(notified_head_, last);
    }
    Publish(batch, std::move(outcomes));
    return;
  }
  // An unreachable database fails the whole batch: the outcome is unknown
  // and each caller may retry with its request_id. Any other error (a
  // payload the database refuses, say) belongs to one request, but the
  // statement failed as a whole, so each request is written alone to find
  // it: one bad request never fails the others.
  if (batch.size() == 1 || status.code() == absl::StatusCode::kUnavailable ||
      status.code() == absl::StatusCode::kDeadlineExceeded) {
    Publish(batch,
            std::vector<absl::StatusOr<AppendResult>>(batch.size(), status));
    return;
  }
  for (PendingAppend* pending : batch) {
    std::vector<PendingAppend*> alone = {pending};
    WriteBatch(alone);
  }
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
  RETURN_IF_ERROR(ValidateReadStream(stream_id, from_version, max_count));
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
  RETURN_IF_ERROR(ValidateReadAll(after_position, max_count));
  return pool_->Run("read all",
                    [&](pqxx::connection& connection)
                        -> absl::StatusOr<std::vector<RecordedEvent>> {
                      pqxx::nontransaction tx(connection);
                      return EventsFromResult(tx.exec_prepared(
                          kReadAll, after_position, max_count));
                    });
}

absl::StatusOr<int64_t> PostgresEventStore::HeadPosition() {
  return pool_->Run(
      "head position",
      [](pqxx::connection& connection) -> absl::StatusOr<int64_t> {
        pqxx::nontransaction tx(connection);
        return tx.exec_prepared1(kHeadPosition)[0].as<int64_t>();
      });
}

absl::StatusOr<bool> PostgresEventStore::WaitForEventsAfter(
    int64_t after_position, absl::Time deadline) {
  for (;;) {
    {
      // Announced positions are committed, and so is every one before them
      // (appends commit in position order): no need to ask the database.
      absl::MutexLock lock(&mu_);
      if (notified_head_ > after_position) return true;
    }
    ASSIGN_OR_RETURN(const int64_t head, HeadPosition());
    if (head > after_position) return true;
    const absl::Time now = absl::Now();
    if (now >= deadline) return false;
    absl::MutexLock lock(&mu_);
    auto notified = [this, after_position]()
                        ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
                          return notified_head_ > after_position || stopping_;
                        };
    mu_.AwaitWithDeadline(absl::Condition(&notified),
                          std::min(deadline, now + wait_recheck_interval_));
  }
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

void PostgresEventStore::Listen() {
  absl::Duration backoff = absl::Milliseconds(100);
  auto stopping = [this]()
                      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return stopping_; };
  for (;;) {
    {
      absl::MutexLock lock(&mu_);
      if (stopping_) return;
    }
    try {
      pqxx::connection connection(url_);
      NotificationReceiver receiver(connection, [this](const std::string& p) {
        int64_t position = 0;
        if (!absl::SimpleAtoi(p, &position)) return;
        absl::MutexLock lock(&mu_);
        notified_head_ = std::max(notified_head_, position);
      });
      backoff = absl::Milliseconds(100);
      for (;;) {
        {
          absl::MutexLock lock(&mu_);
          if (stopping_) return;
        }
        connection.await_notification(0, 200'000);
      }
    } catch (const std::exception& e) {
      LogWarning("postgres: notification listener: ", e.what(),
                 "; reconnecting in ", absl::FormatDuration(backoff));
    }
    absl::MutexLock lock(&mu_);
    mu_.AwaitWithTimeout(absl::Condition(&stopping), backoff);
    backoff = std::min(backoff * 2, absl::Seconds(5));
  }
}

}  // namespace inventory
