// Translation of libpqxx exceptions into absl::Status. Internal to the
// PostgreSQL adapter: no other layer sees a pqxx type.
#ifndef INVENTORY_COMMON_EVENTSTORE_POSTGRES_POSTGRES_ERRORS_H_
#define INVENTORY_COMMON_EVENTSTORE_POSTGRES_POSTGRES_ERRORS_H_

#include <exception>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace inventory {

// Maps the exception in flight (call from a catch block) to a status:
//   lost or refused connection, server shutting down -> UNAVAILABLE,
//                                                       DATABASE_UNAVAILABLE;
//   commit outcome unknown                           -> UNAVAILABLE,
//                                                       OUTCOME_UNKNOWN (retry
//                                                       with the same
//                                                       request_id);
//   unique violation, serialization failure,
//   deadlock                                         -> ABORTED;
//   data exception (class 22, e.g. bad jsonb text)   -> INVALID_ARGUMENT;
//   query canceled (statement timeout)              -> DEADLINE_EXCEEDED;
//   anything else                                    -> INTERNAL.
// The message says what failed in `operation` (e.g. "append") but never
// quotes SQL or server text; the details are logged instead. Reasons are
// those of error_reason.h. A lost connection is DATABASE_UNAVAILABLE here:
// the caller that sent a write knows better (postgres_event_store.h).
absl::Status TranslateCurrentException(absl::string_view operation);

// True for statuses after which a pooled connection must not be reused.
bool ConnectionLikelyBroken(const absl::Status& status);

}  // namespace inventory

#endif  // INVENTORY_COMMON_EVENTSTORE_POSTGRES_POSTGRES_ERRORS_H_
