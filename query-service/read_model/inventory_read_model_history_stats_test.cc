// Unit tests of InventoryReadModel::GetItemHistory and GetStats (against a
// full scan after every event, and the work it does).
#include <cstdint>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/base/status_matchers.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"
#include "query-service/read_model/inventory_read_model.h"
#include "query-service/read_model/inventory_read_model_test_fixture.h"

namespace inventory::read_model_test {
namespace {

using google::protobuf::util::MessageDifferencer;
using ::testing::ElementsAre;
using ::testing::ElementsAreArray;
using ::testing::IsEmpty;

// --- GetItemHistory ----------------------------------------------------------

TEST(InventoryReadModelTest, GetItemHistoryReturnsTheItemsEventsInPages) {
  InventoryReadModel model;
  EventLog log;
  std::vector<Event> events_of_a;
  auto apply = [&](const Event& event) {
    ApplyOk(model, event);
    if (event.stream_id() == "item-a") events_of_a.push_back(event);
  };
  apply(log.Create("a", "SKU-A", "Apple"));
  apply(log.Create("b", "SKU-B", "Banana"));
  for (int i = 1; i <= 4; ++i) {
    apply(log.CheckIn("a", i));
    apply(log.CheckIn("b", i));
  }
  apply(log.Rename("a", "Red Apple"));
  apply(log.Remove("a", 3));
  apply(log.Deactivate("a"));
  apply(log.Reactivate("a"));
  ASSERT_EQ(events_of_a.size(), 9u);

  for (size_t page_size = 1; page_size <= events_of_a.size() + 1; ++page_size) {
    SCOPED_TRACE(absl::StrCat("page_size ", page_size));
    std::vector<Event> got;
    std::string token;
    int pages = 0;
    do {
      absl::StatusOr<HistoryPage> page =
          model.GetItemHistory("a", page_size, token);
      ASSERT_THAT(page, IsOk());
      ASSERT_LE(page->events.size(), page_size);
      EXPECT_EQ(page->position, model.position());
      got.insert(got.end(), page->events.begin(), page->events.end());
      token = page->next_page_token;
      ASSERT_LT(++pages, 100);
    } while (!token.empty());
    EXPECT_EQ(static_cast<size_t>(pages),
              (events_of_a.size() + page_size - 1) / page_size);
    ASSERT_EQ(got.size(), events_of_a.size());
    for (size_t i = 0; i < got.size(); ++i) {
      EXPECT_TRUE(MessageDifferencer::Equals(got[i], events_of_a[i]))
          << got[i].DebugString();
      EXPECT_EQ(got[i].stream_version(), static_cast<int64_t>(i + 1));
    }
  }
}

TEST(InventoryReadModelTest, GetItemHistoryPagingContinuesAsTheItemChanges) {
  InventoryReadModel model;
  EventLog log;
  ApplyOk(model, log.Create("a", "SKU-A", "Apple"));
  for (int i = 0; i < 4; ++i) ApplyOk(model, log.CheckIn("a", 1));
  std::vector<int64_t> versions;
  std::string token;
  for (int round = 0;; ++round) {
    ASSERT_LT(round, 100);
    absl::StatusOr<HistoryPage> page = model.GetItemHistory("a", 2, token);
    ASSERT_THAT(page, IsOk());
    for (const Event& event : page->events) {
      versions.push_back(event.stream_version());
    }
    token = page->next_page_token;
    if (token.empty()) break;
    if (round == 0) {
      ApplyOk(model, log.Rename("a", "Red Apple"));
      ApplyOk(model, log.CheckIn("a", 1));
    }
  }
  // The events added while paging were picked up; none repeated.
  EXPECT_THAT(versions, ElementsAre(1, 2, 3, 4, 5, 6, 7));
  EXPECT_EQ(CurrentItem(model, "a").version(), 7);
}

TEST(InventoryReadModelTest, GetItemHistoryErrors) {
  InventoryReadModel model;
  EventLog log;
  ApplyOk(model, log.Create("a", "SKU-A", "Apple"));
  ApplyOk(model, log.CheckIn("a", 1));
  ApplyOk(model, log.Create("b", "SKU-B", "Banana"));
  ApplyOk(model, log.CheckIn("b", 1));

  EXPECT_THAT(model.GetItemHistory("nope", 10, ""),
              StatusIs(absl::StatusCode::kNotFound));
  absl::StatusOr<HistoryPage> first = model.GetItemHistory("a", 1, "");
  ASSERT_THAT(first, IsOk());
  ASSERT_NE(first->next_page_token, "");
  // A token of another item, of a listing, or garbage.
  ExpectInvalidPageToken(
      model.GetItemHistory("b", 1, first->next_page_token).status());
  absl::StatusOr<ItemPage> listing = model.ListItems(ItemFilter(), 1, "");
  ASSERT_THAT(listing, IsOk());
  ASSERT_NE(listing->next_page_token, "");
  ExpectInvalidPageToken(
      model.GetItemHistory("a", 1, listing->next_page_token).status());
  for (const std::string& token :
       {std::string("garbage!"), absl::WebSafeBase64Escape("history:a\nxyz"),
        absl::WebSafeBase64Escape("history:a"), std::string("a")}) {
    SCOPED_TRACE(token);
    ExpectInvalidPageToken(model.GetItemHistory("a", 1, token).status());
  }
  // The right token still works.
  absl::StatusOr<HistoryPage> second =
      model.GetItemHistory("a", 1, first->next_page_token);
  ASSERT_THAT(second, IsOk());
  ASSERT_EQ(second->events.size(), 1u);
  EXPECT_EQ(second->events[0].stream_version(), 2);
  EXPECT_EQ(second->next_page_token, "");
}

// --- GetStats ----------------------------------------------------------------

TEST(InventoryReadModelTest, StatsCountItemsAndUnits) {
  InventoryReadModel model;
  EventLog log;
  ApplyOk(model, log.Create("a", "SKU-A", "Apple"));
  ApplyOk(model, log.Create("b", "SKU-B", "Banana"));
  ApplyOk(model, log.Create("c", "SKU-C", "Cherry"));
  ApplyOk(model, log.CheckIn("a", 10));
  ApplyOk(model, log.CheckIn("b", 20));
  ApplyOk(model, log.CheckIn("c", 30));
  ApplyOk(model, log.Remove("b", 5));
  ApplyOk(model, log.Deactivate("c"));

  InventoryStats stats = model.GetStats(0);
  EXPECT_EQ(stats.item_count, 3);
  EXPECT_EQ(stats.active_item_count, 2);
  // Deactivated items' units still count.
  EXPECT_EQ(stats.total_quantity_on_hand, 55);
  EXPECT_EQ(stats.position, 8);

  ApplyOk(model, log.Reactivate("c"));
  ApplyOk(model, log.Deactivate("a"));
  ApplyOk(model, log.Deactivate("b"));
  ApplyOk(model, log.Remove("c", 30));
  stats = model.GetStats(0);
  EXPECT_EQ(stats.item_count, 3);
  EXPECT_EQ(stats.active_item_count, 1);
  EXPECT_EQ(stats.total_quantity_on_hand, 25);
  EXPECT_EQ(stats.position, 12);

  // Renames and re-deliveries change nothing.
  ApplyOk(model, log.Rename("c", "Sour Cherry"));
  ApplyOk(model, log.CheckIn("c", 1));
  ApplyOk(model, log.Remove("c", 1));
  stats = model.GetStats(0);
  EXPECT_EQ(stats.active_item_count, 1);
  EXPECT_EQ(stats.total_quantity_on_hand, 25);
}

TEST(InventoryReadModelTest, LowStockCountsActiveItemsStrictlyBelow) {
  InventoryReadModel model;
  EventLog log;
  ApplyOk(model, log.Create("e", "SKU-E", "Empty"));  // 0 units
  ApplyOk(model, log.Create("d", "SKU-D", "Four"));
  ApplyOk(model, log.CheckIn("d", 4));
  ApplyOk(model, log.Create("c", "SKU-C", "Five"));
  ApplyOk(model, log.CheckIn("c", 5));
  ApplyOk(model, log.Create("b", "SKU-B", "Six"));
  ApplyOk(model, log.CheckIn("b", 6));
  ApplyOk(model, log.Create("a", "SKU-A", "Off"));  // low, but inactive
  ApplyOk(model, log.Deactivate("a"));

  InventoryStats stats = model.GetStats(0);
  EXPECT_EQ(stats.low_stock_item_count, 0);
  EXPECT_THAT(stats.low_stock_item_ids, IsEmpty());

  stats = model.GetStats(1);
  EXPECT_EQ(stats.low_stock_item_count, 1);
  EXPECT_THAT(stats.low_stock_item_ids, ElementsAre("e"));

  stats = model.GetStats(5);  // 5 is not below 5
  EXPECT_EQ(stats.low_stock_item_count, 2);
  EXPECT_THAT(stats.low_stock_item_ids, ElementsAre("d", "e"));

  stats = model.GetStats(6);
  EXPECT_EQ(stats.low_stock_item_count, 3);
  EXPECT_THAT(stats.low_stock_item_ids, ElementsAre("c", "d", "e"));

  stats = model.GetStats(1000000);
  EXPECT_EQ(stats.low_stock_item_count, 4);
  EXPECT_THAT(stats.low_stock_item_ids, ElementsAre("b", "c", "d", "e"));

  // Reactivating brings "a" in; deactivating "d" takes it out.
  ApplyOk(model, log.Reactivate("a"));
  ApplyOk(model, log.Deactivate("d"));
  stats = model.GetStats(6);
  EXPECT_EQ(stats.low_stock_item_count, 3);
  EXPECT_THAT(stats.low_stock_item_ids, ElementsAre("a", "c", "e"));
}

TEST(InventoryReadModelTest, LowStockIdsAreCappedAtAThousand) {
  InventoryReadModel model;
  EventLog log;
  constexpr int kItems = 1005;
  std::vector<std::string> ids;
  // Created in reverse, so that the order comes from item_id.
  for (int i = kItems - 1; i >= 0; --i) {
    ApplyOk(model, log.Create(absl::StrFormat("i%04d", i), "SKU-1", "x"));
  }
  for (int i = 0; i < kItems; ++i) ids.push_back(absl::StrFormat("i%04d", i));

  InventoryStats stats = model.GetStats(1);
  EXPECT_EQ(stats.item_count, kItems);
  EXPECT_EQ(stats.active_item_count, kItems);
  EXPECT_EQ(stats.low_stock_item_count, kItems);
  ASSERT_EQ(stats.low_stock_item_ids.size(),
            InventoryReadModel::kMaxLowStockIds);
  EXPECT_THAT(stats.low_stock_item_ids,
              ElementsAreArray(ids.begin(), ids.begin() + 1000));

  // Exactly at the cap: every id.
  for (int i = 0; i < 5; ++i) ApplyOk(model, log.CheckIn(ids[i], 1));
  stats = model.GetStats(1);
  EXPECT_EQ(stats.low_stock_item_count, 1000);
  EXPECT_THAT(stats.low_stock_item_ids,
              ElementsAreArray(ids.begin() + 5, ids.end()));
}

// What GetStats should answer, found the slow way: every item, listed.
InventoryStats ScannedStats(const InventoryReadModel& model,
                            int64_t low_stock_threshold) {
  InventoryStats stats;
  std::string token;
  do {
    absl::StatusOr<ItemPage> page = model.ListItems(ItemFilter(), 1000, token);
    EXPECT_THAT(page, IsOk());
    if (!page.ok()) break;
    stats.position = page->position;
    for (const Item& item : page->items) {
      ++stats.item_count;
      stats.total_quantity_on_hand += item.quantity_on_hand();
      if (!item.active()) continue;
      ++stats.active_item_count;
      if (item.quantity_on_hand() < low_stock_threshold) {
        ++stats.low_stock_item_count;
        if (stats.low_stock_item_ids.size() <
            InventoryReadModel::kMaxLowStockIds) {
          stats.low_stock_item_ids.push_back(item.item_id());
        }
      }
    }
    token = page->next_page_token;
  } while (!token.empty());
  return stats;
}

void ExpectStatsAsScanned(const InventoryReadModel& model) {
  for (const int64_t threshold :
       {int64_t{0}, int64_t{1}, int64_t{3}, int64_t{20}, int64_t{60},
        std::numeric_limits<int64_t>::max()}) {
    SCOPED_TRACE(absl::StrCat("threshold ", threshold));
    const InventoryStats kept = model.GetStats(threshold);
    const InventoryStats scanned = ScannedStats(model, threshold);
    EXPECT_EQ(kept.position, scanned.position);
    EXPECT_EQ(kept.item_count, scanned.item_count);
    EXPECT_EQ(kept.active_item_count, scanned.active_item_count);
    EXPECT_EQ(kept.total_quantity_on_hand, scanned.total_quantity_on_hand);
    EXPECT_EQ(kept.low_stock_item_count, scanned.low_stock_item_count);
    EXPECT_EQ(kept.low_stock_item_ids, scanned.low_stock_item_ids);
  }
}

// A log of random (but seeded) events of every type for `items` items.
std::vector<Event> RandomLog(int items, int events, uint32_t seed) {
  std::mt19937 rng(seed);
  EventLog log;
  std::vector<Event> out;
  std::vector<bool> created(items, false), active(items, false);
  for (int n = 0; n < events; ++n) {
    const int i = static_cast<int>(rng() % static_cast<uint32_t>(items));
    const std::string id = absl::StrFormat("item-%03d", i);
    if (!created[i]) {
      out.push_back(log.Create(id, "SKU", "Thing"));
      created[i] = active[i] = true;
      continue;
    }
    switch (rng() % 6) {
      case 0:
        out.push_back(log.Rename(id, absl::StrCat("Thing ", n)));
        break;
      case 1:
      case 2:
        out.push_back(log.CheckIn(id, 1 + rng() % 30));
        break;
      case 3:  // sometimes more than is on hand: clamped at 0
        out.push_back(log.Remove(id, 1 + rng() % 40));
        break;
      default:
        out.push_back(active[i] ? log.Deactivate(id) : log.Reactivate(id));
        active[i] = !active[i];
        break;
    }
  }
  return out;
}

TEST(InventoryReadModelTest, IncrementalStatsEqualAFullScanAfterEveryEvent) {
  const std::vector<Event> events = RandomLog(40, 1500, 16);
  InventoryReadModel model;
  for (size_t n = 0; n < events.size(); ++n) {
    ApplyOk(model, events[n]);
    if (n % 10 == 0 || n + 1 == events.size()) {
      SCOPED_TRACE(absl::StrCat("after event ", n + 1));
      ExpectStatsAsScanned(model);
    }
  }
  const InventoryStats before = model.GetStats(20);

  // Rebuilt from the start: the same figures.
  model.Reset();
  ExpectStatsAsScanned(model);
  EXPECT_EQ(model.GetStats(std::numeric_limits<int64_t>::max()).item_count, 0);
  for (const Event& event : events) ApplyOk(model, event);
  ExpectStatsAsScanned(model);
  const InventoryStats after = model.GetStats(20);
  EXPECT_EQ(after.active_item_count, before.active_item_count);
  EXPECT_EQ(after.total_quantity_on_hand, before.total_quantity_on_hand);
  EXPECT_EQ(after.low_stock_item_ids, before.low_stock_item_ids);

  // Reset, then another log applied in one batch.
  model.Reset();
  google::protobuf::RepeatedPtrField<Event> batch;
  for (const Event& event : RandomLog(25, 600, 61)) *batch.Add() = event;
  ASSERT_THAT(model.ApplyAll(&batch), IsOk());
  ExpectStatsAsScanned(model);
}

TEST(InventoryReadModelTest, LowStockIdsCostTheIdsReturnedNotTheItemCount) {
  InventoryReadModel model;
  EventLog log;
  constexpr int kItems = 5000;
  for (int i = 0; i < kItems; ++i) {
    const std::string id = absl::StrFormat("item-%04d", i);
    ApplyOk(model, log.Create(id, "SKU", "x"));
    if (i != 2500) ApplyOk(model, log.CheckIn(id, 10));
  }
  InventoryStats stats = model.GetStats(1);
  EXPECT_EQ(stats.low_stock_item_count, 1);
  EXPECT_THAT(stats.low_stock_item_ids, ElementsAre("item-2500"));
  // A red-black tree of 5000 entries is at most 2 * log2(5001) < 25 high;
  // finding one id visits a path down and the siblings beside it.
  EXPECT_LE(stats.index_nodes_visited, 4 * 25);

  stats = model.GetStats(0);
  EXPECT_EQ(stats.low_stock_item_count, 0);
  EXPECT_LE(stats.index_nodes_visited, 1);

  // Every item low: the cost follows the 1000 ids returned.
  stats = model.GetStats(11);
  EXPECT_EQ(stats.low_stock_item_count, kItems);
  ASSERT_EQ(stats.low_stock_item_ids.size(),
            InventoryReadModel::kMaxLowStockIds);
  EXPECT_GE(stats.index_nodes_visited, 1000);
  EXPECT_LT(stats.index_nodes_visited, kItems);
}

}  // namespace
}  // namespace inventory::read_model_test
