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
// never fails the others; a lost connection fails the batch with
// UNAVAILABLE (the outcome is unknown: retry with the same request_id).
//
// Change notification: each append sends NOTIFY on channel
// `inventory_events` with its last position (delivered at commit, also to
// other processes); a listener thread wakes WaitForEventsAfter() callers.
// Waiters in the appending process are woken as soon as its batch commits.
#ifndef INVENTORY_COMMON_POSTGRES_EVENT_STORE_H_
#define INVENTORY_COMMON_POSTGRES_EVENT_STORE_H_

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
#include "common/event_store.h"

namespace inventory {

class PostgresConnectionPool;

namespace postgres_internal {
// An Append() call waiting for its batch to be written.
struct PendingAppend {
  const AppendRequest* request;
  std::string fingerprint;
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
  // nothing. Schema migrations are not bounded by it.
  absl::Duration statement_timeout = absl::ZeroDuration();
  // The most appends written in one transaction (group commit).
  int max_batch_requests = 256;
  // How often WaitForEventsAfter() re-reads the head even without a
  // notification (one may be lost while the listener reconnects).
  absl::Duration wait_recheck_interval = absl::Seconds(1);
};

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

 private:
  explicit PostgresEventStore(const PostgresEventStoreOptions& options);
  // Body of the listener thread: LISTEN, and on each notification raise
  // notified_head_; reconnects with backoff until stopping_.
  void Listen();
  // Writes `batch` and sets each element's result.
  void WriteBatch(std::vector<postgres_internal::PendingAppend*>& batch);
  // Hands each element of `batch` its outcome, all under batch_mu_; the
  // elements must not be touched afterwards.
  void Publish(std::vector<postgres_internal::PendingAppend*>& batch,
               std::vector<absl::StatusOr<AppendResult>> outcomes);

  const std::string url_;
  const absl::Duration wait_recheck_interval_;
  const size_t max_batch_;
  std::unique_ptr<PostgresConnectionPool> pool_;

  absl::Mutex batch_mu_;
  // Appends not yet taken into a batch, in arrival order.
  std::deque<postgres_internal::PendingAppend*> queue_
      ABSL_GUARDED_BY(batch_mu_);
  // True while a caller is writing a batch.
  bool leader_active_ ABSL_GUARDED_BY(batch_mu_) = false;
  int64_t statements_ ABSL_GUARDED_BY(batch_mu_) = 0;
  int64_t batched_requests_ ABSL_GUARDED_BY(batch_mu_) = 0;

  absl::Mutex mu_;
  // Highest position known committed: announced by a notification or
  // appended by this process.
  int64_t notified_head_ ABSL_GUARDED_BY(mu_) = 0;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread listener_;
};

}  // namespace inventory

#endif  // INVENTORY_COMMON_POSTGRES_EVENT_STORE_H_
