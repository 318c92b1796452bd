// Unit tests of InventoryReadModel: Apply (order, re-delivery, gaps, events
// it cannot project, which stop it at their position), Reset, item details
// after every event type, and temporal GetItem (as_of_version).
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
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
using ::testing::IsEmpty;

// --- Apply ------------------------------------------------------------------

TEST(InventoryReadModelTest, AnEmptyModelHasNothing) {
  InventoryReadModel model;
  EXPECT_EQ(model.position(), 0);
  EXPECT_THAT(model.GetItem("a"), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(model.GetItemHistory("a", 10, ""),
              StatusIs(absl::StatusCode::kNotFound));
  absl::StatusOr<ItemPage> page = model.ListItems(ItemFilter(), 10, "");
  ASSERT_THAT(page, IsOk());
  EXPECT_THAT(page->items, IsEmpty());
  EXPECT_EQ(page->next_page_token, "");
  EXPECT_EQ(page->position, 0);
  const InventoryStats stats = model.GetStats(10);
  EXPECT_EQ(stats.item_count, 0);
  EXPECT_EQ(stats.active_item_count, 0);
  EXPECT_EQ(stats.total_quantity_on_hand, 0);
  EXPECT_EQ(stats.low_stock_item_count, 0);
  EXPECT_THAT(stats.low_stock_item_ids, IsEmpty());
  EXPECT_EQ(stats.position, 0);
}

TEST(InventoryReadModelTest, ItemDetailsFollowEveryEventType) {
  InventoryReadModel model;
  EventLog log;
  const google::protobuf::Timestamp created_at = EventLog::RecordedAt(1);

  ApplyOk(model, log.Create("a1", "SKU-1", "Widget"));
  Item item = CurrentItem(model, "a1");
  EXPECT_EQ(item.item_id(), "a1");
  EXPECT_EQ(item.sku(), "SKU-1");
  EXPECT_EQ(item.name(), "Widget");
  EXPECT_EQ(item.quantity_on_hand(), 0);
  EXPECT_TRUE(item.active());
  EXPECT_EQ(item.version(), 1);
  EXPECT_TRUE(MessageDifferencer::Equals(item.created_at(), created_at));
  EXPECT_TRUE(MessageDifferencer::Equals(item.updated_at(), created_at));
  EXPECT_EQ(model.position(), 1);

  struct Step {
    Event event;
    int64_t quantity;
    std::string name;
    bool active;
  };
  const std::vector<Step> steps = {
      {log.CheckIn("a1", 40), 40, "Widget", true},
      {log.Remove("a1", 15), 25, "Widget", true},
      {log.Rename("a1", "Blue Widget"), 25, "Blue Widget", true},
      {log.Deactivate("a1"), 25, "Blue Widget", false},
      {log.Reactivate("a1"), 25, "Blue Widget", true},
      {log.Remove("a1", 25), 0, "Blue Widget", true},
      {log.Deactivate("a1"), 0, "Blue Widget", false},
  };
  for (const Step& step : steps) {
    SCOPED_TRACE(step.event.event_type());
    ApplyOk(model, step.event);
    item = CurrentItem(model, "a1");
    EXPECT_EQ(item.item_id(), "a1");
    EXPECT_EQ(item.sku(), "SKU-1");
    EXPECT_EQ(item.name(), step.name);
    EXPECT_EQ(item.quantity_on_hand(), step.quantity);
    EXPECT_EQ(item.active(), step.active);
    EXPECT_EQ(item.version(), step.event.stream_version());
    EXPECT_TRUE(MessageDifferencer::Equals(item.created_at(), created_at));
    EXPECT_TRUE(MessageDifferencer::Equals(item.updated_at(),
                                           step.event.recorded_at()));
    EXPECT_EQ(model.position(), step.event.global_position());
    EXPECT_EQ(model.GetItem("a1")->position, step.event.global_position());
  }
}

TEST(InventoryReadModelTest, InterleavedItemsAreKeptApart) {
  InventoryReadModel model;
  EventLog log;
  ApplyOk(model, log.Create("a", "SKU-A", "Apple"));
  ApplyOk(model, log.Create("b", "SKU-B", "Banana"));
  ApplyOk(model, log.CheckIn("a", 5));
  ApplyOk(model, log.CheckIn("b", 7));
  ApplyOk(model, log.Deactivate("b"));
  ApplyOk(model, log.Rename("a", "Green Apple"));

  const Item a = CurrentItem(model, "a");
  EXPECT_EQ(a.name(), "Green Apple");
  EXPECT_EQ(a.quantity_on_hand(), 5);
  EXPECT_TRUE(a.active());
  EXPECT_EQ(a.version(), 3);
  EXPECT_EQ(a.created_at().seconds(), kBaseSeconds + 1);
  EXPECT_EQ(a.updated_at().seconds(), kBaseSeconds + 6);

  const Item b = CurrentItem(model, "b");
  EXPECT_EQ(b.name(), "Banana");
  EXPECT_EQ(b.quantity_on_hand(), 7);
  EXPECT_FALSE(b.active());
  EXPECT_EQ(b.version(), 3);
  EXPECT_EQ(b.created_at().seconds(), kBaseSeconds + 2);
  EXPECT_EQ(b.updated_at().seconds(), kBaseSeconds + 5);
  EXPECT_EQ(model.position(), 6);
}

TEST(InventoryReadModelTest, AlreadyAppliedPositionsAreIgnored) {
  InventoryReadModel model;
  EventLog log;
  const Event created = log.Create("a", "SKU-A", "Apple");
  const Event checked_in = log.CheckIn("a", 5);
  ApplyOk(model, created);
  ApplyOk(model, checked_in);

  // The same events again, and a different event at an old position: all
  // accepted, none applied.
  ApplyOk(model, created);
  ApplyOk(model, checked_in);
  Event impostor = checked_in;
  impostor.mutable_items_checked_in()->set_quantity(1000);
  impostor.set_stream_version(3);
  ApplyOk(model, impostor);
  Event old_new_item = created;
  old_new_item.mutable_item_created()->set_item_id("zz");
  ApplyOk(model, old_new_item);

  EXPECT_EQ(model.position(), 2);
  const Item item = CurrentItem(model, "a");
  EXPECT_EQ(item.quantity_on_hand(), 5);
  EXPECT_EQ(item.version(), 2);
  EXPECT_EQ(model.GetItemHistory("a", 100, "")->events.size(), 2u);
  EXPECT_THAT(model.GetItem("zz"), StatusIs(absl::StatusCode::kNotFound));
  const InventoryStats stats = model.GetStats(0);
  EXPECT_EQ(stats.item_count, 1);
  EXPECT_EQ(stats.total_quantity_on_hand, 5);
}

TEST(InventoryReadModelTest, AGapIsRefusedAndNothingIsApplied) {
  InventoryReadModel model;
  EventLog log;
  const Event created = log.Create("a", "SKU-A", "Apple");
  const Event checked_in = log.CheckIn("a", 5);
  const Event other_created = log.Create("b", "SKU-B", "Banana");
  const Event renamed = log.Rename("a", "Green Apple");
  ApplyOk(model, created);

  for (const Event* skipped : {&other_created, &renamed}) {
    const absl::Status status = model.Apply(*skipped);
    EXPECT_THAT(status, StatusIs(absl::StatusCode::kOutOfRange));
  }
  EXPECT_EQ(model.position(), 1);
  const Item item = CurrentItem(model, "a");
  EXPECT_EQ(item.name(), "Apple");
  EXPECT_EQ(item.version(), 1);
  EXPECT_EQ(model.GetItemHistory("a", 100, "")->events.size(), 1u);
  EXPECT_THAT(model.GetItem("b"), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_EQ(model.GetStats(0).item_count, 1);

  // Resuming in order works.
  ApplyOk(model, checked_in);
  ApplyOk(model, other_created);
  ApplyOk(model, renamed);
  EXPECT_EQ(model.position(), 4);
  EXPECT_EQ(CurrentItem(model, "a").name(), "Green Apple");
  EXPECT_EQ(CurrentItem(model, "a").quantity_on_hand(), 5);
  EXPECT_EQ(CurrentItem(model, "b").name(), "Banana");
}

// The model after a refused event: still at `position`, stopped at the
// next one, with the message naming the refused position and type.
void ExpectStoppedAt(const InventoryReadModel& model,
                     const absl::Status& status, int64_t position,
                     const std::string& event_type) {
  EXPECT_THAT(status, StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(std::string(status.message()),
              ::testing::HasSubstr(absl::StrCat("position ", position + 1)));
  EXPECT_THAT(std::string(status.message()), ::testing::HasSubstr(event_type));
  EXPECT_EQ(model.position(), position);
  const std::optional<ProjectionStop> stop = model.stop();
  ASSERT_TRUE(stop.has_value());
  EXPECT_EQ(stop->global_position, position + 1);
  EXPECT_EQ(stop->event_type, event_type);
}

TEST(InventoryReadModelTest, AnEventWithoutPayloadStopsTheModelAtItsPosition) {
  InventoryReadModel model;
  EventLog log;
  ApplyOk(model, log.Create("a", "SKU-A", "Apple"));
  ApplyOk(model, log.CheckIn("a", 3));
  EXPECT_FALSE(model.stop().has_value());
  const Event unknown = log.Unknown();
  const Event after = log.CheckIn("a", 4);
  const Event created_after = log.Create("b", "SKU-B", "Banana");

  ExpectStoppedAt(model, model.Apply(unknown), 2, "inventory.v1.SomethingNew");
  // Nothing after it is applied: it is not skipped, it is waited for.
  for (const Event* later : {&after, &created_after}) {
    EXPECT_THAT(model.Apply(*later), StatusIs(absl::StatusCode::kOutOfRange));
  }
  // Re-delivered, it is refused again.
  ExpectStoppedAt(model, model.Apply(unknown), 2, "inventory.v1.SomethingNew");

  EXPECT_EQ(CurrentItem(model, "a").quantity_on_hand(), 3);
  EXPECT_EQ(CurrentItem(model, "a").version(), 2);
  EXPECT_THAT(model.GetItem("b"), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_EQ(model.GetStats(0).position, 2);
  EXPECT_EQ(model.ListItems(ItemFilter(), 10, "")->position, 2);
  EXPECT_EQ(model.GetItemHistory("a", 10, "")->events.size(), 2u);
  // A wait for a later position ends at once instead of at its deadline.
  const absl::Time start = absl::Now();
  EXPECT_FALSE(model.WaitForPosition(3, start + absl::Seconds(30)));
  EXPECT_LT(absl::Now() - start, absl::Seconds(10));
  EXPECT_TRUE(model.WaitForPosition(2, absl::InfinitePast()));
}

TEST(InventoryReadModelTest, ABatchStopsAtTheEventItCannotProject) {
  InventoryReadModel model;
  EventLog log;
  google::protobuf::RepeatedPtrField<Event> batch;
  *batch.Add() = log.Create("a", "SKU-A", "Apple");
  *batch.Add() = log.CheckIn("a", 5);
  // An ItemsCheckedIn of a newer build's shape: the type is known, but the
  // payload did not survive (the command-service could not decode it).
  Event undecodable = log.CheckIn("a", 7);
  undecodable.clear_payload();
  *batch.Add() = undecodable;
  *batch.Add() = log.Rename("a", "Green Apple");

  ExpectStoppedAt(model, model.ApplyAll(&batch), 2,
                  "inventory.v1.ItemsCheckedIn");
  EXPECT_EQ(CurrentItem(model, "a").quantity_on_hand(), 5);
  EXPECT_EQ(CurrentItem(model, "a").name(), "Apple");
}

TEST(InventoryReadModelTest, TheStopEndsWhenTheEventArrivesWithItsPayload) {
  InventoryReadModel model;
  EventLog log;
  ApplyOk(model, log.Create("a", "SKU-A", "Apple"));
  const Event checked_in = log.CheckIn("a", 7);
  Event without_payload = checked_in;
  without_payload.clear_payload();
  ExpectStoppedAt(model, model.Apply(without_payload), 1,
                  "inventory.v1.ItemsCheckedIn");
  // A command-service upgraded meanwhile sends it decoded.
  ApplyOk(model, checked_in);
  EXPECT_FALSE(model.stop().has_value());
  EXPECT_EQ(model.position(), 2);
  EXPECT_EQ(CurrentItem(model, "a").quantity_on_hand(), 7);
}

TEST(InventoryReadModelTest, ItemEventsThatDoNotFollowTheItemStopTheModel) {
  EventLog log;
  const Event created = log.Create("a", "SKU-A", "Apple");
  const Event checked_in = log.CheckIn("a", 2);
  {
    SCOPED_TRACE("an item never created");
    InventoryReadModel model;
    EventLog other;
    ExpectStoppedAt(model, model.Apply(other.CheckIn("ghost", 3)), 0,
                    "inventory.v1.ItemsCheckedIn");
    EXPECT_THAT(model.GetItem("ghost"), StatusIs(absl::StatusCode::kNotFound));
    EXPECT_EQ(model.GetStats(10).total_quantity_on_hand, 0);
  }
  {
    SCOPED_TRACE("created twice");
    InventoryReadModel model;
    ApplyOk(model, created);
    ApplyOk(model, checked_in);
    Event again = log.Create("a", "SKU-Z", "Zucchini");
    ExpectStoppedAt(model, model.Apply(again), 2, "inventory.v1.ItemCreated");
    EXPECT_EQ(CurrentItem(model, "a").sku(), "SKU-A");
  }
  {
    SCOPED_TRACE("a stream version that does not increase");
    InventoryReadModel model;
    ApplyOk(model, created);
    ApplyOk(model, checked_in);
    Event stale = log.Rename("a", "Old");
    stale.set_global_position(3);
    stale.set_stream_version(2);
    ExpectStoppedAt(model, model.Apply(stale), 2, "inventory.v1.ItemRenamed");
    EXPECT_EQ(CurrentItem(model, "a").name(), "Apple");
  }
}

TEST(InventoryReadModelTest, ResetForgetsEverything) {
  InventoryReadModel model;
  EventLog log;
  ApplyOk(model, log.Create("a", "SKU-A", "Apple"));
  ApplyOk(model, log.CheckIn("a", 3));
  ExpectStoppedAt(model, model.Apply(log.Unknown()), 2,
                  "inventory.v1.SomethingNew");
  EXPECT_EQ(model.generation(), 0);

  model.Reset();
  EXPECT_EQ(model.generation(), 1);
  EXPECT_EQ(model.position(), 0);
  EXPECT_FALSE(model.stop().has_value());
  EXPECT_THAT(model.GetItem("a"), StatusIs(absl::StatusCode::kNotFound));
  const InventoryStats stats = model.GetStats(10);
  EXPECT_EQ(stats.item_count, 0);
  EXPECT_EQ(stats.active_item_count, 0);
  EXPECT_EQ(stats.total_quantity_on_hand, 0);
  // A different log from position 1.
  EventLog other;
  ApplyOk(model, other.Create("b", "SKU-B", "Banana"));
  EXPECT_EQ(model.position(), 1);
  EXPECT_EQ(CurrentItem(model, "b").version(), 1);
  EXPECT_EQ(model.GetStats(10).item_count, 1);
}

// --- GetItem as_of_version ---------------------------------------------------

TEST(InventoryReadModelTest, GetItemAsOfEveryVersion) {
  InventoryReadModel model;
  EventLog log;
  std::vector<Item> snapshots;  // snapshots[v - 1]: the item at version v
  auto apply = [&](const Event& event) {
    ApplyOk(model, event);
    if (event.stream_id() == "item-a") {
      snapshots.push_back(CurrentItem(model, "a"));
    }
  };
  apply(log.Create("a", "SKU-A", "Apple"));
  apply(log.Create("b", "SKU-B", "Banana"));
  apply(log.CheckIn("a", 10));
  apply(log.Rename("a", "Red Apple"));
  apply(log.CheckIn("b", 3));
  apply(log.Remove("a", 4));
  apply(log.Deactivate("a"));
  apply(log.Reactivate("a"));
  apply(log.CheckIn("a", 1));
  ASSERT_EQ(snapshots.size(), 7u);

  for (int64_t version = 1; version <= 7; ++version) {
    SCOPED_TRACE(absl::StrCat("version ", version));
    absl::StatusOr<ItemAtPosition> found = model.GetItem("a", version);
    ASSERT_THAT(found, IsOk());
    EXPECT_TRUE(MessageDifferencer::Equals(found->item, snapshots[version - 1]))
        << found->item.DebugString() << " vs "
        << snapshots[version - 1].DebugString();
    EXPECT_EQ(found->item.version(), version);
    // The position is the model's, not the version's.
    EXPECT_EQ(found->position, model.position());
  }
  EXPECT_TRUE(MessageDifferencer::Equals(model.GetItem("a", 7)->item,
                                         CurrentItem(model, "a")));

  for (int64_t bad : {int64_t{0}, int64_t{-1}, int64_t{8}, int64_t{1000}}) {
    EXPECT_THAT(model.GetItem("a", bad), StatusIs(absl::StatusCode::kNotFound))
        << bad;
  }
  EXPECT_THAT(model.GetItem("b", 3), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_EQ(model.GetItem("b", 2)->item.quantity_on_hand(), 3);
  EXPECT_THAT(model.GetItem("nope", 1), StatusIs(absl::StatusCode::kNotFound));
}

// Versions are the events' own stream versions, never places in the item's
// history: in a stream whose versions have gaps (here 1, 2, 5, 9) the two
// differ, and as_of_version 3 must not answer the state after version 5.
TEST(InventoryReadModelTest, VersionsComeFromTheEventsNotFromTheirOrder) {
  InventoryReadModel model;
  EventLog log;
  auto with_version = [](Event event, int64_t version) {
    event.set_stream_version(version);
    return event;
  };
  ApplyOk(model, log.Create("a", "SKU-A", "Apple"));
  ApplyOk(model, with_version(log.CheckIn("a", 10), 2));
  ApplyOk(model, with_version(log.Rename("a", "Red Apple"), 5));
  ApplyOk(model, with_version(log.Remove("a", 4), 9));
  EXPECT_EQ(CurrentItem(model, "a").version(), 9);

  absl::StatusOr<ItemAtPosition> at5 = model.GetItem("a", 5);
  ASSERT_THAT(at5, IsOk());
  EXPECT_EQ(at5->item.version(), 5);
  EXPECT_EQ(at5->item.name(), "Red Apple");
  EXPECT_EQ(at5->item.quantity_on_hand(), 10);
  absl::StatusOr<ItemAtPosition> at2 = model.GetItem("a", 2);
  ASSERT_THAT(at2, IsOk());
  EXPECT_EQ(at2->item.version(), 2);
  EXPECT_EQ(at2->item.name(), "Apple");
  EXPECT_EQ(model.GetItem("a", 9)->item.quantity_on_hand(), 6);
  for (int64_t missing : {3, 4, 6, 8, 10}) {
    EXPECT_THAT(model.GetItem("a", missing),
                StatusIs(absl::StatusCode::kNotFound))
        << missing;
  }

  // History pages continue after the last version returned.
  std::vector<int64_t> versions;
  std::string token;
  for (int pages = 0;; ++pages) {
    ASSERT_LT(pages, 10);
    absl::StatusOr<HistoryPage> page = model.GetItemHistory("a", 1, token);
    ASSERT_THAT(page, IsOk());
    ASSERT_EQ(page->events.size(), 1u);
    versions.push_back(page->events[0].stream_version());
    token = page->next_page_token;
    if (token.empty()) break;
  }
  EXPECT_THAT(versions, ElementsAre(1, 2, 5, 9));
}

}  // namespace
}  // namespace inventory::read_model_test
