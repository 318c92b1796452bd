// Fuzzes the event codecs: the stored form (type name + JSON payload,
// common/api/event_codec.h) and the domain's events (item_event_codec.h).
//
// The first input byte picks a mode, the second a payload type, each read
// as (byte - '0') modulo n, so that the digits of the seed files mean what
// they say: mode 0 to 3 (below), type 0 ItemCreated, 1 ItemRenamed,
// 2 ItemsCheckedIn, 3 ItemsRemoved, 4 ItemDeactivated, 5 ItemReactivated.
// The rest is the body:
//   0  the body is a JSON payload of that type. ParsePayloadJson (with its
//      fast path for flat objects) accepts it exactly when protobuf's JSON
//      parser does, with an equal message; DecodeEventOrDataLoss agrees (OK or
//      DATA_LOSS, never quoting the payload); what it decodes encodes and
//      decodes again to the same payload.
//   1  the body is a binary inventory.v1.Event (its unknown fields, which
//      the JSON form cannot hold, dropped first). ToEventData is OK exactly
//      when a payload is set (else INVALID_ARGUMENT), and the stored form
//      decodes to the same payload, metadata and envelope; the domain event
//      of the payload converts back to the same payload.
//   2  the body describes a stored event (FuzzedDataProvider: type name,
//      JSON, position, time). DecodeEventOrDataLoss is OK or DATA_LOSS; an
//      unknown type is DATA_LOSS; the time keeps every microsecond, with nanos
//      in [0, 1e9); an OK event survives another encode and decode.
//   3  the body describes a domain event (FuzzedDataProvider). Its stored
//      form decodes to the same event; encoding fails only for text that
//      is not valid UTF-8 (which validated commands never produce).
#include <fuzzer/FuzzedDataProvider.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/string_view.h"
#include "command-service/application/item_event_codec.h"
#include "common/api/event_codec.h"
#include "common/base/utf8.h"
#include "fuzz/fuzz_check.h"
#include "google/protobuf/stubs/logging.h"
#include "google/protobuf/util/json_util.h"
#include "google/protobuf/util/message_differencer.h"

namespace inventory {
namespace {

using google::protobuf::Message;
using google::protobuf::util::MessageDifferencer;
using inventory::v1::Event;

constexpr int kFirstPayloadField = Event::kItemCreatedFieldNumber;
constexpr int kPayloadTypes = 6;

const google::protobuf::FieldDescriptor* PayloadField(int type) {
  return Event::descriptor()->FindFieldByNumber(kFirstPayloadField + type);
}

const Message* PayloadOf(const Event& event) {
  if (event.payload_case() == Event::PAYLOAD_NOT_SET) return nullptr;
  return &event.GetReflection()->GetMessage(
      event, Event::descriptor()->FindFieldByNumber(
                 static_cast<int>(event.payload_case())));
}

std::string Quote(absl::string_view text) {
  return absl::StrCat("\"", absl::CHexEscape(text), "\"");
}

// Encodes a decoded event again and decodes that: the payload must not
// change (the canonical form is stable).
void CheckReencodes(const Event& event) {
  absl::StatusOr<EventData> data = ToEventData(event);
  FUZZ_CHECK(data.ok(),
             "cannot encode a decoded event: ", data.status().ToString(), " ",
             event.ShortDebugString());
  FUZZ_CHECK(data->event_type == event.event_type(), "type name changed");
  RecordedEvent again;
  again.event_type = data->event_type;
  again.payload_json = data->payload_json;
  absl::StatusOr<Event> decoded = DecodeEventOrDataLoss(again);
  FUZZ_CHECK(decoded.ok(), "cannot decode our own encoding ",
             Quote(data->payload_json), ": ", decoded.status().ToString());
  FUZZ_CHECK(
      MessageDifferencer::Equals(*PayloadOf(event), *PayloadOf(*decoded)),
      "payload changed by encode and decode: ", Quote(data->payload_json));
}

// Mode 0: the JSON parsers agree.
void JsonPayload(int type, absl::string_view json) {
  Event holder;
  Message* ours =
      holder.GetReflection()->MutableMessage(&holder, PayloadField(type));
  std::unique_ptr<Message> theirs(ours->New());
  const bool ours_ok = ParsePayloadJson(json, ours);
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = false;
  const bool theirs_ok =
      google::protobuf::util::JsonStringToMessage(
          google::protobuf::StringPiece(json.data(), json.size()), theirs.get(),
          options)
          .ok();
  FUZZ_CHECK(ours_ok == theirs_ok, "ParsePayloadJson says ", ours_ok,
             ", protobuf says ", theirs_ok, " for ", Quote(json), " as ",
             ours->GetTypeName());
  if (ours_ok) {
    FUZZ_CHECK(MessageDifferencer::Equals(*ours, *theirs), "for ", Quote(json),
               ": ", ours->ShortDebugString(), " vs ",
               theirs->ShortDebugString());
  }

  RecordedEvent recorded;
  recorded.global_position = 7;
  recorded.event_type = std::string(EventTypeName(
      static_cast<Event::PayloadCase>(kFirstPayloadField + type)));
  recorded.payload_json = std::string(json);
  absl::StatusOr<Event> event = DecodeEventOrDataLoss(recorded);
  if (!ours_ok) {
    FUZZ_CHECK(event.status().code() == absl::StatusCode::kDataLoss,
               event.status().ToString());
    FUZZ_CHECK(json.size() < 4 || !absl::StrContains(json, "{") ||
                   !absl::StrContains(event.status().message(), json),
               "the error quotes the payload");
    return;
  }
  FUZZ_CHECK(event.ok(),
             "DecodeEventOrDataLoss refused what ParsePayloadJson took: ",
             event.status().ToString());
  FUZZ_CHECK(MessageDifferencer::Equals(*PayloadOf(*event), *ours),
             "DecodeEventOrDataLoss decoded another payload from ",
             Quote(json));
  CheckReencodes(*event);
}

// Mode 1: a wire event through the stored form and the domain.
void WireEvent(absl::string_view bytes) {
  Event event;
  if (!event.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    return;
  }
  event.DiscardUnknownFields();
  absl::StatusOr<EventData> data = ToEventData(event);
  if (event.payload_case() == Event::PAYLOAD_NOT_SET) {
    FUZZ_CHECK(data.status().code() == absl::StatusCode::kInvalidArgument,
               data.status().ToString());
    FUZZ_CHECK(ItemEventFromProto(event).status().code() ==
                   absl::StatusCode::kDataLoss,
               "a domain event from no payload");
    return;
  }
  FUZZ_CHECK(data.ok(), "cannot encode ", event.ShortDebugString(), ": ",
             data.status().ToString());
  FUZZ_CHECK(data->event_type == EventTypeName(event.payload_case()),
             data->event_type);
  FUZZ_CHECK(
      data->metadata.request_id == event.metadata().request_id() &&
          data->metadata.correlation_id == event.metadata().correlation_id() &&
          data->metadata.causation_id == event.metadata().causation_id(),
      "metadata changed");

  RecordedEvent recorded;
  recorded.global_position = event.global_position();
  recorded.stream_id = event.stream_id();
  recorded.stream_version = event.stream_version();
  recorded.event_id = event.event_id();
  recorded.event_type = data->event_type;
  recorded.payload_json = data->payload_json;
  recorded.metadata = data->metadata;
  recorded.recorded_at = absl::FromUnixSeconds(1700000000);
  absl::StatusOr<Event> decoded = DecodeEventOrDataLoss(recorded);
  FUZZ_CHECK(decoded.ok(), "cannot decode ", Quote(data->payload_json), ": ",
             decoded.status().ToString());
  FUZZ_CHECK(
      MessageDifferencer::Equals(*PayloadOf(event), *PayloadOf(*decoded)),
      "payload changed: ", event.ShortDebugString(), " stored as ",
      Quote(data->payload_json));
  FUZZ_CHECK(MessageDifferencer::Equals(event.metadata(), decoded->metadata()),
             "metadata changed");
  FUZZ_CHECK(decoded->global_position() == event.global_position() &&
                 decoded->stream_id() == event.stream_id() &&
                 decoded->stream_version() == event.stream_version() &&
                 decoded->event_id() == event.event_id() &&
                 decoded->event_type() == data->event_type,
             "envelope changed");

  absl::StatusOr<ItemEvent> domain = ItemEventFromProto(event);
  FUZZ_CHECK(domain.ok(), domain.status().ToString());
  Event back;
  SetPayload(*domain, &back);
  FUZZ_CHECK(MessageDifferencer::Equals(*PayloadOf(event), *PayloadOf(back)),
             "the domain event changed the payload");
}

// Mode 2: whatever a store might hold.
void StoredEvent(int type, FuzzedDataProvider* in) {
  RecordedEvent recorded;
  recorded.event_type =
      in->ConsumeBool()
          ? std::string(EventTypeName(
                static_cast<Event::PayloadCase>(kFirstPayloadField + type)))
          : in->ConsumeRandomLengthString(40);
  recorded.global_position = in->ConsumeIntegral<int64_t>();
  const int64_t micros = in->ConsumeIntegral<int64_t>();
  recorded.recorded_at = absl::FromUnixMicros(micros);
  recorded.payload_json = in->ConsumeRemainingBytesAsString();
  absl::StatusOr<Event> event = DecodeEventOrDataLoss(recorded);
  if (!IsKnownEventType(recorded.event_type)) {
    FUZZ_CHECK(event.status().code() == absl::StatusCode::kDataLoss,
               "unknown type ", Quote(recorded.event_type), ": ",
               event.status().ToString());
    return;
  }
  if (!event.ok()) {
    FUZZ_CHECK(event.status().code() == absl::StatusCode::kDataLoss,
               event.status().ToString());
    return;
  }
  const int64_t seconds = event->recorded_at().seconds();
  const int32_t nanos = event->recorded_at().nanos();
  FUZZ_CHECK(nanos >= 0 && nanos < 1'000'000'000 && nanos % 1000 == 0, "nanos ",
             nanos, " for ", micros, " us");
  FUZZ_CHECK(static_cast<__int128>(seconds) * 1'000'000 + nanos / 1000 ==
                 static_cast<__int128>(micros),
             "time ", seconds, " s ", nanos, " ns is not ", micros, " us");
  FUZZ_CHECK(event->global_position() == recorded.global_position,
             "position changed");
  CheckReencodes(*event);
}

// Mode 3: a domain event of any content.
void DomainEvent(int type, FuzzedDataProvider* in) {
  const std::string id = in->ConsumeRandomLengthString(80);
  const std::string text = in->ConsumeRandomLengthString(300);
  const std::string more = in->ConsumeRandomLengthString(40);
  const int64_t quantity = in->ConsumeIntegral<int64_t>();
  ItemEvent event;
  switch (type) {
    case 0:
      event = ItemCreated{id, more, text};
      break;
    case 1:
      event = ItemRenamed{id, text};
      break;
    case 2:
      event = ItemsCheckedIn{id, quantity};
      break;
    case 3:
      event = ItemsRemoved{id, quantity};
      break;
    case 4:
      event = ItemDeactivated{id};
      break;
    default:
      event = ItemReactivated{id};
      break;
  }
  const EventMetadata metadata{in->ConsumeRandomLengthString(20),
                               in->ConsumeRandomLengthString(20),
                               in->ConsumeRandomLengthString(20)};
  const bool utf8 = DecodeUtf8(id).has_value() &&
                    DecodeUtf8(text).has_value() &&
                    DecodeUtf8(more).has_value();
  absl::StatusOr<EventData> data = ToEventData(event, metadata);
  if (!data.ok()) {
    FUZZ_CHECK(!utf8, "cannot encode valid text: ", data.status().ToString(),
               " ", Quote(id), " ", Quote(text), " ", Quote(more));
    return;
  }
  FUZZ_CHECK(data->metadata == metadata, "metadata changed");
  RecordedEvent recorded;
  recorded.event_type = data->event_type;
  recorded.payload_json = data->payload_json;
  absl::StatusOr<ItemEvent> decoded = ItemEventFromRecorded(recorded);
  if (!utf8) return;  // no promise for text that is not UTF-8
  FUZZ_CHECK(decoded.ok(), "cannot decode ", Quote(data->payload_json), ": ",
             decoded.status().ToString());
  Event before;
  Event after;
  SetPayload(event, &before);
  SetPayload(*decoded, &after);
  FUZZ_CHECK(MessageDifferencer::Equals(before, after),
             "stored form changed the event: ", before.ShortDebugString(),
             " vs ", after.ShortDebugString());
}

}  // namespace
}  // namespace inventory

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  // Mode 3 makes protobuf log every string that is not UTF-8.
  google::protobuf::SetLogHandler(nullptr);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  const int mode = static_cast<uint8_t>(data[0] - '0') % 4;
  const int type =
      static_cast<uint8_t>(data[1] - '0') % inventory::kPayloadTypes;
  const absl::string_view body(reinterpret_cast<const char*>(data + 2),
                               size - 2);
  FuzzedDataProvider in(data + 2, size - 2);
  switch (mode) {
    case 0:
      inventory::JsonPayload(type, body);
      break;
    case 1:
      inventory::WireEvent(body);
      break;
    case 2:
      inventory::StoredEvent(type, &in);
      break;
    default:
      inventory::DomainEvent(type, &in);
      break;
  }
  return 0;
}
