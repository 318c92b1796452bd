#include "common/event_codec.h"

#include <array>
#include <utility>

#include "absl/strings/str_cat.h"
#include "google/protobuf/util/json_util.h"

namespace inventory {
namespace {

using inventory::v1::Event;
using PayloadCase = inventory::v1::Event::PayloadCase;

// The one table of stored type names. Append only: a name, once used, is
// never changed or reused.
constexpr std::array<std::pair<PayloadCase, absl::string_view>, 6> kTypeNames =
    {{
        {Event::kItemCreated, "inventory.v1.ItemCreated"},
        {Event::kItemRenamed, "inventory.v1.ItemRenamed"},
        {Event::kItemsCheckedIn, "inventory.v1.ItemsCheckedIn"},
        {Event::kItemsRemoved, "inventory.v1.ItemsRemoved"},
        {Event::kItemDeactivated, "inventory.v1.ItemDeactivated"},
        {Event::kItemReactivated, "inventory.v1.ItemReactivated"},
    }};

PayloadCase PayloadCaseOf(absl::string_view event_type) {
  for (const auto& [payload_case, name] : kTypeNames) {
    if (name == event_type) return payload_case;
  }
  return Event::PAYLOAD_NOT_SET;
}

// The payload message of `event` for its (set) payload case, mutable so a
// parser can fill it.
google::protobuf::Message* MutablePayload(Event* event, PayloadCase c) {
  const google::protobuf::FieldDescriptor* field =
      Event::descriptor()->FindFieldByNumber(static_cast<int>(c));
  if (field == nullptr) return nullptr;
  return event->GetReflection()->MutableMessage(event, field);
}

const google::protobuf::Message* Payload(const Event& event) {
  const google::protobuf::FieldDescriptor* field =
      Event::descriptor()->FindFieldByNumber(
          static_cast<int>(event.payload_case()));
  if (field == nullptr) return nullptr;
  return &event.GetReflection()->GetMessage(event, field);
}

}  // namespace

absl::string_view EventTypeName(PayloadCase payload_case) {
  for (const auto& [c, name] : kTypeNames) {
    if (c == payload_case) return name;
  }
  return {};
}

bool IsKnownEventType(absl::string_view event_type) {
  return PayloadCaseOf(event_type) != Event::PAYLOAD_NOT_SET;
}

absl::StatusOr<EventData> ToEventData(const Event& event) {
  const google::protobuf::Message* payload = Payload(event);
  if (payload == nullptr) {
    return absl::InvalidArgumentError("event has no payload");
  }
  EventData data;
  data.event_type = std::string(EventTypeName(event.payload_case()));
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  const auto status = google::protobuf::util::MessageToJsonString(
      *payload, &data.payload_json, options);
  if (!status.ok()) {
    return absl::InternalError(
        absl::StrCat("cannot encode ", data.event_type, " as JSON"));
  }
  data.metadata.request_id = event.metadata().request_id();
  data.metadata.correlation_id = event.metadata().correlation_id();
  data.metadata.causation_id = event.metadata().causation_id();
  return data;
}

absl::StatusOr<Event> ToProtoEvent(const RecordedEvent& recorded) {
  const PayloadCase payload_case = PayloadCaseOf(recorded.event_type);
  Event event;
  google::protobuf::Message* payload = MutablePayload(&event, payload_case);
  if (payload == nullptr) {
    return absl::DataLossError(absl::StrCat("event at global position ",
                                            recorded.global_position,
                                            " has an unknown event type"));
  }
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = false;
  if (!google::protobuf::util::JsonStringToMessage(recorded.payload_json,
                                                   payload, options)
           .ok()) {
    return absl::DataLossError(absl::StrCat(
        "event at global position ", recorded.global_position,
        " has a payload that is not a valid ", recorded.event_type));
  }
  event.set_global_position(recorded.global_position);
  event.set_stream_id(recorded.stream_id);
  event.set_stream_version(recorded.stream_version);
  event.set_event_id(recorded.event_id);
  event.set_event_type(recorded.event_type);
  // Seconds and nanoseconds apart: one int64 of nanoseconds would overflow
  // after the year 2262.
  const int64_t seconds = absl::ToUnixSeconds(recorded.recorded_at);
  event.mutable_recorded_at()->set_seconds(seconds);
  event.mutable_recorded_at()->set_nanos(
      static_cast<int32_t>(absl::ToInt64Nanoseconds(
          recorded.recorded_at - absl::FromUnixSeconds(seconds))));
  event.mutable_metadata()->set_request_id(recorded.metadata.request_id);
  event.mutable_metadata()->set_correlation_id(
      recorded.metadata.correlation_id);
  event.mutable_metadata()->set_causation_id(recorded.metadata.causation_id);
  return event;
}

}  // namespace inventory
