#include "command-service/application/item_event_codec.h"

#include <vector>

#include "common/api/event_codec.h"
#include "gtest/gtest.h"

namespace inventory {
namespace {

bool SameEvent(const ItemEvent& a, const ItemEvent& b) {
  inventory::v1::Event pa;
  inventory::v1::Event pb;
  SetPayload(a, &pa);
  SetPayload(b, &pb);
  return a.index() == b.index() &&
         pa.SerializeAsString() == pb.SerializeAsString();
}

TEST(ItemEventCodecTest, EveryEventSurvivesTheStoredForm) {
  const std::vector<ItemEvent> events = {
      ItemCreated{"a-1", "SKU-1", "Blue \"widget\" \xE2\x9C\x93"},
      ItemRenamed{"a-1", "Robert'); DROP TABLE events;--"},
      ItemsCheckedIn{"a-1", 1'000'000},
      ItemsRemoved{"a-1", 7},
      ItemDeactivated{"a-1"},
      ItemReactivated{"a-1"},
  };
  int64_t position = 0;
  for (const ItemEvent& event : events) {
    auto data = ToEventData(event, EventMetadata{"r", "c", "k"});
    ASSERT_TRUE(data.ok()) << data.status();
    EXPECT_EQ(data->metadata, (EventMetadata{"r", "c", "k"}));
    RecordedEvent recorded;
    recorded.global_position = ++position;
    recorded.event_type = data->event_type;
    recorded.payload_json = data->payload_json;
    auto decoded = ItemEventFromRecorded(recorded);
    ASSERT_TRUE(decoded.ok()) << decoded.status();
    EXPECT_TRUE(SameEvent(*decoded, event)) << data->payload_json;
  }
}

TEST(ItemEventCodecTest, StoredTypeNamesMatchTheEvent) {
  auto created = ToEventData(ItemCreated{"a", "SKU", "n"}, {});
  auto removed = ToEventData(ItemsRemoved{"a", 1}, {});
  ASSERT_TRUE(created.ok() && removed.ok());
  EXPECT_EQ(created->event_type, "inventory.v1.ItemCreated");
  EXPECT_EQ(removed->event_type, "inventory.v1.ItemsRemoved");
  EXPECT_EQ(created->payload_json, R"({"item_id":"a","sku":"SKU","name":"n"})");
}

TEST(ItemEventCodecTest, EventWithoutPayloadIsDataLoss) {
  inventory::v1::Event empty;
  EXPECT_EQ(ItemEventFromProto(empty).status().code(),
            absl::StatusCode::kDataLoss);
}

TEST(ItemEventCodecTest, UnknownStoredTypeIsDataLoss) {
  RecordedEvent recorded;
  recorded.event_type = "inventory.v1.ItemTeleported";
  recorded.payload_json = "{}";
  EXPECT_EQ(ItemEventFromRecorded(recorded).status().code(),
            absl::StatusCode::kDataLoss);
}

}  // namespace
}  // namespace inventory
