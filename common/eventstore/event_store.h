// The event store: the append-only log that is the system's single source
// of truth.
//
// Events are grouped in streams (one per aggregate, e.g. "item-42"). Inside
// a stream every event has a version 1, 2, 3, ... without gaps; across the
// store every event has a global position that strictly increases in commit
// order. Readers of ReadAll() never see a position after a position that is
// not yet committed, so a reader that remembers its last position never
// skips an event.
//
// Two implementations honour this contract and are tested by one suite
// (event_store_contract_test.h): InMemoryEventStore and PostgresEventStore.
#ifndef INVENTORY_COMMON_EVENTSTORE_EVENT_STORE_H_
#define INVENTORY_COMMON_EVENTSTORE_EVENT_STORE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace inventory {

// Where an event came from (see inventory.v1.EventMetadata).
struct EventMetadata {
  std::string request_id;
  std::string correlation_id;
  std::string causation_id;

  friend bool operator==(const EventMetadata& a, const EventMetadata& b) {
    return a.request_id == b.request_id &&
           a.correlation_id == b.correlation_id &&
           a.causation_id == b.causation_id;
  }
};

// An event to append: its stable type name and its payload as JSON (the
// stored form produced by event_codec.h).
struct EventData {
  std::string event_type;  // e.g. "inventory.v1.ItemCreated"
  std::string payload_json;
  EventMetadata metadata;
};

// An event as recorded by the store.
struct RecordedEvent {
  int64_t global_position = 0;
  std::string stream_id;
  int64_t stream_version = 0;
  std::string event_id;  // UUID assigned by the store
  std::string event_type;
  std::string payload_json;
  EventMetadata metadata;
  absl::Time recorded_at;
};

// The condition an append places on the stream's current version (the
// version of its last event; 0 when the stream has no events).
class ExpectedVersion {
 public:
  // Append whatever the current version is.
  static ExpectedVersion Any() { return ExpectedVersion(kAny); }
  // Append only if the stream has no events yet.
  static ExpectedVersion NoStream() { return ExpectedVersion(0); }
  // Append only if the current version is `version` (0 means NoStream()).
  static ExpectedVersion Exact(int64_t version) {
    return ExpectedVersion(version);
  }

  bool is_any() const { return value_ == kAny; }
  // The required version; meaningless when is_any().
  int64_t value() const { return value_; }
  // True when a stream at `current_version` satisfies the condition.
  bool Matches(int64_t current_version) const {
    return is_any() || value_ == current_version;
  }
  // "any", "no stream" or the version number, for messages.
  std::string ToString() const;

 private:
  static constexpr int64_t kAny = -1;
  explicit ExpectedVersion(int64_t value) : value_(value) {}
  int64_t value_;
};

// One atomic append to one stream.
struct AppendRequest {
  std::string stream_id;
  ExpectedVersion expected_version = ExpectedVersion::Any();
  std::vector<EventData> events;  // at least one
  // Idempotency key; empty for none. When the store has already recorded an
  // append with this key, it does not append again (see Append()).
  std::string request_id;
  // What the request stands for, compared when request_id repeats. Callers
  // that retry a command put a canonical encoding of the command here; when
  // empty, the store derives one from stream_id and the events' types and
  // payloads.
  std::string request_fingerprint;
};

// The outcome of a successful append.
struct AppendResult {
  int64_t stream_version = 0;   // version of the last appended event
  int64_t global_position = 0;  // global position of the last appended event
  bool replayed = false;  // true: request_id repeated, nothing was appended
  // true: this call's events were committed by an earlier attempt of the
  // same call whose answer was lost (PostgresEventStore); the version and
  // position are those of that commit. Not a replay: the caller's command
  // was applied once, by this call.
  bool recovered = false;

  friend bool operator==(const AppendResult& a, const AppendResult& b) {
    return a.stream_version == b.stream_version &&
           a.global_position == b.global_position && a.replayed == b.replayed &&
           a.recovered == b.recovered;
  }
};

// What the store remembers of an append that carried a request_id.
struct RecordedRequest {
  std::string stream_id;
  std::string fingerprint;
  AppendResult result;  // as first returned (replayed == false)
};

// Thread-safe: every method may be called from many threads at once.
class EventStore {
 public:
  virtual ~EventStore() = default;

  // Appends `request.events` to the stream atomically: all or none.
  //
  // OK: the events are durable and visible to readers; returns the version
  //   and global position of the last one.
  // OK with replayed == true: request_id was used before with the same
  //   fingerprint; nothing was appended, the original result is returned.
  // ALREADY_EXISTS: request_id was used before with another fingerprint.
  // ABORTED: the stream's version does not match expected_version; nothing
  //   was appended; the message states the current version.
  // INVALID_ARGUMENT: empty stream_id, no events, or an event without type.
  // UNAVAILABLE: the storage cannot be reached. With reason
  //   DATABASE_UNAVAILABLE (error_reason.h) nothing was appended; with
  //   OUTCOME_UNKNOWN the append may have been applied. Either way it may
  //   be retried with the same request_id.
  // A store whose answer from its storage can be lost never applies an
  // append twice because of it, and never refuses one it applied.
  virtual absl::StatusOr<AppendResult> Append(const AppendRequest& request) = 0;

  // Returns up to `max_count` events of the stream, starting at version
  // `from_version` (>= 1), in version order. A stream without events (or one
  // that does not exist) gives an empty vector, not an error.
  virtual absl::StatusOr<std::vector<RecordedEvent>> ReadStream(
      absl::string_view stream_id, int64_t from_version, int64_t max_count) = 0;

  // Returns up to `max_count` (>= 1) events whose global position is greater
  // than `after_position` (>= 0), in global order. Never returns an event
  // while an earlier position may still commit: repeated calls from the last
  // returned position see every event exactly once.
  virtual absl::StatusOr<std::vector<RecordedEvent>> ReadAll(
      int64_t after_position, int64_t max_count) = 0;

  // The global position of the last event a ReadAll() would return now
  // (0 when the store is empty).
  virtual absl::StatusOr<int64_t> HeadPosition() = 0;

  // Blocks until an event after `after_position` is readable or `deadline`
  // passes. Returns true in the first case, false in the second. Appends by
  // other processes wake the waiter too where the store is shared.
  // After StopWaiting(): UNAVAILABLE at once.
  virtual absl::StatusOr<bool> WaitForEventsAfter(int64_t after_position,
                                                  absl::Time deadline) = 0;

  // Ends every current and later WaitForEventsAfter() call at once with
  // UNAVAILABLE, for shutdown. Other calls keep working.
  virtual void StopWaiting() = 0;

  // The append recorded under `request_id`, or nullopt when there is none.
  virtual absl::StatusOr<std::optional<RecordedRequest>> FindRequest(
      absl::string_view request_id) = 0;
};

// Checks the arguments every implementation checks the same way; returns
// INVALID_ARGUMENT naming the first problem.
absl::Status ValidateAppendRequest(const AppendRequest& request);
absl::Status ValidateReadStream(absl::string_view stream_id,
                                int64_t from_version, int64_t max_count);
absl::Status ValidateReadAll(int64_t after_position, int64_t max_count);

// The fingerprint the store records for `request`: request_fingerprint when
// set, otherwise an unambiguous encoding of the stream id and the events'
// types and payloads.
std::string StoredRequestFingerprint(const AppendRequest& request);

// The ABORTED status of a failed expected-version check.
absl::Status WrongExpectedVersion(absl::string_view stream_id,
                                  const ExpectedVersion& expected,
                                  int64_t current_version);

// The ALREADY_EXISTS status of a request_id reused for another request.
absl::Status RequestIdReused();

// The UNAVAILABLE status of WaitForEventsAfter() after StopWaiting().
absl::Status StoreStopping();

}  // namespace inventory

#endif  // INVENTORY_COMMON_EVENTSTORE_EVENT_STORE_H_
