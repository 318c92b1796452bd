// Converts events between their wire form (inventory.v1.Event, protobuf)
// and their stored form (a stable type name plus a JSON payload).
//
// The type name of each payload is fixed here, once, and never derived from
// a C++ or protobuf type name, so renaming code never renames stored
// events. The JSON uses proto field names (snake_case), so it reads
// naturally with psql.
#ifndef INVENTORY_COMMON_API_EVENT_CODEC_H_
#define INVENTORY_COMMON_API_EVENT_CODEC_H_

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/eventstore/event_store.h"
#include "inventory/v1/events.pb.h"

namespace inventory {

// The stored type name of a payload case, e.g. "inventory.v1.ItemCreated";
// empty for PAYLOAD_NOT_SET.
absl::string_view EventTypeName(inventory::v1::Event::PayloadCase payload_case);

// True when `event_type` is one of the names EventTypeName() returns.
bool IsKnownEventType(absl::string_view event_type);

// The stored form of the payload and metadata of `event` (its positions,
// ids and time are assigned by the store and ignored here).
// INVALID_ARGUMENT when no payload is set.
absl::StatusOr<EventData> ToEventData(const inventory::v1::Event& event);

// The wire form of a recorded event. DATA_LOSS when the type is unknown or
// the payload is not valid JSON for that type; the message names the event
// but never quotes its payload.
absl::StatusOr<inventory::v1::Event> DecodeEventOrDataLoss(
    const RecordedEvent& event);
// The same, written into `*out` (cleared first), so a caller can reuse one
// message and its buffers for many events.
absl::Status DecodeEventOrDataLoss(const RecordedEvent& event,
                                   inventory::v1::Event* out);

// DATA_LOSS, reason EVENT_NOT_DECODABLE: the stored event at
// `global_position` `what` (e.g. "has an unknown event type").
absl::Status NotDecodable(int64_t global_position, absl::string_view what);

// Parses a stored JSON payload into `payload` (proto field names or their
// camelCase JSON names; int64 as number or string). Returns false when it
// is not valid JSON for that message. Flat objects of plain strings and
// integers, the form our codec and PostgreSQL write, take a fast path;
// anything else goes through protobuf's JSON parser, with the same result.
bool ParsePayloadJson(absl::string_view json,
                      google::protobuf::Message* payload);

}  // namespace inventory

#endif  // INVENTORY_COMMON_API_EVENT_CODEC_H_
