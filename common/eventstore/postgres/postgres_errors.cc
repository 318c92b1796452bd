#include "common/eventstore/postgres/postgres_errors.h"

#include <pqxx/pqxx>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/base/error_reason.h"
#include "common/base/log.h"

namespace inventory {
namespace {

absl::Status DatabaseUnavailable(absl::string_view operation) {
  return WithReason(
      absl::UnavailableError(absl::StrCat(operation, ": database unavailable")),
      reason::kDatabaseUnavailable);
}

absl::Status FromSqlState(const std::string& state, absl::string_view operation,
                          const char* what) {
  // Class 08: connection exception; 57P01-57P03: server shutting down or
  // starting; 53300: too many connections.
  if (absl::StartsWith(state, "08") || absl::StartsWith(state, "57P") ||
      state == "53300") {
    LogWarning("postgres: ", operation, ": unavailable (", state, "): ", what);
    return DatabaseUnavailable(operation);
  }
  if (state == "23505" || state == "40001" || state == "40P01") {
    return absl::AbortedError(
        absl::StrCat(operation, ": conflicting concurrent write"));
  }
  // Class 22: a value the database refuses (e.g. text jsonb cannot hold).
  if (absl::StartsWith(state, "22")) {
    // The database's message may quote the value a client sent.
    LogWarning("postgres: ", operation, ": value refused (", state,
               "): ", EscapeForLog(what));
    return WithReason(absl::InvalidArgumentError(absl::StrCat(
                          operation, ": a value was refused by the database")),
                      reason::kValueRefused);
  }
  if (state == "57014") {
    return WithReason(absl::DeadlineExceededError(absl::StrCat(
                          operation, ": database statement timed out")),
                      reason::kDatabaseTimeout);
  }
  LogError("postgres: ", operation, ": error (", state, "): ", what);
  return absl::InternalError(absl::StrCat(operation, ": database error"));
}

}  // namespace

absl::Status TranslateCurrentException(absl::string_view operation) {
  try {
    throw;
  } catch (const pqxx::in_doubt_error& e) {
    LogWarning("postgres: ", operation, ": commit outcome unknown: ", e.what());
    return WithReason(
        absl::UnavailableError(absl::StrCat(
            operation,
            ": database connection lost during commit; the outcome is "
            "unknown; a retry with the same request_id is safe")),
        reason::kOutcomeUnknown);
  } catch (const pqxx::broken_connection& e) {
    LogWarning("postgres: ", operation, ": connection: ", e.what());
    return DatabaseUnavailable(operation);
  } catch (const pqxx::sql_error& e) {
    return FromSqlState(e.sqlstate(), operation, e.what());
  } catch (const std::exception& e) {
    // libpq reports some connection losses as plain failures.
    if (absl::StrContains(e.what(), "connection") ||
        absl::StrContains(e.what(), "server closed")) {
      LogWarning("postgres: ", operation, ": ", e.what());
      return DatabaseUnavailable(operation);
    }
    LogError("postgres: ", operation, ": ", e.what());
    return absl::InternalError(absl::StrCat(operation, ": database error"));
  }
}

bool ConnectionLikelyBroken(const absl::Status& status) {
  return status.code() == absl::StatusCode::kUnavailable ||
         status.code() == absl::StatusCode::kInternal;
}

}  // namespace inventory
