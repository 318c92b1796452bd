#include "common/api/event_codec.h"

#include <array>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/base/error_reason.h"
#include "common/base/status_macros.h"
#include "common/base/utf8.h"
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

// The fast path of ParsePayloadJson(): a flat JSON object whose values are
// strings without escapes or plain integers, the shape of every payload our
// codec and PostgreSQL's jsonb write. Returns false, having possibly set
// some fields, for anything else (escapes, nesting, unknown or repeated
// keys, numbers with fractions or leading zeros, ...), and the caller then
// uses protobuf's complete parser, which decides what is valid.
class FlatJsonReader {
 public:
  explicit FlatJsonReader(absl::string_view json) : rest_(json) {}

  bool ReadInto(google::protobuf::Message* message) {
    const google::protobuf::Descriptor* descriptor = message->GetDescriptor();
    const google::protobuf::Reflection* reflection = message->GetReflection();
    uint64_t seen = 0;
    if (!Consume('{')) return false;
    if (Consume('}')) return AtEnd();
    do {
      absl::string_view key;
      if (!String(&key) || !Consume(':')) return false;
      const google::protobuf::FieldDescriptor* field =
          FieldNamed(descriptor, key);
      if (field == nullptr || field->is_repeated() || field->index() >= 64 ||
          (seen & (uint64_t{1} << field->index())) != 0) {
        return false;
      }
      seen |= uint64_t{1} << field->index();
      absl::string_view text;
      switch (field->cpp_type()) {
        case google::protobuf::FieldDescriptor::CPPTYPE_STRING:
          if (!String(&text) || !DecodeUtf8(text).has_value()) return false;
          reflection->SetString(message, field, std::string(text));
          break;
        case google::protobuf::FieldDescriptor::CPPTYPE_INT64: {
          int64_t value = 0;
          SkipSpace();
          const bool quoted = !rest_.empty() && rest_.front() == '"';
          if (!(quoted ? String(&text) : Integer(&text)) ||
              !IsPlainInteger(text) || !absl::SimpleAtoi(text, &value)) {
            return false;
          }
          reflection->SetInt64(message, field, value);
          break;
        }
        default:
          return false;
      }
    } while (Consume(','));
    return Consume('}') && AtEnd();
  }

 private:
  // The field called `key` by its proto name or its JSON (camelCase) name;
  // a linear scan, as payload messages have a handful of fields.
  static const google::protobuf::FieldDescriptor* FieldNamed(
      const google::protobuf::Descriptor* descriptor, absl::string_view key) {
    for (int i = 0; i < descriptor->field_count(); ++i) {
      const google::protobuf::FieldDescriptor* field = descriptor->field(i);
      if (field->name() == key || field->json_name() == key) return field;
    }
    return nullptr;
  }

  void SkipSpace() {
    while (!rest_.empty() && (rest_.front() == ' ' || rest_.front() == '\n' ||
                              rest_.front() == '\t' || rest_.front() == '\r')) {
      rest_.remove_prefix(1);
    }
  }
  bool Consume(char c) {
    SkipSpace();
    if (rest_.empty() || rest_.front() != c) return false;
    rest_.remove_prefix(1);
    return true;
  }
  bool AtEnd() {
    SkipSpace();
    return rest_.empty();
  }
  // A string without escapes or control characters.
  bool String(absl::string_view* out) {
    if (!Consume('"')) return false;
    for (size_t i = 0; i < rest_.size(); ++i) {
      const unsigned char c = static_cast<unsigned char>(rest_[i]);
      if (c == '"') {
        *out = rest_.substr(0, i);
        rest_.remove_prefix(i + 1);
        return true;
      }
      if (c == '\\' || c < 0x20) return false;
    }
    return false;
  }
  bool Integer(absl::string_view* out) {
    SkipSpace();
    size_t n = 0;
    while (n < rest_.size() &&
           (absl::ascii_isdigit(static_cast<unsigned char>(rest_[n])) ||
            (n == 0 && rest_[n] == '-'))) {
      ++n;
    }
    *out = rest_.substr(0, n);
    rest_.remove_prefix(n);
    return n > 0;
  }
  // "0", "17", "-3": no sign but a leading minus, no leading zero, no "-0".
  static bool IsPlainInteger(absl::string_view text) {
    if (!text.empty() && text.front() == '-') text.remove_prefix(1);
    if (text.empty() || text.size() > 19) return false;
    for (char c : text) {
      if (!absl::ascii_isdigit(static_cast<unsigned char>(c))) return false;
    }
    return text.front() != '0' || text.size() == 1;
  }

  absl::string_view rest_;
};

}  // namespace

bool ParsePayloadJson(absl::string_view json,
                      google::protobuf::Message* payload) {
  if (FlatJsonReader(json).ReadInto(payload)) return true;
  payload->Clear();
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = false;
  return google::protobuf::util::JsonStringToMessage(
             google::protobuf::StringPiece(json.data(), json.size()), payload,
             options)
      .ok();
}

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

absl::Status NotDecodable(int64_t global_position, absl::string_view what) {
  return WithReason(
      absl::DataLossError(absl::StrCat("event at global position ",
                                       global_position, " ", what)),
      reason::kEventNotDecodable,
      {{"global_position", absl::StrCat(global_position)}});
}

absl::Status DecodeEventOrDataLoss(const RecordedEvent& recorded, Event* out) {
  Event& event = *out;
  event.Clear();
  const PayloadCase payload_case = PayloadCaseOf(recorded.event_type);
  google::protobuf::Message* payload = MutablePayload(&event, payload_case);
  if (payload == nullptr) {
    return NotDecodable(recorded.global_position, "has an unknown event type");
  }
  if (!ParsePayloadJson(recorded.payload_json, payload)) {
    return NotDecodable(recorded.global_position,
                        absl::StrCat("has a payload that is not a valid ",
                                     recorded.event_type));
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
  return absl::OkStatus();
}

absl::StatusOr<Event> DecodeEventOrDataLoss(const RecordedEvent& recorded) {
  Event event;
  INVENTORY_RETURN_IF_ERROR(DecodeEventOrDataLoss(recorded, &event));
  return event;
}

}  // namespace inventory
