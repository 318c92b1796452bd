#include "common/eventstore/postgres/postgres_connection_pool.h"

#include <algorithm>
#include <initializer_list>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/base/error_reason.h"
#include "common/base/log.h"

namespace inventory {

namespace {

int64_t WholeSeconds(absl::Duration d, int64_t at_least) {
  return std::max<int64_t>(
      at_least, absl::ToInt64Seconds(absl::Ceil(d, absl::Seconds(1))));
}

// `url` with `key=value` parameters added, in the URL's own syntax.
std::string WithParameters(
    absl::string_view url,
    std::initializer_list<std::pair<absl::string_view, std::string>>
        parameters) {
  const bool uri = absl::StartsWith(url, "postgresql://") ||
                   absl::StartsWith(url, "postgres://");
  std::string out(url);
  for (const auto& [key, value] : parameters) {
    if (uri) {
      absl::StrAppend(&out, absl::StrContains(out, "?") ? "&" : "?", key, "=",
                      value);
    } else {
      absl::StrAppend(&out, out.empty() ? "" : " ", key, "=", value);
    }
  }
  return out;
}

}  // namespace

std::string WithConnectTimeout(absl::string_view url, absl::Duration timeout) {
  if (absl::StrContains(url, "connect_timeout")) return std::string(url);
  return WithParameters(
      url, {{"connect_timeout", absl::StrCat(WholeSeconds(timeout, 2))}});
}

std::string WithKeepalives(absl::string_view url, absl::Duration idle) {
  if (absl::StrContains(url, "keepalives")) return std::string(url);
  const int64_t idle_seconds = WholeSeconds(idle, 1);
  return WithParameters(url,
                        {{"keepalives", "1"},
                         {"keepalives_idle", absl::StrCat(idle_seconds)},
                         {"keepalives_interval",
                          absl::StrCat(std::max<int64_t>(1, idle_seconds / 2))},
                         {"keepalives_count", "3"}});
}

std::string WithFallbackApplicationName(absl::string_view url,
                                        absl::string_view name) {
  return WithParameters(url,
                        {{"fallback_application_name", std::string(name)}});
}

PostgresConnectionPool::PostgresConnectionPool(Options options)
    : options_(std::move(options)),
      url_(options_.statement_timeout > absl::ZeroDuration()
               ? WithConnectTimeout(options_.url, options_.statement_timeout)
               : options_.url),
      free_slots_(options_.size),
      watchdog_(options_.answer_timeout > absl::ZeroDuration()
                    ? std::make_unique<SocketWatchdog>()
                    : nullptr) {}

PostgresConnectionPool::~PostgresConnectionPool() = default;

int64_t PostgresConnectionPool::Watch(pqxx::connection& connection) {
  if (watchdog_ == nullptr || connection.sock() < 0) return 0;
  return watchdog_->Watch(connection.sock(),
                          absl::Now() + options_.answer_timeout);
}

bool PostgresConnectionPool::Unwatch(int64_t watch) {
  if (watch == 0) return false;
  return watchdog_->Unwatch(watch);
}

absl::Status PostgresConnectionPool::SilentConnection(
    absl::string_view operation) const {
  LogWarning("postgres: ", operation, ": no answer from the server within ",
             absl::FormatDuration(options_.answer_timeout),
             "; closed the connection (half-open?)");
  return WithReason(
      absl::UnavailableError(absl::StrCat(operation, ": database unavailable")),
      reason::kDatabaseUnavailable);
}

std::unique_ptr<pqxx::connection> PostgresConnectionPool::Connect() {
  auto connection = std::make_unique<pqxx::connection>(url_);
  const int64_t watch = Watch(*connection);
  try {
    if (options_.statement_timeout > absl::ZeroDuration()) {
      const int64_t ms = std::max<int64_t>(
          1, absl::ToInt64Milliseconds(options_.statement_timeout));
      pqxx::nontransaction tx(*connection);
      tx.exec0(absl::StrCat("SET statement_timeout = ", ms));
    }
    if (options_.on_connect) options_.on_connect(*connection);
  } catch (...) {
    Unwatch(watch);
    throw;
  }
  if (Unwatch(watch)) {
    throw pqxx::broken_connection("no answer while opening the connection");
  }
  return connection;
}

absl::StatusOr<std::unique_ptr<pqxx::connection>> PostgresConnectionPool::Take(
    absl::string_view operation, bool allow_idle, bool* reused) {
  std::unique_ptr<pqxx::connection> connection;
  {
    absl::MutexLock lock(&mu_);
    auto has_free_slot = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return free_slots_ > 0;
    };
    if (!mu_.AwaitWithTimeout(absl::Condition(&has_free_slot),
                              options_.acquire_timeout)) {
      return WithReason(
          absl::UnavailableError(absl::StrCat(
              operation, ": no database connection free (pool exhausted)")),
          reason::kDatabaseUnavailable);
    }
    --free_slots_;
    if (allow_idle && !idle_.empty()) {
      connection = std::move(idle_.back());
      idle_.pop_back();
    }
  }
  *reused = connection != nullptr && connection->is_open();
  if (*reused) return connection;
  try {
    return Connect();
  } catch (...) {
    Give(nullptr, /*drop_idle=*/true);
    return TranslateCurrentException(operation);
  }
}

void PostgresConnectionPool::Give(std::unique_ptr<pqxx::connection> connection,
                                  bool drop_idle) {
  absl::MutexLock lock(&mu_);
  ++free_slots_;
  if (drop_idle) idle_.clear();
  if (connection != nullptr && connection->is_open()) {
    idle_.push_back(std::move(connection));
  }
}

}  // namespace inventory
