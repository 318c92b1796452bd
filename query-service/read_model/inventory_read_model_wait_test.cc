// Unit tests of InventoryReadModel's two waits, WaitForPosition and
// WaitForItemChange. Nothing waits by sleeping: a wait either is released
// by another thread's Apply or ends at a short deadline.
#include <cstdint>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "query-service/read_model/inventory_read_model.h"
#include "query-service/read_model/inventory_read_model_test_fixture.h"

namespace inventory::read_model_test {
namespace {

// --- Waiting -----------------------------------------------------------------

TEST(InventoryReadModelTest, WaitForPositionReturnsAtOnceWhenReached) {
  InventoryReadModel model;
  EventLog log;
  EXPECT_TRUE(model.WaitForPosition(0, absl::InfinitePast()));
  ApplyOk(model, log.Create("a", "SKU-A", "Apple"));
  EXPECT_TRUE(model.WaitForPosition(1, absl::InfinitePast()));
  EXPECT_TRUE(model.WaitForPosition(-5, absl::InfinitePast()));
  EXPECT_FALSE(model.WaitForPosition(2, absl::InfinitePast()));
}

TEST(InventoryReadModelTest, WaitForPositionTimesOut) {
  InventoryReadModel model;
  EventLog log;
  ApplyOk(model, log.Create("a", "SKU-A", "Apple"));
  const absl::Time start = absl::Now();
  EXPECT_FALSE(model.WaitForPosition(2, start + absl::Milliseconds(50)));
  const absl::Duration waited = absl::Now() - start;
  EXPECT_GE(waited, absl::Milliseconds(45));
  EXPECT_LT(waited, absl::Seconds(5));
}

TEST(InventoryReadModelTest, WaitForPositionWakesWhenAnotherThreadApplies) {
  InventoryReadModel model;
  EventLog log;
  std::vector<Event> events;
  events.push_back(log.Create("a", "SKU-A", "Apple"));
  for (int i = 0; i < 200; ++i) events.push_back(log.CheckIn("a", 1));
  std::thread writer([&] {
    for (const Event& event : events) ApplyOk(model, event);
  });
  const bool reached =
      model.WaitForPosition(201, absl::Now() + absl::Seconds(20));
  writer.join();
  EXPECT_TRUE(reached);
  EXPECT_EQ(model.position(), 201);
  EXPECT_EQ(CurrentItem(model, "a").quantity_on_hand(), 200);
}

TEST(InventoryReadModelTest, ManyWaitersAreReleasedByOneWriter) {
  InventoryReadModel model;
  EventLog log;
  std::vector<Event> events;
  for (int i = 0; i < 50; ++i) {
    events.push_back(log.Create(absl::StrCat("i", i), "SKU-1", "x"));
  }
  std::vector<std::thread> waiters;
  std::vector<int> reached(50, 0);
  for (int i = 0; i < 50; ++i) {
    waiters.emplace_back([&, i] {
      reached[i] =
          model.WaitForPosition(i + 1, absl::Now() + absl::Seconds(20)) ? 1 : 0;
    });
  }
  // The writer starts once every waiter waits (not before: a waiter that
  // came after the write would not need releasing).
  const bool all_waiting =
      model.AwaitPositionWaitersForTesting(50, absl::Now() + absl::Seconds(20));
  EXPECT_TRUE(all_waiting);
  std::thread writer([&] {
    for (const Event& event : events) ApplyOk(model, event);
  });
  writer.join();
  for (std::thread& waiter : waiters) waiter.join();
  EXPECT_THAT(reached, ::testing::Each(1));
}

TEST(InventoryReadModelTest, WaitForItemChangeSeesTheItemAppear) {
  InventoryReadModel model;
  EventLog log;
  std::vector<Event> events;
  for (int i = 0; i < 100; ++i) {
    events.push_back(log.Create(absl::StrCat("other", i), "SKU-1", "x"));
  }
  events.push_back(log.Create("a", "SKU-A", "Apple"));
  std::thread writer([&] {
    for (const Event& event : events) ApplyOk(model, event);
  });
  std::optional<ItemAtPosition> changed =
      model.WaitForItemChange("a", 0, absl::Now() + absl::Seconds(20));
  writer.join();
  ASSERT_TRUE(changed.has_value());
  EXPECT_EQ(changed->item.item_id(), "a");
  EXPECT_EQ(changed->item.version(), 1);
  EXPECT_EQ(changed->position, 101);
}

TEST(InventoryReadModelTest, WaitForItemChangeSeesANewerVersion) {
  InventoryReadModel model;
  EventLog log;
  ApplyOk(model, log.Create("a", "SKU-A", "Apple"));
  ApplyOk(model, log.Create("b", "SKU-B", "Banana"));
  std::vector<Event> events;
  // Changes of another item first: they must not end the wait.
  for (int i = 0; i < 100; ++i) events.push_back(log.CheckIn("b", 1));
  events.push_back(log.CheckIn("a", 7));
  std::thread writer([&] {
    for (const Event& event : events) ApplyOk(model, event);
  });
  std::optional<ItemAtPosition> changed =
      model.WaitForItemChange("a", 1, absl::Now() + absl::Seconds(20));
  writer.join();
  ASSERT_TRUE(changed.has_value());
  EXPECT_EQ(changed->item.version(), 2);
  EXPECT_EQ(changed->item.quantity_on_hand(), 7);
  EXPECT_EQ(changed->position, 103);
}

TEST(InventoryReadModelTest, WaitForItemChangeReturnsAtOnceWhenAlreadyNewer) {
  InventoryReadModel model;
  EventLog log;
  ApplyOk(model, log.Create("a", "SKU-A", "Apple"));
  ApplyOk(model, log.CheckIn("a", 3));
  for (int64_t seen : {0, 1}) {
    std::optional<ItemAtPosition> changed =
        model.WaitForItemChange("a", seen, absl::InfinitePast());
    ASSERT_TRUE(changed.has_value()) << seen;
    EXPECT_EQ(changed->item.version(), 2);
    EXPECT_EQ(changed->item.quantity_on_hand(), 3);
    EXPECT_EQ(changed->position, 2);
  }
}

TEST(InventoryReadModelTest, WaitForItemChangeTimesOut) {
  InventoryReadModel model;
  EventLog log;
  ApplyOk(model, log.Create("a", "SKU-A", "Apple"));
  ApplyOk(model, log.Create("b", "SKU-B", "Banana"));
  ApplyOk(model, log.CheckIn("b", 1));

  for (const auto& [id, seen] : std::vector<std::pair<std::string, int64_t>>{
           {"a", 1}, {"a", 5}, {"nope", 0}}) {
    SCOPED_TRACE(id);
    const absl::Time start = absl::Now();
    EXPECT_FALSE(
        model.WaitForItemChange(id, seen, start + absl::Milliseconds(50))
            .has_value());
    const absl::Duration waited = absl::Now() - start;
    EXPECT_GE(waited, absl::Milliseconds(45));
    EXPECT_LT(waited, absl::Seconds(5));
  }
}

}  // namespace
}  // namespace inventory::read_model_test
