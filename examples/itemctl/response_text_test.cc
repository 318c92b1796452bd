#include "examples/itemctl/response_text.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace inventory::itemctl {
namespace {

using ::testing::HasSubstr;

// 2024-05-01 12:00:00 UTC
constexpr int64_t kNoon = 1714564800;

v1::Item Widget() {
  v1::Item item;
  item.set_item_id("w-1");
  item.set_sku("W-1");
  item.set_name("Blue widget");
  item.set_quantity_on_hand(5);
  item.set_active(true);
  item.set_version(2);
  item.mutable_created_at()->set_seconds(kNoon);
  item.mutable_updated_at()->set_seconds(kNoon + 61);
  return item;
}

v1::Event CheckedIn() {
  v1::Event event;
  event.set_global_position(7);
  event.set_stream_id("item-w-1");
  event.set_stream_version(2);
  event.set_event_type("inventory.v1.ItemsCheckedIn");
  event.mutable_recorded_at()->set_seconds(kNoon);
  event.mutable_items_checked_in()->set_item_id("w-1");
  event.mutable_items_checked_in()->set_quantity(5);
  return event;
}

TEST(ResponseTextTest, CommandResult) {
  EXPECT_EQ(CommandResultText({"widget-1", 2, 7, false}),
            "ok: item widget-1 version 2 (global position 7)\n");
  EXPECT_EQ(CommandResultText({"widget-1", 2, 7, true}),
            "ok: item widget-1 version 2 (global position 7) (replayed: "
            "nothing new recorded)\n");
}

TEST(ResponseTextTest, Item) {
  EXPECT_EQ(ItemText(Widget()),
            "item:     w-1\n"
            "sku:      W-1\n"
            "name:     Blue widget\n"
            "on hand:  5\n"
            "active:   yes\n"
            "version:  2\n"
            "created:  2024-05-01 12:00:00 UTC\n"
            "updated:  2024-05-01 12:01:01 UTC\n");
}

TEST(ResponseTextTest, ItemsTable) {
  v1::Item other = Widget();
  other.set_item_id("w-2");
  other.set_name("Box");
  other.set_quantity_on_hand(1200);
  other.set_active(false);
  other.set_version(10);
  EXPECT_EQ(ItemsTable({Widget(), other}),
            "ID   SKU  NAME         ON HAND  ACTIVE  VERSION\n"
            "w-1  W-1  Blue widget        5  yes           2\n"
            "w-2  W-1  Box             1200  no           10\n"
            "(2 items)\n");
  EXPECT_EQ(ItemsTable({}),
            "ID  SKU  NAME  ON HAND  ACTIVE  VERSION\n(0 items)\n");
}

TEST(ResponseTextTest, HistoryTable) {
  v1::Event created;
  created.set_global_position(3);
  created.set_stream_version(1);
  created.set_event_type("inventory.v1.ItemCreated");
  created.mutable_recorded_at()->set_seconds(kNoon);
  created.mutable_item_created()->set_sku("W-1");
  created.mutable_item_created()->set_name("Blue widget");
  EXPECT_EQ(HistoryTable({created, CheckedIn()}),
            "VERSION  POSITION  TYPE            DETAILS                     "
            "RECORDED AT\n"
            "      1         3  ItemCreated     sku=W-1 name=\"Blue widget\"  "
            "2024-05-01 12:00:00 UTC\n"
            "      2         7  ItemsCheckedIn  quantity=5                  "
            "2024-05-01 12:00:00 UTC\n");
}

TEST(ResponseTextTest, EventLine) {
  EXPECT_EQ(EventText(CheckedIn()),
            "#7 item-w-1 v2 ItemsCheckedIn quantity=5 at 2024-05-01 12:00:00 "
            "UTC\n");
  v1::Event deactivated;
  deactivated.set_global_position(8);
  deactivated.set_stream_id("item-w-1");
  deactivated.set_stream_version(3);
  deactivated.set_event_type("inventory.v1.ItemDeactivated");
  deactivated.mutable_item_deactivated()->set_item_id("w-1");
  EXPECT_EQ(EventText(deactivated), "#8 item-w-1 v3 ItemDeactivated at -\n");
}

TEST(ResponseTextTest, Stats) {
  v1::GetInventoryStatsResponse stats;
  stats.set_item_count(3);
  stats.set_active_item_count(2);
  stats.set_total_quantity_on_hand(42);
  EXPECT_EQ(StatsText(stats, 0),
            "items:          3 (2 active)\n"
            "units on hand:  42\n");
  stats.set_low_stock_item_count(2);
  stats.add_low_stock_item_ids("a");
  stats.add_low_stock_item_ids("b");
  EXPECT_THAT(StatsText(stats, 10), HasSubstr("low stock (<10): 2: a, b\n"));
}

TEST(ResponseTextTest, Watch) {
  v1::WatchItemResponse update;
  *update.mutable_item() = Widget();
  update.set_position(9);
  EXPECT_EQ(WatchText(update),
            "w-1 version 2: sku W-1, name \"Blue widget\", 5 on hand, active "
            "(position 9)\n");
}

TEST(ResponseTextTest, ShortEventTypeKeepsForeignNames) {
  EXPECT_EQ(ShortEventType("inventory.v1.ItemRenamed"), "ItemRenamed");
  EXPECT_EQ(ShortEventType("other.Thing"), "other.Thing");
}

}  // namespace
}  // namespace inventory::itemctl
