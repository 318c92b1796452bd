#include "common/api/event_codec.h"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/base/status_matchers.h"
#include "common/eventstore/event_store.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/json_util.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"
#include "inventory/v1/events.pb.h"

namespace inventory {
namespace {

using ::google::protobuf::util::MessageDifferencer;
using ::inventory::v1::Event;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;

// --- Builders ---------------------------------------------------------------

Event ItemCreatedEvent() {
  Event event;
  auto* p = event.mutable_item_created();
  p->set_item_id("item-1");
  p->set_sku("WID-001");
  p->set_name("Blue widget \xF0\x9F\x93\xA6 \"quoted\"");
  return event;
}

Event ItemRenamedEvent() {
  Event event;
  auto* p = event.mutable_item_renamed();
  p->set_item_id("item-1");
  p->set_name("Green widget");
  return event;
}

Event ItemsCheckedInEvent() {
  Event event;
  auto* p = event.mutable_items_checked_in();
  p->set_item_id("item-1");
  p->set_quantity(1000000);
  return event;
}

Event ItemsRemovedEvent() {
  Event event;
  auto* p = event.mutable_items_removed();
  p->set_item_id("item-1");
  p->set_quantity(42);
  return event;
}

Event ItemDeactivatedEvent() {
  Event event;
  event.mutable_item_deactivated()->set_item_id("item-1");
  return event;
}

Event ItemReactivatedEvent() {
  Event event;
  event.mutable_item_reactivated()->set_item_id("item-1");
  return event;
}

std::vector<Event> OneEventOfEachType() {
  return {ItemCreatedEvent(),  ItemRenamedEvent(),     ItemsCheckedInEvent(),
          ItemsRemovedEvent(), ItemDeactivatedEvent(), ItemReactivatedEvent()};
}

void SetMetadata(Event* event) {
  event->mutable_metadata()->set_request_id("req-1");
  event->mutable_metadata()->set_correlation_id("corr-2");
  event->mutable_metadata()->set_causation_id("cause-3");
}

// A recorded event as a store would return it.
RecordedEvent Recorded(absl::string_view event_type,
                       absl::string_view payload_json) {
  RecordedEvent recorded;
  recorded.global_position = 42;
  recorded.stream_id = "item-item-1";
  recorded.stream_version = 3;
  recorded.event_id = "7f1c1e52-4b1e-4c8a-9a57-0c4b8b1f2d3e";
  recorded.event_type = std::string(event_type);
  recorded.payload_json = std::string(payload_json);
  recorded.recorded_at = absl::FromUnixMicros(1700000000123456);
  return recorded;
}

void ExpectDataLossWithoutPayload(const RecordedEvent& recorded,
                                  absl::string_view secret) {
  const absl::StatusOr<Event> event = DecodeEventOrDataLoss(recorded);
  ASSERT_FALSE(event.ok()) << "payload: " << recorded.payload_json;
  EXPECT_THAT(event, StatusIs(absl::StatusCode::kDataLoss));
  const std::string message(event.status().message());
  EXPECT_THAT(message, HasSubstr("42"));  // names the event's position
  EXPECT_THAT(message, Not(HasSubstr(std::string(secret))));
  EXPECT_THAT(message, Not(HasSubstr(recorded.payload_json)));
}

// --- EventTypeName / IsKnownEventType ---------------------------------------

TEST(EventTypeNameTest, FixedNamesForEveryPayloadCase) {
  EXPECT_EQ(EventTypeName(Event::kItemCreated), "inventory.v1.ItemCreated");
  EXPECT_EQ(EventTypeName(Event::kItemRenamed), "inventory.v1.ItemRenamed");
  EXPECT_EQ(EventTypeName(Event::kItemsCheckedIn),
            "inventory.v1.ItemsCheckedIn");
  EXPECT_EQ(EventTypeName(Event::kItemsRemoved), "inventory.v1.ItemsRemoved");
  EXPECT_EQ(EventTypeName(Event::kItemDeactivated),
            "inventory.v1.ItemDeactivated");
  EXPECT_EQ(EventTypeName(Event::kItemReactivated),
            "inventory.v1.ItemReactivated");
}

TEST(EventTypeNameTest, EmptyForPayloadNotSet) {
  EXPECT_THAT(EventTypeName(Event::PAYLOAD_NOT_SET), IsEmpty());
}

TEST(EventTypeNameTest, EmptyForUnknownCase) {
  EXPECT_THAT(EventTypeName(static_cast<Event::PayloadCase>(99)), IsEmpty());
  // A field number of Event that is not part of the payload oneof.
  EXPECT_THAT(EventTypeName(static_cast<Event::PayloadCase>(2)), IsEmpty());
}

TEST(EventTypeNameTest, EveryOneofFieldHasADistinctName) {
  const google::protobuf::OneofDescriptor* oneof =
      Event::descriptor()->FindOneofByName("payload");
  ASSERT_NE(oneof, nullptr);
  std::vector<std::string> names;
  for (int i = 0; i < oneof->field_count(); ++i) {
    const auto c = static_cast<Event::PayloadCase>(oneof->field(i)->number());
    const absl::string_view name = EventTypeName(c);
    EXPECT_THAT(name, Not(IsEmpty())) << oneof->field(i)->name();
    EXPECT_TRUE(IsKnownEventType(name));
    EXPECT_THAT(names, Not(testing::Contains(std::string(name))));
    names.emplace_back(name);
  }
  EXPECT_EQ(names.size(), 6u);
}

TEST(IsKnownEventTypeTest, KnownNames) {
  for (absl::string_view name :
       {"inventory.v1.ItemCreated", "inventory.v1.ItemRenamed",
        "inventory.v1.ItemsCheckedIn", "inventory.v1.ItemsRemoved",
        "inventory.v1.ItemDeactivated", "inventory.v1.ItemReactivated"}) {
    EXPECT_TRUE(IsKnownEventType(name)) << name;
  }
}

TEST(IsKnownEventTypeTest, UnknownNames) {
  for (absl::string_view name :
       {"", "ItemCreated", "inventory.v1.ItemDeleted",
        "inventory.v1.itemcreated", "INVENTORY.V1.ITEMCREATED",
        "inventory.v2.ItemCreated", " inventory.v1.ItemCreated",
        "inventory.v1.ItemCreated ", "inventory.v1.Event",
        "inventory.v1.EventMetadata", "inventory.v1.ItemCreatedX"}) {
    EXPECT_FALSE(IsKnownEventType(name)) << "'" << name << "'";
  }
  EXPECT_FALSE(
      IsKnownEventType(absl::string_view("inventory.v1.ItemCreated\0", 25)));
}

// --- ToEventData ------------------------------------------------------------

TEST(ToEventDataTest, UsesFixedTypeNameAndSnakeCaseJson) {
  Event event = ItemsCheckedInEvent();
  const absl::StatusOr<EventData> data = ToEventData(event);
  ASSERT_THAT(data, IsOk());
  EXPECT_EQ(data->event_type, "inventory.v1.ItemsCheckedIn");
  EXPECT_THAT(data->payload_json, HasSubstr("\"item_id\""));
  EXPECT_THAT(data->payload_json, HasSubstr("\"item-1\""));
  EXPECT_THAT(data->payload_json, HasSubstr("\"quantity\""));
  EXPECT_THAT(data->payload_json, HasSubstr("1000000"));
  EXPECT_THAT(data->payload_json, Not(HasSubstr("itemId")));
}

TEST(ToEventDataTest, EveryPayloadTypeEncodes) {
  for (const Event& event : OneEventOfEachType()) {
    SCOPED_TRACE(EventTypeName(event.payload_case()));
    const absl::StatusOr<EventData> data = ToEventData(event);
    ASSERT_THAT(data, IsOk());
    EXPECT_EQ(data->event_type, EventTypeName(event.payload_case()));
    EXPECT_THAT(data->payload_json, HasSubstr("\"item_id\":\"item-1\""));
    EXPECT_THAT(data->payload_json, Not(HasSubstr("itemId")));
    // Only the payload is encoded, not the envelope.
    EXPECT_THAT(data->payload_json, Not(HasSubstr("item_created")));
    EXPECT_THAT(data->payload_json, Not(HasSubstr("metadata")));
  }
}

TEST(ToEventDataTest, ItemCreatedJsonHasAllFields) {
  const absl::StatusOr<EventData> data = ToEventData(ItemCreatedEvent());
  ASSERT_THAT(data, IsOk());
  EXPECT_THAT(data->payload_json, HasSubstr("\"item_id\""));
  EXPECT_THAT(data->payload_json, HasSubstr("\"sku\":\"WID-001\""));
  EXPECT_THAT(data->payload_json, HasSubstr("\"name\""));
}

TEST(ToEventDataTest, CopiesMetadata) {
  Event event = ItemRenamedEvent();
  SetMetadata(&event);
  const absl::StatusOr<EventData> data = ToEventData(event);
  ASSERT_THAT(data, IsOk());
  EXPECT_EQ(data->metadata.request_id, "req-1");
  EXPECT_EQ(data->metadata.correlation_id, "corr-2");
  EXPECT_EQ(data->metadata.causation_id, "cause-3");
}

TEST(ToEventDataTest, MissingMetadataIsEmpty) {
  const absl::StatusOr<EventData> data = ToEventData(ItemRenamedEvent());
  ASSERT_THAT(data, IsOk());
  EXPECT_EQ(data->metadata, EventMetadata{});
}

TEST(ToEventDataTest, IgnoresEnvelopeFields) {
  Event event = ItemDeactivatedEvent();
  event.set_global_position(99);
  event.set_stream_id("item-zzz");
  event.set_stream_version(7);
  event.set_event_id("some-id");
  event.set_event_type("inventory.v1.Bogus");
  event.mutable_recorded_at()->set_seconds(12345);
  const absl::StatusOr<EventData> data = ToEventData(event);
  ASSERT_THAT(data, IsOk());
  // The type comes from the payload case, not from event_type.
  EXPECT_EQ(data->event_type, "inventory.v1.ItemDeactivated");
  EXPECT_THAT(data->payload_json, Not(HasSubstr("item-zzz")));
  EXPECT_THAT(data->payload_json, Not(HasSubstr("some-id")));
}

TEST(ToEventDataTest, NoPayloadIsInvalidArgument) {
  Event event;
  SetMetadata(&event);
  event.set_event_type("inventory.v1.ItemCreated");
  const absl::StatusOr<EventData> data = ToEventData(event);
  ASSERT_THAT(data, StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(ToEventDataTest, EmptyEventIsInvalidArgument) {
  const absl::StatusOr<EventData> data = ToEventData(Event{});
  ASSERT_THAT(data, StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(ToEventDataTest, EmptyPayloadMessageStillEncodes) {
  Event event;
  event.mutable_item_reactivated();  // set, but with default values
  const absl::StatusOr<EventData> data = ToEventData(event);
  ASSERT_THAT(data, IsOk());
  EXPECT_EQ(data->event_type, "inventory.v1.ItemReactivated");
  EXPECT_EQ(data->payload_json, "{}");
}

// --- ToEventData then DecodeEventOrDataLoss: round trip
// ------------------------------

class RoundTripTest : public testing::TestWithParam<Event> {};

TEST_P(RoundTripTest, RecordedEventDecodedRestoresEverything) {
  Event original = GetParam();
  SetMetadata(&original);

  const absl::StatusOr<EventData> data = ToEventData(original);
  ASSERT_THAT(data, IsOk());

  RecordedEvent recorded = Recorded(data->event_type, data->payload_json);
  recorded.metadata = data->metadata;
  const absl::StatusOr<Event> restored = DecodeEventOrDataLoss(recorded);
  ASSERT_THAT(restored, IsOk());

  EXPECT_EQ(restored->global_position(), 42);
  EXPECT_EQ(restored->stream_id(), "item-item-1");
  EXPECT_EQ(restored->stream_version(), 3);
  EXPECT_EQ(restored->event_id(), "7f1c1e52-4b1e-4c8a-9a57-0c4b8b1f2d3e");
  EXPECT_EQ(restored->event_type(), EventTypeName(original.payload_case()));
  EXPECT_EQ(restored->recorded_at().seconds(), 1700000000);
  EXPECT_EQ(restored->recorded_at().nanos(), 123456000);
  EXPECT_EQ(restored->metadata().request_id(), "req-1");
  EXPECT_EQ(restored->metadata().correlation_id(), "corr-2");
  EXPECT_EQ(restored->metadata().causation_id(), "cause-3");
  EXPECT_EQ(restored->payload_case(), original.payload_case());

  Event expected = original;
  expected.set_global_position(42);
  expected.set_stream_id("item-item-1");
  expected.set_stream_version(3);
  expected.set_event_id("7f1c1e52-4b1e-4c8a-9a57-0c4b8b1f2d3e");
  expected.set_event_type(std::string(EventTypeName(original.payload_case())));
  expected.mutable_recorded_at()->set_seconds(1700000000);
  expected.mutable_recorded_at()->set_nanos(123456000);
  EXPECT_TRUE(MessageDifferencer::Equals(*restored, expected))
      << "restored: " << restored->ShortDebugString()
      << "\nexpected: " << expected.ShortDebugString();
}

std::string PayloadCaseName(const testing::TestParamInfo<Event>& info) {
  std::string name(EventTypeName(info.param.payload_case()));
  const absl::string_view prefix = "inventory.v1.";
  return name.substr(prefix.size());
}

INSTANTIATE_TEST_SUITE_P(EveryPayloadType, RoundTripTest,
                         testing::ValuesIn(OneEventOfEachType()),
                         PayloadCaseName);

TEST(DecodeEventOrDataLossTest, LargeQuantitySurvivesJson) {
  Event event;
  event.mutable_items_checked_in()->set_item_id("x");
  event.mutable_items_checked_in()->set_quantity(9007199254740993);  // 2^53+1
  const absl::StatusOr<EventData> data = ToEventData(event);
  ASSERT_THAT(data, IsOk());
  const absl::StatusOr<Event> restored =
      DecodeEventOrDataLoss(Recorded(data->event_type, data->payload_json));
  ASSERT_THAT(restored, IsOk());
  EXPECT_EQ(restored->items_checked_in().quantity(), 9007199254740993);
}

TEST(DecodeEventOrDataLossTest, RecordedAtKeepsMicroseconds) {
  for (int64_t micros :
       {int64_t{0}, int64_t{1}, int64_t{999999}, int64_t{1700000000000001},
        int64_t{1700000000999999}}) {
    SCOPED_TRACE(micros);
    RecordedEvent recorded =
        Recorded("inventory.v1.ItemDeactivated", R"({"item_id":"a"})");
    recorded.recorded_at = absl::FromUnixMicros(micros);
    const absl::StatusOr<Event> event = DecodeEventOrDataLoss(recorded);
    ASSERT_THAT(event, IsOk());
    EXPECT_EQ(event->recorded_at().seconds(), micros / 1000000);
    EXPECT_EQ(event->recorded_at().nanos(), (micros % 1000000) * 1000);
  }
}

TEST(DecodeEventOrDataLossTest, AcceptsHandWrittenSnakeCaseJson) {
  const absl::StatusOr<Event> event = DecodeEventOrDataLoss(
      Recorded("inventory.v1.ItemCreated",
               R"({"item_id":"a","sku":"ABC","name":"Widget"})"));
  ASSERT_THAT(event, IsOk());
  EXPECT_EQ(event->item_created().item_id(), "a");
  EXPECT_EQ(event->item_created().sku(), "ABC");
  EXPECT_EQ(event->item_created().name(), "Widget");
}

TEST(DecodeEventOrDataLossTest, AcceptsQuantityAsJsonNumberOrString) {
  for (absl::string_view json : {R"({"item_id":"a","quantity":7})",
                                 R"({"item_id":"a","quantity":"7"})"}) {
    SCOPED_TRACE(json);
    const absl::StatusOr<Event> event =
        DecodeEventOrDataLoss(Recorded("inventory.v1.ItemsRemoved", json));
    ASSERT_THAT(event, IsOk());
    EXPECT_EQ(event->items_removed().quantity(), 7);
  }
}

TEST(DecodeEventOrDataLossTest, EmptyObjectGivesDefaultPayload) {
  const absl::StatusOr<Event> event =
      DecodeEventOrDataLoss(Recorded("inventory.v1.ItemReactivated", "{}"));
  ASSERT_THAT(event, IsOk());
  EXPECT_EQ(event->payload_case(), Event::kItemReactivated);
  EXPECT_EQ(event->item_reactivated().item_id(), "");
}

// --- DecodeEventOrDataLoss errors
// ----------------------------------------------------

TEST(DecodeEventOrDataLossTest, UnknownTypeIsDataLoss) {
  for (absl::string_view type : {"", "inventory.v1.ItemDeleted", "ItemCreated",
                                 "inventory.v1.itemcreated"}) {
    SCOPED_TRACE(type);
    ExpectDataLossWithoutPayload(
        Recorded(type, R"({"item_id":"SECRET-ITEM-7"})"), "SECRET-ITEM-7");
  }
}

TEST(DecodeEventOrDataLossTest, MalformedJsonIsDataLoss) {
  for (absl::string_view json :
       {R"({"item_id":"SECRET-ITEM-7")", R"({"item_id":SECRET-ITEM-7})",
        "SECRET-ITEM-7", R"(["SECRET-ITEM-7"])", R"("SECRET-ITEM-7")",
        R"({"item_id":"SECRET-ITEM-7"}SECRET-ITEM-7)",
        R"({"item_id":"SECRET-ITEM-7"} {})"}) {
    SCOPED_TRACE(json);
    ExpectDataLossWithoutPayload(Recorded("inventory.v1.ItemCreated", json),
                                 "SECRET-ITEM-7");
  }
}

TEST(DecodeEventOrDataLossTest, EmptyOrNullPayloadIsDataLoss) {
  for (absl::string_view json : {"", " ", "null", "{,}"}) {
    SCOPED_TRACE(json);
    const absl::StatusOr<Event> event =
        DecodeEventOrDataLoss(Recorded("inventory.v1.ItemDeactivated", json));
    ASSERT_THAT(event, StatusIs(absl::StatusCode::kDataLoss));
  }
}

TEST(DecodeEventOrDataLossTest, WrongJsonValueTypeIsDataLoss) {
  ExpectDataLossWithoutPayload(
      Recorded("inventory.v1.ItemsCheckedIn",
               R"({"item_id":"SECRET-ITEM-7","quantity":"lots"})"),
      "SECRET-ITEM-7");
  ExpectDataLossWithoutPayload(
      Recorded("inventory.v1.ItemsCheckedIn",
               R"({"item_id":"SECRET-ITEM-7","quantity":1.5})"),
      "SECRET-ITEM-7");
  ExpectDataLossWithoutPayload(
      Recorded("inventory.v1.ItemRenamed",
               R"({"item_id":"SECRET-ITEM-7","name":{"x":1}})"),
      "SECRET-ITEM-7");
}

TEST(DecodeEventOrDataLossTest, UnknownJsonFieldIsDataLoss) {
  ExpectDataLossWithoutPayload(
      Recorded("inventory.v1.ItemDeactivated",
               R"({"item_id":"a","SECRET_FIELD":"SECRET-ITEM-7"})"),
      "SECRET-ITEM-7");
}

TEST(DecodeEventOrDataLossTest, PayloadOfAnotherTypeIsDataLoss) {
  // An ItemCreated payload stored under the ItemsCheckedIn type.
  ExpectDataLossWithoutPayload(
      Recorded("inventory.v1.ItemsCheckedIn",
               R"({"item_id":"a","sku":"ABC","name":"SECRET-ITEM-7"})"),
      "SECRET-ITEM-7");
}

TEST(DecodeEventOrDataLossTest, DataLossMessageNamesTheEventType) {
  const absl::StatusOr<Event> event = DecodeEventOrDataLoss(
      Recorded("inventory.v1.ItemCreated", R"({"item_id":"a","x":1})"));
  ASSERT_THAT(event, StatusIs(absl::StatusCode::kDataLoss));
  EXPECT_THAT(std::string(event.status().message()),
              HasSubstr("inventory.v1.ItemCreated"));
}

}  // namespace
}  // namespace inventory

namespace inventory {
namespace {

// ParsePayloadJson() must agree with protobuf's own JSON parser on every
// input: same acceptance, same message.
class ParsePayloadJsonTest : public ::testing::TestWithParam<std::string> {};

TEST_P(ParsePayloadJsonTest, AgreesWithProtobufsParser) {
  for (google::protobuf::Message* prototype :
       std::vector<google::protobuf::Message*>{
           new inventory::v1::ItemCreated(),
           new inventory::v1::ItemsCheckedIn()}) {
    std::unique_ptr<google::protobuf::Message> ours(prototype);
    std::unique_ptr<google::protobuf::Message> theirs(prototype->New());
    const bool ours_ok = ParsePayloadJson(GetParam(), ours.get());
    google::protobuf::util::JsonParseOptions options;
    const bool theirs_ok = google::protobuf::util::JsonStringToMessage(
                               GetParam(), theirs.get(), options)
                               .ok();
    EXPECT_EQ(ours_ok, theirs_ok)
        << GetParam() << " as " << prototype->GetTypeName();
    if (ours_ok && theirs_ok) {
      EXPECT_TRUE(MessageDifferencer::Equals(*ours, *theirs))
          << GetParam() << ": " << ours->ShortDebugString() << " vs "
          << theirs->ShortDebugString();
    }
  }
}

INSTANTIATE_TEST_SUITE_P(
    Payloads, ParsePayloadJsonTest,
    ::testing::Values(
        R"({})", R"( { } )", R"({"item_id": "a-1", "sku": "S-1", "name": "W"})",
        R"({"name": "Blue widget", "itemId": "a-1"})",
        R"({"item_id": "a-1", "quantity": "42"})",
        R"({"item_id": "a-1", "quantity": 42})",
        R"({"item_id":"a-1","quantity":-7})",
        R"({"quantity": "9223372036854775807"})",
        R"({"quantity": "9223372036854775808"})", R"({"quantity": 1.5})",
        R"({"quantity": 1e3})", R"({"quantity": 007})",
        R"({"quantity": "007"})", R"({"quantity": -0})", R"({"quantity": "-"})",
        R"({"quantity": ""})", R"({"quantity": true})", R"({"quantity": null})",
        R"({"name": "tab\there"})", R"({"name": "quote \" inside"})",
        R"({"name": "caf\u00e9 \ud83d\ude00"})", "{\"name\": \"caf\xc3\xa9\"}",
        "{\"name\": \"bad \xff utf8\"}", "{\"name\": \"raw\ttab\"}",
        R"({"name": "x'); DROP TABLE events;--"})", R"({"unknown": "x"})",
        R"({"item_id": "a", "item_id": "b"})", R"({"item_id": "a",})",
        R"({"item_id": ["a"]})", R"({"item_id": {"a": 1}})",
        R"({"item_id": 5})", R"([1, 2])", R"({"item_id": "a"} trailing)",
        R"({"item_id": "a")", "", "42",
        R"({"sku": "S-1", "name": "N", "item_id": "a-1"})"));

}  // namespace
}  // namespace inventory
