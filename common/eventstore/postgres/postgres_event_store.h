// PostgresEventStore: the EventStore (event_store.h) on PostgreSQL 15.
//
// Schema (postgres_schema.cc): table `events` (global_position,
// stream_id, stream_version, event_id, event_type, payload jsonb,
// metadata jsonb, recorded_at) with UNIQUE (stream_id, stream_version), and
// table `event_requests` for idempotency keys. Created and migrated by
// Open().
//
// The ordering guarantee. Every append transaction first takes one
// transaction-scoped advisory lock, then reads the head position, inserts
// its events at head + 1, head + 2, ..., and commits, which releases the
// lock. PostgreSQL makes a commit visible before it releases the
// transaction's locks, so the next appender reads a head that includes the
// previous append, and no position can become visible before a smaller
// one: the log is gap-free and grows only at its end, in commit order. A
// reader that remembers the last position it read never skips an event,
// whatever number of processes append at once. The price is that appends
// are serialized, which group commit makes up for.
//
// Group commit. Concurrent Append() calls queue up; whichever caller finds
// no batch in flight takes everything queued (up to `max_batch_requests`)
// and writes it with ONE call of the SQL function append_events()
// (postgres_schema.cc): one round trip, one transaction, one commit for the
// whole batch, while the next batch gathers. No timer delays a lone append.
// Inside the function each request keeps its own idempotency check,
// expected-version check and outcome, and sees the requests before it in
// the batch, so the result is the same as appending them one by one in
// queue order. A batch the database refuses as a whole (a payload that
// jsonb rejects, say) is retried request by request, so one bad request
// never fails the others; only errors that belong to one request (SQLSTATE
// classes 22 and 23, data and constraint errors) split a batch, never a
// full disk, a lack of memory or any other error of the server.
//
// A lost answer. Every event gets its id (a UUID) in Append(), before the
// first attempt. When the connection breaks after the statement was sent,
// the batch may or may not have committed (libpqxx cannot tell), so the
// same batch, with the same event ids, is sent again on a new connection,
// with backoff, for up to `outcome_recovery_timeout`. append_events()
// recognises a request whose last event id is stored as its own earlier
// commit and answers with that commit's version and position
// (AppendResult::recovered), so the caller learns the true outcome: never
// a second copy, never a refusal of what was applied. When the database
// stays out of reach, the outcome is unknown: UNAVAILABLE with reason
// OUTCOME_UNKNOWN (a retry with the same request_id is safe). UNAVAILABLE
// before anything was sent has reason DATABASE_UNAVAILABLE.
//
// Isolation: every pooled connection runs at READ COMMITTED whatever the
// database's default, so append_events() reads the latest head after it
// takes the append lock (at REPEATABLE READ its snapshot would predate the
// lock).
//
// Change notification: each append sends NOTIFY on channel
// `inventory_events` with its last position (delivered at commit, also to
// other processes); a listener thread wakes WaitForEventsAfter() callers.
// Waiters in the appending process are woken as soon as its batch commits.
// A notification can be missed (the listener reconnecting), so waiters
// also re-read the head every `wait_recheck_interval`. The listener's
// connection has a connect timeout and TCP keepalives, and every
// `listener_check_interval` the listener sends itself a notification
// through the pool: if it does not arrive within that interval, the
// connection is half-open (no FIN ever came) and the listener reconnects.
#ifndef INVENTORY_COMMON_EVENTSTORE_POSTGRES_POSTGRES_EVENT_STORE_H_
#define INVENTORY_COMMON_EVENTSTORE_POSTGRES_POSTGRES_EVENT_STORE_H_

#include <atomic>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/eventstore/event_store.h"

namespace inventory {

class PostgresConnectionPool;

namespace postgres_internal {
// An Append() call waiting for its batch to be written.
struct PendingAppend {
  const AppendRequest* request;
  std::string fingerprint;
  // One per event of `request`, chosen before the first attempt.
  std::vector<std::string> event_ids;
  // Set under the store's batch_mu_, once: the moment it is set, the
  // waiting caller may return and this object may be gone, so the writer
  // of the batch must not touch it after that.
  std::optional<absl::StatusOr<AppendResult>> result;
};
}  // namespace postgres_internal

struct PostgresEventStoreOptions {
  // "postgresql://user:password@host:port/database" (libpq URI syntax).
  std::string url;
  // Connections used by concurrent calls (the listener has one more).
  int pool_size = 4;
  // How long a call waits for a free connection before UNAVAILABLE.
  absl::Duration acquire_timeout = absl::Seconds(10);
  // When positive, the longest one statement (or opening a connection) may
  // take; a statement that takes longer is DEADLINE_EXCEEDED and changes
  // nothing. A call whose connection stays silent for half as long again
  // (at least 2 s more; a half-open connection, or a commit stuck on a
  // disk) has its connection closed and is UNAVAILABLE:
  // a read, or an append whose outcome is then recovered like any lost
  // answer. Schema migrations are not bounded by it.
  absl::Duration statement_timeout = absl::ZeroDuration();
  // The most appends written in one transaction (group commit).
  int max_batch_requests = 256;
  // How often WaitForEventsAfter() re-reads the head even without a
  // notification (one may be lost while the listener reconnects).
  absl::Duration wait_recheck_interval = absl::Seconds(1);
  // How long an append whose answer was lost keeps asking the database for
  // its outcome before it answers UNAVAILABLE (OUTCOME_UNKNOWN), counted
  // from when the loss was found; it asks at least once.
  absl::Duration outcome_recovery_timeout = absl::Seconds(10);
  // How often the listener checks that its connection still delivers
  // notifications (and how long it waits for its check to come back).
  absl::Duration listener_check_interval = absl::Seconds(10);
  // How long the destructor waits for the listener thread (which may be
  // opening a connection) before leaving it to finish on its own.
  absl::Duration stop_timeout = absl::Seconds(5);
};

// True once a PostgresEventStore was destroyed without waiting for its
// listener thread (it was still opening a connection after stop_timeout).
// A process should then end with std::_Exit() rather than return from
// main(): static destructors would run while that thread is inside libpq.
bool PostgresListenerLeftRunning();

// Thread-safe.
class PostgresEventStore final : public EventStore {
 public:
  // Connects, migrates the schema, and starts the notification listener.
  // UNAVAILABLE when the database cannot be reached.
  static absl::StatusOr<std::unique_ptr<PostgresEventStore>> Open(
      const PostgresEventStoreOptions& options);

  // Group commit counters, for tests and monitoring.
  struct GroupCommitStats {
    int64_t statements = 0;  // append_events() calls made
    int64_t requests = 0;    // appends those calls carried
    int64_t queued = 0;      // appends waiting for the next batch now
    bool writing = false;    // a batch is being written now
    // Batches whose answer was lost and whose outcome was then learned on
    // a new connection.
    int64_t recovered_batches = 0;
  };
  GroupCommitStats group_commit_stats();

  ~PostgresEventStore() override;
  PostgresEventStore(const PostgresEventStore&) = delete;
  PostgresEventStore& operator=(const PostgresEventStore&) = delete;

  absl::StatusOr<AppendResult> Append(const AppendRequest& request) override;
  absl::StatusOr<std::vector<RecordedEvent>> ReadStream(
      absl::string_view stream_id, int64_t from_version,
      int64_t max_count) override;
  absl::StatusOr<std::vector<RecordedEvent>> ReadAll(
      int64_t after_position, int64_t max_count) override;
  absl::StatusOr<int64_t> HeadPosition() override;
  absl::StatusOr<bool> WaitForEventsAfter(int64_t after_position,
                                          absl::Time deadline) override;
  absl::StatusOr<std::optional<RecordedRequest>> FindRequest(
      absl::string_view request_id) override;
  void StopWaiting() override;

  // The highest position this store knows is committed: its own appends,
  // and notifications once checked against the database. For tests.
  int64_t announced_head() const;

  // What the listener thread shares with the store; it may outlive the
  // store (see stop_timeout).
  struct Shared {
    absl::Mutex mu;
    // Highest position known committed: announced by a notification or
    // appended by this process.
    int64_t notified_head ABSL_GUARDED_BY(mu) = 0;
    // The after_position of the last WaitForEventsAfter() answered from
    // notified_head alone: asked again, the caller found nothing after it,
    // so the announcement is checked against the database.
    int64_t last_announced_answer ABSL_GUARDED_BY(mu) = -1;
    bool stopping ABSL_GUARDED_BY(mu) = false;  // the store is going away
    bool waiters_stopped ABSL_GUARDED_BY(mu) = false;  // StopWaiting()
    bool listener_exited ABSL_GUARDED_BY(mu) = false;
  };

 private:
  explicit PostgresEventStore(const PostgresEventStoreOptions& options);
  // Writes `batch` and sets each element's result.
  void WriteBatch(std::vector<postgres_internal::PendingAppend*>& batch);
  // Hands each element of `batch` its outcome, all under batch_mu_; the
  // elements must not be touched afterwards.
  void Publish(std::vector<postgres_internal::PendingAppend*>& batch,
               std::vector<absl::StatusOr<AppendResult>> outcomes);

  const PostgresEventStoreOptions options_;
  const size_t max_batch_;
  // Shared with the listener thread, which checks its connection with it.
  std::shared_ptr<PostgresConnectionPool> pool_;

  absl::Mutex batch_mu_;
  // Appends not yet taken into a batch, in arrival order.
  std::deque<postgres_internal::PendingAppend*> queue_
      ABSL_GUARDED_BY(batch_mu_);
  // True while a caller is writing a batch.
  bool leader_active_ ABSL_GUARDED_BY(batch_mu_) = false;
  int64_t statements_ ABSL_GUARDED_BY(batch_mu_) = 0;
  int64_t batched_requests_ ABSL_GUARDED_BY(batch_mu_) = 0;
  int64_t recovered_batches_ ABSL_GUARDED_BY(batch_mu_) = 0;

  const std::shared_ptr<Shared> shared_;
  std::thread listener_;
};

}  // namespace inventory

#endif  // INVENTORY_COMMON_EVENTSTORE_POSTGRES_POSTGRES_EVENT_STORE_H_
