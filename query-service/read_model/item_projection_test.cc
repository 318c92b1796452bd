// Unit tests of the item projection: ItemIdOf() and ApplyToItem(), one
// event type at a time, plus the envelope fields (version, timestamps) and
// the clamping of stock for corrupt events.
#include "query-service/read_model/item_projection.h"

#include <cstdint>
#include <limits>
#include <string>

#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"
#include "inventory/v1/events.pb.h"
#include "inventory/v1/query_service.pb.h"

namespace inventory {
namespace {

using google::protobuf::util::MessageDifferencer;
using inventory::v1::Event;
using inventory::v1::Item;

constexpr int64_t kMax = std::numeric_limits<int64_t>::max();

// An event envelope for item `id` at `version`, recorded at `seconds`.
Event Envelope(const std::string& id, int64_t version, int64_t seconds) {
  Event event;
  event.set_global_position(version);
  event.set_stream_id("item-" + id);
  event.set_stream_version(version);
  event.set_event_id("event-" + id + "-" + std::to_string(version));
  event.mutable_recorded_at()->set_seconds(seconds);
  event.mutable_recorded_at()->set_nanos(static_cast<int32_t>(version));
  return event;
}

Event Created(const std::string& id, const std::string& sku,
              const std::string& name, int64_t version = 1,
              int64_t seconds = 1000) {
  Event event = Envelope(id, version, seconds);
  event.set_event_type("inventory.v1.ItemCreated");
  auto* payload = event.mutable_item_created();
  payload->set_item_id(id);
  payload->set_sku(sku);
  payload->set_name(name);
  return event;
}

Event Renamed(const std::string& id, const std::string& name, int64_t version,
              int64_t seconds) {
  Event event = Envelope(id, version, seconds);
  event.set_event_type("inventory.v1.ItemRenamed");
  event.mutable_item_renamed()->set_item_id(id);
  event.mutable_item_renamed()->set_name(name);
  return event;
}

Event CheckedIn(const std::string& id, int64_t quantity, int64_t version,
                int64_t seconds) {
  Event event = Envelope(id, version, seconds);
  event.set_event_type("inventory.v1.ItemsCheckedIn");
  event.mutable_items_checked_in()->set_item_id(id);
  event.mutable_items_checked_in()->set_quantity(quantity);
  return event;
}

Event Removed(const std::string& id, int64_t quantity, int64_t version,
              int64_t seconds) {
  Event event = Envelope(id, version, seconds);
  event.set_event_type("inventory.v1.ItemsRemoved");
  event.mutable_items_removed()->set_item_id(id);
  event.mutable_items_removed()->set_quantity(quantity);
  return event;
}

Event Deactivated(const std::string& id, int64_t version, int64_t seconds) {
  Event event = Envelope(id, version, seconds);
  event.set_event_type("inventory.v1.ItemDeactivated");
  event.mutable_item_deactivated()->set_item_id(id);
  return event;
}

Event Reactivated(const std::string& id, int64_t version, int64_t seconds) {
  Event event = Envelope(id, version, seconds);
  event.set_event_type("inventory.v1.ItemReactivated");
  event.mutable_item_reactivated()->set_item_id(id);
  return event;
}

// An item as it is right after Created("a1", "SKU-1", "Widget").
Item CreatedItem() {
  Item item;
  ApplyToItem(Created("a1", "SKU-1", "Widget"), &item);
  return item;
}

TEST(ItemIdOfTest, NamesTheItemOfEveryEventType) {
  EXPECT_EQ(ItemIdOf(Created("a1", "SKU-1", "Widget")), "a1");
  EXPECT_EQ(ItemIdOf(Renamed("b2", "Gadget", 2, 1)), "b2");
  EXPECT_EQ(ItemIdOf(CheckedIn("c3", 5, 2, 1)), "c3");
  EXPECT_EQ(ItemIdOf(Removed("d4", 5, 2, 1)), "d4");
  EXPECT_EQ(ItemIdOf(Deactivated("e5", 2, 1)), "e5");
  EXPECT_EQ(ItemIdOf(Reactivated("f6", 3, 1)), "f6");
}

TEST(ItemIdOfTest, IsEmptyForAnEventWithoutPayload) {
  EXPECT_EQ(ItemIdOf(Envelope("a1", 1, 1)), "");
  EXPECT_EQ(ItemIdOf(Event()), "");
}

TEST(ItemIdOfTest, ComesFromThePayloadNotTheStreamId) {
  Event event = Created("a1", "SKU-1", "Widget");
  event.set_stream_id("item-other");
  EXPECT_EQ(ItemIdOf(event), "a1");
}

TEST(ApplyToItemTest, CreatedSetsEveryField) {
  Item item;
  ApplyToItem(Created("a1", "SKU-1", "Widget", 1, 1000), &item);
  EXPECT_EQ(item.item_id(), "a1");
  EXPECT_EQ(item.sku(), "SKU-1");
  EXPECT_EQ(item.name(), "Widget");
  EXPECT_EQ(item.quantity_on_hand(), 0);
  EXPECT_TRUE(item.active());
  EXPECT_EQ(item.version(), 1);
  EXPECT_EQ(item.created_at().seconds(), 1000);
  EXPECT_EQ(item.created_at().nanos(), 1);
  EXPECT_EQ(item.updated_at().seconds(), 1000);
  EXPECT_EQ(item.updated_at().nanos(), 1);
}

TEST(ApplyToItemTest, RenamedChangesTheNameOnly) {
  Item item = CreatedItem();
  ApplyToItem(CheckedIn("a1", 7, 2, 1100), &item);
  ApplyToItem(Renamed("a1", "Gadget", 3, 1200), &item);
  EXPECT_EQ(item.name(), "Gadget");
  EXPECT_EQ(item.item_id(), "a1");
  EXPECT_EQ(item.sku(), "SKU-1");
  EXPECT_EQ(item.quantity_on_hand(), 7);
  EXPECT_TRUE(item.active());
  EXPECT_EQ(item.version(), 3);
  EXPECT_EQ(item.created_at().seconds(), 1000);
  EXPECT_EQ(item.updated_at().seconds(), 1200);
}

TEST(ApplyToItemTest, CheckedInAddsUnits) {
  Item item = CreatedItem();
  ApplyToItem(CheckedIn("a1", 10, 2, 1100), &item);
  EXPECT_EQ(item.quantity_on_hand(), 10);
  ApplyToItem(CheckedIn("a1", 1000000, 3, 1200), &item);
  EXPECT_EQ(item.quantity_on_hand(), 1000010);
  EXPECT_EQ(item.version(), 3);
  EXPECT_EQ(item.name(), "Widget");
  EXPECT_TRUE(item.active());
  EXPECT_EQ(item.created_at().seconds(), 1000);
  EXPECT_EQ(item.updated_at().seconds(), 1200);
}

TEST(ApplyToItemTest, RemovedTakesUnits) {
  Item item = CreatedItem();
  ApplyToItem(CheckedIn("a1", 10, 2, 1100), &item);
  ApplyToItem(Removed("a1", 4, 3, 1200), &item);
  EXPECT_EQ(item.quantity_on_hand(), 6);
  ApplyToItem(Removed("a1", 6, 4, 1300), &item);
  EXPECT_EQ(item.quantity_on_hand(), 0);
  EXPECT_EQ(item.version(), 4);
  EXPECT_EQ(item.created_at().seconds(), 1000);
  EXPECT_EQ(item.updated_at().seconds(), 1300);
}

TEST(ApplyToItemTest, DeactivatedAndReactivatedToggleActiveOnly) {
  Item item = CreatedItem();
  ApplyToItem(CheckedIn("a1", 3, 2, 1100), &item);
  ApplyToItem(Deactivated("a1", 3, 1200), &item);
  EXPECT_FALSE(item.active());
  EXPECT_EQ(item.quantity_on_hand(), 3);
  EXPECT_EQ(item.name(), "Widget");
  EXPECT_EQ(item.version(), 3);
  EXPECT_EQ(item.updated_at().seconds(), 1200);

  ApplyToItem(Reactivated("a1", 4, 1300), &item);
  EXPECT_TRUE(item.active());
  EXPECT_EQ(item.quantity_on_hand(), 3);
  EXPECT_EQ(item.name(), "Widget");
  EXPECT_EQ(item.version(), 4);
  EXPECT_EQ(item.created_at().seconds(), 1000);
  EXPECT_EQ(item.updated_at().seconds(), 1300);
}

TEST(ApplyToItemTest, VersionAndUpdatedAtComeFromTheEnvelope) {
  Item item = CreatedItem();
  // The projection trusts the envelope: version is the stream version of
  // the last applied event, updated_at its recorded_at.
  ApplyToItem(CheckedIn("a1", 1, 17, 5000), &item);
  EXPECT_EQ(item.version(), 17);
  EXPECT_EQ(item.updated_at().seconds(), 5000);
  EXPECT_EQ(item.updated_at().nanos(), 17);
  EXPECT_EQ(item.created_at().seconds(), 1000);
  EXPECT_EQ(item.created_at().nanos(), 1);
}

TEST(ApplyToItemTest, AnEventWithoutPayloadChangesNothing) {
  const Item before = CreatedItem();
  Item item = before;
  ApplyToItem(Envelope("a1", 9, 9999), &item);
  EXPECT_TRUE(MessageDifferencer::Equals(item, before)) << item.DebugString();
}

TEST(ApplyToItemTest, CheckInClampsAtTheLargestQuantity) {
  Item item = CreatedItem();
  ApplyToItem(CheckedIn("a1", kMax - 5, 2, 1100), &item);
  EXPECT_EQ(item.quantity_on_hand(), kMax - 5);
  ApplyToItem(CheckedIn("a1", 10, 3, 1200), &item);
  EXPECT_EQ(item.quantity_on_hand(), kMax);
  ApplyToItem(CheckedIn("a1", kMax, 4, 1300), &item);
  EXPECT_EQ(item.quantity_on_hand(), kMax);
  EXPECT_EQ(item.version(), 4);
}

TEST(ApplyToItemTest, RemovingMoreThanOnHandClampsAtZero) {
  Item item = CreatedItem();
  ApplyToItem(CheckedIn("a1", 5, 2, 1100), &item);
  ApplyToItem(Removed("a1", 8, 3, 1200), &item);
  EXPECT_EQ(item.quantity_on_hand(), 0);
  ApplyToItem(Removed("a1", kMax, 4, 1300), &item);
  EXPECT_EQ(item.quantity_on_hand(), 0);
  EXPECT_EQ(item.version(), 4);
}

TEST(ApplyToItemTest, CorruptNegativeQuantitiesNeverMakeStockNegative) {
  Item item = CreatedItem();
  ApplyToItem(CheckedIn("a1", 5, 2, 1100), &item);
  // A negative removal is ignored rather than turned into a check-in.
  ApplyToItem(Removed("a1", -3, 3, 1200), &item);
  EXPECT_EQ(item.quantity_on_hand(), 5);
  ApplyToItem(Removed("a1", std::numeric_limits<int64_t>::min(), 4, 1300),
              &item);
  EXPECT_EQ(item.quantity_on_hand(), 5);
  // A negative check-in never goes below zero.
  ApplyToItem(CheckedIn("a1", -100, 5, 1400), &item);
  EXPECT_EQ(item.quantity_on_hand(), 0);
  ApplyToItem(CheckedIn("a1", std::numeric_limits<int64_t>::min(), 6, 1500),
              &item);
  EXPECT_EQ(item.quantity_on_hand(), 0);
  EXPECT_EQ(item.version(), 6);
}

TEST(ApplyToItemTest, AFullLifecycleFoldsToTheExpectedItem) {
  Item item;
  ApplyToItem(Created("a1", "SKU-1", "Widget", 1, 1000), &item);
  ApplyToItem(CheckedIn("a1", 50, 2, 1010), &item);
  ApplyToItem(Renamed("a1", "Blue Widget", 3, 1020), &item);
  ApplyToItem(Removed("a1", 20, 4, 1030), &item);
  ApplyToItem(Deactivated("a1", 5, 1040), &item);
  ApplyToItem(Reactivated("a1", 6, 1050), &item);
  ApplyToItem(CheckedIn("a1", 1, 7, 1060), &item);

  Item expected;
  expected.set_item_id("a1");
  expected.set_sku("SKU-1");
  expected.set_name("Blue Widget");
  expected.set_quantity_on_hand(31);
  expected.set_active(true);
  expected.set_version(7);
  expected.mutable_created_at()->set_seconds(1000);
  expected.mutable_created_at()->set_nanos(1);
  expected.mutable_updated_at()->set_seconds(1060);
  expected.mutable_updated_at()->set_nanos(7);
  EXPECT_TRUE(MessageDifferencer::Equals(item, expected)) << item.DebugString();
}

}  // namespace
}  // namespace inventory
