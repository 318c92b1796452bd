#include "common/postgres_event_store.h"

#include <pqxx/pqxx>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/log.h"
#include "common/postgres_connection_pool.h"
#include "common/postgres_schema.h"
#include "common/status_macros.h"
#include "common/uuid.h"

namespace inventory {
namespace {

constexpr const char* kChannel = "inventory_events";

// Serializes appends (see the header for why this yields the ordering
// guarantee). An arbitrary constant shared by every process of the system.
constexpr const char* kAppendLock = "SELECT pg_advisory_xact_lock(7349022)";

constexpr const char* kEventColumns =
    "global_position, stream_id, stream_version, event_id::text, event_type, "
    "payload::text, coalesce(metadata->>'request_id', ''), "
    "coalesce(metadata->>'correlation_id', ''), "
    "coalesce(metadata->>'causation_id', ''), "
    "(extract(epoch FROM recorded_at) * 1000000)::bigint";

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
  const pqxx::result rows = tx.exec_params(
      "SELECT stream_id, fingerprint, stream_version, global_position "
      "FROM event_requests WHERE request_id = $1",
      request_id);
  if (rows.empty()) return std::nullopt;
  RecordedRequest recorded;
  recorded.stream_id = rows[0][0].as<std::string>();
  recorded.fingerprint = rows[0][1].as<std::string>();
  recorded.result.stream_version = rows[0][2].as<int64_t>();
  recorded.result.global_position = rows[0][3].as<int64_t>();
  return recorded;
}

absl::StatusOr<AppendResult> AppendInTransaction(
    pqxx::connection& connection, const AppendRequest& request,
    const std::string& fingerprint) {
  pqxx::work tx(connection);
  tx.exec(kAppendLock);
  if (!request.request_id.empty()) {
    if (auto recorded = LookupRequest(tx, request.request_id)) {
      if (recorded->fingerprint != fingerprint) return RequestIdReused();
      AppendResult replay = recorded->result;
      replay.replayed = true;
      return replay;
    }
  }
  const int64_t current_version =
      tx.exec_params1(
            "SELECT coalesce(max(stream_version), 0) FROM events "
            "WHERE stream_id = $1",
            request.stream_id)[0]
          .as<int64_t>();
  if (!request.expected_version.Matches(current_version)) {
    return WrongExpectedVersion(request.stream_id, request.expected_version,
                                current_version);
  }
  const int64_t head =
      tx.exec1("SELECT coalesce(max(global_position), 0) FROM events")[0]
          .as<int64_t>();
  AppendResult result;
  for (size_t i = 0; i < request.events.size(); ++i) {
    const EventData& event = request.events[i];
    result.global_position = head + static_cast<int64_t>(i) + 1;
    result.stream_version = current_version + static_cast<int64_t>(i) + 1;
    tx.exec_params0(
        "INSERT INTO events (global_position, stream_id, stream_version, "
        "event_id, event_type, payload, metadata) VALUES ($1, $2, $3, "
        "$4::uuid, $5, $6::jsonb, jsonb_build_object('request_id', $7::text, "
        "'correlation_id', $8::text, 'causation_id', $9::text))",
        result.global_position, request.stream_id, result.stream_version,
        NewUuid(), event.event_type, event.payload_json,
        event.metadata.request_id, event.metadata.correlation_id,
        event.metadata.causation_id);
  }
  if (!request.request_id.empty()) {
    tx.exec_params0(
        "INSERT INTO event_requests (request_id, stream_id, fingerprint, "
        "stream_version, global_position) VALUES ($1, $2, $3, $4, $5)",
        request.request_id, request.stream_id, fingerprint,
        result.stream_version, result.global_position);
  }
  tx.exec_params("SELECT pg_notify($1, $2)", std::string(kChannel),
                 absl::StrCat(result.global_position));
  tx.commit();
  return result;
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
      pool_(std::make_unique<PostgresConnectionPool>(
          PostgresConnectionPool::Options{options.url, options.pool_size,
                                          options.acquire_timeout})) {}

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
  const std::string fingerprint = FingerprintOf(request);
  return pool_->Run("append", [&](pqxx::connection& connection) {
    return AppendInTransaction(connection, request, fingerprint);
  });
}

absl::StatusOr<std::vector<RecordedEvent>> PostgresEventStore::ReadStream(
    absl::string_view stream_id, int64_t from_version, int64_t max_count) {
  RETURN_IF_ERROR(ValidateReadStream(stream_id, from_version, max_count));
  return pool_->Run(
      "read stream",
      [&](pqxx::connection& connection)
          -> absl::StatusOr<std::vector<RecordedEvent>> {
        pqxx::read_transaction tx(connection);
        return EventsFromResult(tx.exec_params(
            absl::StrCat("SELECT ", kEventColumns,
                         " FROM events WHERE stream_id = $1 AND "
                         "stream_version >= $2 ORDER BY stream_version "
                         "LIMIT $3"),
            std::string(stream_id), from_version, max_count));
      });
}

absl::StatusOr<std::vector<RecordedEvent>> PostgresEventStore::ReadAll(
    int64_t after_position, int64_t max_count) {
  RETURN_IF_ERROR(ValidateReadAll(after_position, max_count));
  return pool_->Run(
      "read all",
      [&](pqxx::connection& connection)
          -> absl::StatusOr<std::vector<RecordedEvent>> {
        pqxx::read_transaction tx(connection);
        return EventsFromResult(tx.exec_params(
            absl::StrCat("SELECT ", kEventColumns,
                         " FROM events WHERE global_position > $1 "
                         "ORDER BY global_position LIMIT $2"),
            after_position, max_count));
      });
}

absl::StatusOr<int64_t> PostgresEventStore::HeadPosition() {
  return pool_->Run(
      "head position",
      [](pqxx::connection& connection) -> absl::StatusOr<int64_t> {
        pqxx::read_transaction tx(connection);
        return tx
            .exec1("SELECT coalesce(max(global_position), 0) FROM events")[0]
            .as<int64_t>();
      });
}

absl::StatusOr<bool> PostgresEventStore::WaitForEventsAfter(
    int64_t after_position, absl::Time deadline) {
  for (;;) {
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
                      pqxx::read_transaction tx(connection);
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
