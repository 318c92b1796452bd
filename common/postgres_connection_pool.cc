#include "common/postgres_connection_pool.h"

#include <algorithm>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace inventory {

std::string WithConnectTimeout(absl::string_view url, absl::Duration timeout) {
  if (absl::StrContains(url, "connect_timeout")) return std::string(url);
  const int64_t seconds = std::max<int64_t>(
      2, absl::ToInt64Seconds(absl::Ceil(timeout, absl::Seconds(1))));
  if (absl::StartsWith(url, "postgresql://") ||
      absl::StartsWith(url, "postgres://")) {
    return absl::StrCat(url, absl::StrContains(url, "?") ? "&" : "?",
                        "connect_timeout=", seconds);
  }
  return absl::StrCat(url, url.empty() ? "" : " ", "connect_timeout=", seconds);
}

PostgresConnectionPool::PostgresConnectionPool(Options options)
    : options_(std::move(options)),
      url_(options_.statement_timeout > absl::ZeroDuration()
               ? WithConnectTimeout(options_.url, options_.statement_timeout)
               : options_.url),
      free_slots_(options_.size) {}

std::unique_ptr<pqxx::connection> PostgresConnectionPool::Connect() const {
  auto connection = std::make_unique<pqxx::connection>(url_);
  if (options_.statement_timeout > absl::ZeroDuration()) {
    const int64_t ms = std::max<int64_t>(
        1, absl::ToInt64Milliseconds(options_.statement_timeout));
    pqxx::nontransaction tx(*connection);
    tx.exec0(absl::StrCat("SET statement_timeout = ", ms));
  }
  if (options_.on_connect) options_.on_connect(*connection);
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
      return absl::UnavailableError(absl::StrCat(
          operation, ": no database connection free (pool exhausted)"));
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
