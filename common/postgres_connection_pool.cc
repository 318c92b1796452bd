#include "common/postgres_connection_pool.h"

#include "absl/strings/str_cat.h"

namespace inventory {

PostgresConnectionPool::PostgresConnectionPool(Options options)
    : options_(std::move(options)), free_slots_(options_.size) {}

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
    auto fresh = std::make_unique<pqxx::connection>(options_.url);
    if (options_.on_connect) options_.on_connect(*fresh);
    return fresh;
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
