// A fixed-size pool of libpqxx connections. Internal to the PostgreSQL
// adapter (it exposes pqxx types).
//
// Each connection is used by one thread at a time. A connection that fails
// is dropped and replaced by a new one on a later call, so the pool recovers
// by itself when PostgreSQL comes back.
#ifndef INVENTORY_COMMON_EVENTSTORE_POSTGRES_POSTGRES_CONNECTION_POOL_H_
#define INVENTORY_COMMON_EVENTSTORE_POSTGRES_POSTGRES_CONNECTION_POOL_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <pqxx/pqxx>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/eventstore/postgres/postgres_errors.h"
#include "common/eventstore/postgres/socket_watchdog.h"

namespace inventory {

// Thread-safe.
class PostgresConnectionPool {
 public:
  struct Options {
    std::string url;
    int size = 4;
    // How long a call waits for a free connection before UNAVAILABLE.
    absl::Duration acquire_timeout = absl::Seconds(10);
    // Runs on each new connection before its first use, e.g. to define
    // prepared statements (libpqxx sends them to the server lazily).
    std::function<void(pqxx::connection&)> on_connect;
    // When positive: the longest a statement may run (PostgreSQL's
    // statement_timeout, set on each new connection; a statement that
    // takes longer fails with DEADLINE_EXCEEDED and its transaction rolls
    // back), and the longest a new connection may take to open (libpq's
    // connect_timeout, at least 2 seconds, unless the URL sets one).
    absl::Duration statement_timeout = absl::ZeroDuration();
    // When positive: the longest a call (or the opening of a connection)
    // may wait for the server's answers. After it, a watchdog thread shuts
    // the connection's socket down, and the call fails as on a lost
    // connection (UNAVAILABLE, DATABASE_UNAVAILABLE). statement_timeout
    // cannot do this: it runs on the server, and a connection that went
    // silent without a FIN or RST (a half-open connection, a vanished
    // host, a middlebox that keeps acknowledging) would otherwise block its
    // caller forever.
    absl::Duration answer_timeout = absl::ZeroDuration();
  };

  explicit PostgresConnectionPool(Options options);
  ~PostgresConnectionPool();
  PostgresConnectionPool(const PostgresConnectionPool&) = delete;
  PostgresConnectionPool& operator=(const PostgresConnectionPool&) = delete;

  // Runs `fn(pqxx::connection&)`, which returns an absl::StatusOr<T> or
  // absl::Status, on a connection of its own. A pqxx exception thrown by
  // `fn` becomes a status (postgres_errors.h) naming `operation`.
  // UNAVAILABLE when no connection can be made or none frees up in time.
  //
  // A pooled connection may have died while idle (a database restart is
  // only noticed on use), so when a reused connection turns out broken,
  // `fn` is run once more on a new connection. libpqxx cannot tell whether
  // a statement reached the server before the connection broke, so `fn`
  // must be safe to repeat (reads are); see RunOnce().
  template <typename F>
  auto Run(absl::string_view operation, F&& fn)
      -> decltype(fn(std::declval<pqxx::connection&>())) {
    return RunAttempts(operation, /*retry_broken=*/true, /*watched=*/true, fn);
  }

  // Run() without the repeat: for statements whose effect is not safe to
  // repeat blindly. The caller learns of a broken connection as
  // UNAVAILABLE and decides.
  template <typename F>
  auto RunOnce(absl::string_view operation, F&& fn)
      -> decltype(fn(std::declval<pqxx::connection&>())) {
    return RunAttempts(operation, /*retry_broken=*/false, /*watched=*/true, fn);
  }

  // Run() without answer_timeout: for work that may legitimately wait
  // long, such as a schema migration waiting for another process's.
  template <typename F>
  auto RunWithoutAnswerTimeout(absl::string_view operation, F&& fn)
      -> decltype(fn(std::declval<pqxx::connection&>())) {
    return RunAttempts(operation, /*retry_broken=*/true, /*watched=*/false, fn);
  }

 private:
  template <typename F>
  auto RunAttempts(absl::string_view operation, bool retry_broken, bool watched,
                   F& fn) -> decltype(fn(std::declval<pqxx::connection&>())) {
    using Result = decltype(fn(std::declval<pqxx::connection&>()));
    for (int attempt = 1;; ++attempt) {
      bool reused = false;
      absl::StatusOr<std::unique_ptr<pqxx::connection>> connection =
          Take(operation, /*allow_idle=*/attempt == 1, &reused);
      if (!connection.ok()) return connection.status();
      bool retry = false;
      const int64_t watch = watched ? Watch(**connection) : 0;
      Result result = [&]() -> Result {
        try {
          return fn(**connection);
        } catch (const pqxx::in_doubt_error&) {
          return TranslateCurrentException(operation);
        } catch (const pqxx::broken_connection&) {
          retry = reused && retry_broken;
          return TranslateCurrentException(operation);
        } catch (...) {
          return TranslateCurrentException(operation);
        }
      }();
      if (Unwatch(watch)) {
        retry = false;  // the connection was silent, not stale
        result = Result(SilentConnection(operation));
      }
      const bool broken =
          !StatusOf(result).ok() && ConnectionLikelyBroken(StatusOf(result));
      Give(broken ? nullptr : std::move(*connection), /*drop_idle=*/broken);
      if (!retry) return result;
    }
  }

  static const absl::Status& StatusOf(const absl::Status& s) { return s; }
  template <typename T>
  static const absl::Status& StatusOf(const absl::StatusOr<T>& s) {
    return s.status();
  }

  // Waits for a free slot; reuses an idle connection (when `allow_idle`,
  // setting *reused) or opens a new one.
  absl::StatusOr<std::unique_ptr<pqxx::connection>> Take(
      absl::string_view operation, bool allow_idle, bool* reused);
  // Returns a slot; `connection` is kept for reuse unless null or closed.
  // `drop_idle` closes every idle connection too (after a failure that
  // suggests the server went away, they are all suspect).
  void Give(std::unique_ptr<pqxx::connection> connection, bool drop_idle);

  // Opens a connection with the options above applied.
  std::unique_ptr<pqxx::connection> Connect();
  // Starts watching `connection` for answer_timeout; returns the watch's
  // id (0: none). Unwatch() ends the watch and tells whether it fired
  // (the socket was shut down).
  int64_t Watch(pqxx::connection& connection);
  bool Unwatch(int64_t watch);
  // The status of a call whose watch fired.
  absl::Status SilentConnection(absl::string_view operation) const;

  const Options options_;
  // options_.url, with connect_timeout added when statement_timeout is set.
  const std::string url_;
  absl::Mutex mu_;
  int free_slots_ ABSL_GUARDED_BY(mu_);
  std::vector<std::unique_ptr<pqxx::connection>> idle_ ABSL_GUARDED_BY(mu_);
  // Null when answer_timeout is not positive.
  const std::unique_ptr<SocketWatchdog> watchdog_;
};

// `url` (a libpq URI or key=value connection string) with
// connect_timeout set to `timeout` in whole seconds (at least 2, libpq's
// minimum), unless it sets connect_timeout itself.
std::string WithConnectTimeout(absl::string_view url, absl::Duration timeout);

// `url` with TCP keepalives on (probes after `idle` without traffic, then
// every `idle` / 2, 3 unanswered probes close the connection), unless it
// sets any keepalive parameter itself. For connections that wait for the
// server without sending (LISTEN): a server that vanished without a FIN
// would otherwise go unnoticed.
std::string WithKeepalives(absl::string_view url, absl::Duration idle);

// `url` naming its connections `name` in pg_stat_activity, unless it sets
// application_name itself. `name` must be a plain word (no spaces or
// quotes).
std::string WithFallbackApplicationName(absl::string_view url,
                                        absl::string_view name);

}  // namespace inventory

#endif  // INVENTORY_COMMON_EVENTSTORE_POSTGRES_POSTGRES_CONNECTION_POOL_H_
