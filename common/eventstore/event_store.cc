#include "common/eventstore/event_store.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/base/error_reason.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"

namespace inventory {
namespace {

// Text columns of PostgreSQL (and C APIs) cannot hold a NUL byte.
bool HasNul(absl::string_view text) {
  return absl::StrContains(text, absl::string_view("\0", 1));
}

bool IsJsonObject(const std::string& json) {
  google::protobuf::Struct object;
  return google::protobuf::util::JsonStringToMessage(json, &object).ok();
}

}  // namespace

std::string ExpectedVersion::ToString() const {
  if (is_any()) return "any";
  if (value_ == 0) return "no stream";
  return absl::StrCat(value_);
}

absl::Status ValidateAppendRequest(const AppendRequest& request) {
  if (request.stream_id.empty() || HasNul(request.stream_id)) {
    return absl::InvalidArgumentError(
        "stream_id must be non-empty text without NUL bytes");
  }
  if (HasNul(request.request_id)) {
    return absl::InvalidArgumentError("request_id must not contain NUL bytes");
  }
  if (!request.expected_version.is_any() &&
      request.expected_version.value() < 0) {
    return absl::InvalidArgumentError("expected version must not be negative");
  }
  if (request.events.empty()) {
    return absl::InvalidArgumentError("an append needs at least one event");
  }
  for (const EventData& event : request.events) {
    if (event.event_type.empty() || HasNul(event.event_type)) {
      return absl::InvalidArgumentError(
          "every event needs an event_type without NUL bytes");
    }
    if (!IsJsonObject(event.payload_json)) {
      return absl::InvalidArgumentError("event payload must be a JSON object");
    }
    const EventMetadata& m = event.metadata;
    if (HasNul(m.request_id) || HasNul(m.correlation_id) ||
        HasNul(m.causation_id)) {
      return absl::InvalidArgumentError(
          "event metadata must not contain NUL bytes");
    }
  }
  return absl::OkStatus();
}

absl::Status ValidateReadStream(absl::string_view stream_id,
                                int64_t from_version, int64_t max_count) {
  if (stream_id.empty() || HasNul(stream_id)) {
    return absl::InvalidArgumentError(
        "stream_id must be non-empty text without NUL bytes");
  }
  if (from_version < 1) {
    return absl::InvalidArgumentError("from_version must be at least 1");
  }
  if (max_count < 1) {
    return absl::InvalidArgumentError("max_count must be at least 1");
  }
  return absl::OkStatus();
}

absl::Status ValidateReadAll(int64_t after_position, int64_t max_count) {
  if (after_position < 0) {
    return absl::InvalidArgumentError("after_position must not be negative");
  }
  if (max_count < 1) {
    return absl::InvalidArgumentError("max_count must be at least 1");
  }
  return absl::OkStatus();
}

std::string StoredRequestFingerprint(const AppendRequest& request) {
  if (!request.request_fingerprint.empty()) return request.request_fingerprint;
  // Length-prefixed parts, so that no two different requests encode alike.
  std::string out;
  auto add = [&out](absl::string_view part) {
    absl::StrAppend(&out, part.size(), ":", part, ";");
  };
  add(request.stream_id);
  for (const EventData& event : request.events) {
    add(event.event_type);
    add(event.payload_json);
  }
  return out;
}

absl::Status WrongExpectedVersion(absl::string_view stream_id,
                                  const ExpectedVersion& expected,
                                  int64_t current_version) {
  // "no stream" is version 0 in the metadata: a number either way.
  return WithReason(absl::AbortedError(absl::StrCat(
                        "stream ", stream_id, " is at version ",
                        current_version, ", expected ", expected.ToString())),
                    reason::kVersionConflict,
                    {{"expected_version", absl::StrCat(expected.value())},
                     {"actual_version", absl::StrCat(current_version)}});
}

absl::Status StoreStopping() {
  return WithReason(absl::UnavailableError("the event store is shutting down"),
                    reason::kShuttingDown);
}

absl::Status RequestIdReused() {
  // The id itself is not echoed: it is user input of any content.
  return WithReason(absl::AlreadyExistsError(
                        "request_id was already used for a different request"),
                    reason::kRequestIdReused);
}

}  // namespace inventory
