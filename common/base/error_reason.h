// Machine-readable reasons for refusals.
//
// Every refusal of both services carries a google.rpc.ErrorInfo in its
// status details (domain "inventory.v1", one reason per distinct refusal,
// metadata such as a version conflict's two versions), so a client program
// branches on the reason instead of parsing the message. The code that
// refuses attaches the reason to its absl::Status with WithReason(); the
// gRPC layer (grpc_status.h) turns it into ErrorInfo. Like
// field_violation.h, this needs no protobuf type.
#ifndef INVENTORY_COMMON_BASE_ERROR_REASON_H_
#define INVENTORY_COMMON_BASE_ERROR_REASON_H_

#include <map>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace inventory {

// The ErrorInfo domain of every reason below.
inline constexpr absl::string_view kErrorDomain = "inventory.v1";

// The reasons, as listed in proto/inventory/v1/command_service.proto (the
// query-service's own in query_service.proto) and in docs/errors.md.
namespace reason {
inline constexpr absl::string_view kInvalidField = "INVALID_FIELD";
inline constexpr absl::string_view kItemNotFound = "ITEM_NOT_FOUND";
inline constexpr absl::string_view kItemAlreadyExists = "ITEM_ALREADY_EXISTS";
inline constexpr absl::string_view kRequestIdReused = "REQUEST_ID_REUSED";
// Metadata: expected_version, actual_version.
inline constexpr absl::string_view kVersionConflict = "VERSION_CONFLICT";
// The command met other writers' changes to its item on every attempt and
// gave up (no expected_version was given, so deciding again is safe).
// Metadata: attempts.
inline constexpr absl::string_view kConcurrentModification =
    "CONCURRENT_MODIFICATION";
inline constexpr absl::string_view kInsufficientStock = "INSUFFICIENT_STOCK";
inline constexpr absl::string_view kItemInactive = "ITEM_INACTIVE";
inline constexpr absl::string_view kItemAlreadyActive = "ITEM_ALREADY_ACTIVE";
inline constexpr absl::string_view kSameName = "SAME_NAME";
inline constexpr absl::string_view kQuantityOverflow = "QUANTITY_OVERFLOW";
// The command may or may not have been applied; a retry with the same
// request_id is safe.
inline constexpr absl::string_view kOutcomeUnknown = "OUTCOME_UNKNOWN";
// The database could not be reached; nothing was applied.
inline constexpr absl::string_view kDatabaseUnavailable =
    "DATABASE_UNAVAILABLE";
// Metadata: requested_position, head_position.
inline constexpr absl::string_view kLogPositionOutOfRange =
    "LOG_POSITION_OUT_OF_RANGE";
// The query-service's own refusals (a malformed page token is
// INVALID_FIELD, naming page_token).
// The item exists but has no such version. Metadata: requested_version,
// latest_version.
inline constexpr absl::string_view kItemVersionNotFound =
    "ITEM_VERSION_NOT_FOUND";
// The read model did not reach min_position: DEADLINE_EXCEEDED within the
// call's deadline (or the service's longest wait), UNAVAILABLE when it is
// stopped below it at an event it cannot project. Metadata: min_position,
// position.
inline constexpr absl::string_view kMinPositionNotReached =
    "MIN_POSITION_NOT_REACHED";
// Limits on calls held open at once; retry later.
inline constexpr absl::string_view kTooManyWaitingQueries =
    "TOO_MANY_WAITING_QUERIES";
inline constexpr absl::string_view kTooManyWatchers = "TOO_MANY_WATCHERS";
inline constexpr absl::string_view kTooManySubscribers = "TOO_MANY_SUBSCRIBERS";
// Health Watch or server reflection streams (metadata `limit`, and
// `per_client` when one client holds its share).
inline constexpr absl::string_view kTooManyStreams = "TOO_MANY_STREAMS";
// Subscribe's after_event_id is not the event at after_position: the log
// was replaced by another one (a restore or failover that lost events and
// then recorded new ones past the old head). OUT_OF_RANGE; metadata
// position, expected_event_id, actual_event_id ("" when none).
inline constexpr absl::string_view kLogDiverged = "LOG_DIVERGED";
// A statement ran longer than the service's database timeout
// (DEADLINE_EXCEEDED); it was rolled back, nothing was applied.
inline constexpr absl::string_view kDatabaseTimeout = "DATABASE_TIMEOUT";
// A stored event this build cannot decode (DATA_LOSS): an event type added
// by a newer release, or a payload that does not parse. Metadata
// global_position.
inline constexpr absl::string_view kEventNotDecodable = "EVENT_NOT_DECODABLE";
// A value the database refused (INVALID_ARGUMENT), found only when it was
// written; nothing was applied.
inline constexpr absl::string_view kValueRefused = "VALUE_REFUSED";
// A stream ended because the server is shutting down; reconnect.
inline constexpr absl::string_view kShuttingDown = "SHUTTING_DOWN";
// A WatchItem stream ended because the read model started again from
// position 0 (the log it described was replaced); watch again.
inline constexpr absl::string_view kReadModelRebuilt = "READ_MODEL_REBUILT";
}  // namespace reason

// What WithReason() attached.
struct ErrorReason {
  std::string reason;
  std::map<std::string, std::string> metadata;

  friend bool operator==(const ErrorReason& a, const ErrorReason& b) {
    return a.reason == b.reason && a.metadata == b.metadata;
  }
  friend bool operator!=(const ErrorReason& a, const ErrorReason& b) {
    return !(a == b);
  }
};

// `status` (not OK) with `reason` and `metadata` attached, replacing any
// reason it had. Code, message and other payloads are kept.
absl::Status WithReason(
    absl::Status status, absl::string_view reason,
    const std::map<std::string, std::string>& metadata = {});

// The reason attached by WithReason(); for an InvalidField() status
// without one, INVALID_FIELD. nullopt for OK and for statuses without a
// reason.
std::optional<ErrorReason> ErrorReasonOf(const absl::Status& status);

// One line for a log: "CODE: message", then the reason and its metadata if
// any, e.g. "ABORTED: item is at version 3, expected 2 (VERSION_CONFLICT
// actual_version=3 expected_version=2)". Unlike absl::Status::ToString(),
// without the raw payloads; escaped and bounded as EscapeForLog() does
// (log.h), since a message may quote what a client sent.
std::string StatusForLog(const absl::Status& status);

}  // namespace inventory

#endif  // INVENTORY_COMMON_BASE_ERROR_REASON_H_
