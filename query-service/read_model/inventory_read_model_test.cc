// Unit tests of InventoryReadModel: event sequences in, views out.
//
// Covers Apply (order, re-delivery, gaps, events it cannot project, which
// stop it at their position), Reset, item
// details after every event type, temporal GetItem, ListItems (order,
// filters, the name filter against lowering both sides, paging, paging
// while items are added, tokens, the scan limit), GetItemHistory, GetStats
// (against a full scan after every event, and the work it does) and the
// two waits. Nothing waits by sleeping: a wait either is
// released by another thread's Apply or ends at a short deadline.
#include "query-service/read_model/inventory_read_model.h"

#include <algorithm>
#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/base/field_violation.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"
#include "inventory/v1/events.pb.h"
#include "inventory/v1/query_service.pb.h"

namespace inventory {
namespace {

using google::protobuf::util::MessageDifferencer;
using inventory::v1::Event;
using inventory::v1::Item;
using ::testing::ElementsAre;
using ::testing::ElementsAreArray;
using ::testing::IsEmpty;

constexpr int64_t kBaseSeconds = 1700000000;

// Builds the events of a well-formed log: global positions 1, 2, 3, ...,
// stream versions 1, 2, 3, ... per item, recorded_at one second apart.
class EventLog {
 public:
  Event Create(const std::string& id, const std::string& sku,
               const std::string& name) {
    Event event = Next(id);
    event.set_event_type("inventory.v1.ItemCreated");
    event.mutable_item_created()->set_item_id(id);
    event.mutable_item_created()->set_sku(sku);
    event.mutable_item_created()->set_name(name);
    return event;
  }
  Event Rename(const std::string& id, const std::string& name) {
    Event event = Next(id);
    event.set_event_type("inventory.v1.ItemRenamed");
    event.mutable_item_renamed()->set_item_id(id);
    event.mutable_item_renamed()->set_name(name);
    return event;
  }
  Event CheckIn(const std::string& id, int64_t quantity) {
    Event event = Next(id);
    event.set_event_type("inventory.v1.ItemsCheckedIn");
    event.mutable_items_checked_in()->set_item_id(id);
    event.mutable_items_checked_in()->set_quantity(quantity);
    return event;
  }
  Event Remove(const std::string& id, int64_t quantity) {
    Event event = Next(id);
    event.set_event_type("inventory.v1.ItemsRemoved");
    event.mutable_items_removed()->set_item_id(id);
    event.mutable_items_removed()->set_quantity(quantity);
    return event;
  }
  Event Deactivate(const std::string& id) {
    Event event = Next(id);
    event.set_event_type("inventory.v1.ItemDeactivated");
    event.mutable_item_deactivated()->set_item_id(id);
    return event;
  }
  Event Reactivate(const std::string& id) {
    Event event = Next(id);
    event.set_event_type("inventory.v1.ItemReactivated");
    event.mutable_item_reactivated()->set_item_id(id);
    return event;
  }
  // An event of a type this read side does not know (no payload set).
  Event Unknown() {
    Event event;
    event.set_global_position(++position_);
    event.set_stream_id("other-stream");
    event.set_stream_version(1);
    event.set_event_type("inventory.v1.SomethingNew");
    *event.mutable_recorded_at() = RecordedAt(position_);
    return event;
  }

  int64_t position() const { return position_; }

  static google::protobuf::Timestamp RecordedAt(int64_t position) {
    google::protobuf::Timestamp at;
    at.set_seconds(kBaseSeconds + position);
    at.set_nanos(static_cast<int32_t>(position * 1000));
    return at;
  }

 private:
  Event Next(const std::string& id) {
    Event event;
    event.set_global_position(++position_);
    event.set_stream_id("item-" + id);
    event.set_stream_version(++versions_[id]);
    event.set_event_id(absl::StrCat("event-", position_));
    *event.mutable_recorded_at() = RecordedAt(position_);
    event.mutable_metadata()->set_request_id(absl::StrCat("req-", position_));
    return event;
  }

  int64_t position_ = 0;
  std::map<std::string, int64_t> versions_;
};

void ApplyOk(InventoryReadModel& model, const Event& event) {
  const absl::Status status = model.Apply(event);
  ASSERT_TRUE(status.ok()) << status << " applying " << event.DebugString();
}

Item CurrentItem(const InventoryReadModel& model, const std::string& id) {
  absl::StatusOr<ItemAtPosition> found = model.GetItem(id);
  EXPECT_TRUE(found.ok()) << found.status();
  return found.ok() ? found->item : Item();
}

std::vector<std::string> IdsOf(const std::vector<Item>& items) {
  std::vector<std::string> ids;
  for (const Item& item : items) ids.push_back(item.item_id());
  return ids;
}

// Every page of a listing, followed from the first to the last; fails the
// test on an error or an endless listing.
std::vector<std::vector<std::string>> AllPages(const InventoryReadModel& model,
                                               const ItemFilter& filter,
                                               size_t page_size) {
  std::vector<std::vector<std::string>> pages;
  std::string token;
  do {
    absl::StatusOr<ItemPage> page = model.ListItems(filter, page_size, token);
    EXPECT_TRUE(page.ok()) << page.status();
    if (!page.ok() || pages.size() > 10000) break;
    EXPECT_LE(page->items.size(), page_size);
    pages.push_back(IdsOf(page->items));
    token = page->next_page_token;
  } while (!token.empty());
  return pages;
}

std::vector<std::string> Flatten(
    const std::vector<std::vector<std::string>>& pages) {
  std::vector<std::string> all;
  for (const auto& page : pages)
    all.insert(all.end(), page.begin(), page.end());
  return all;
}

std::vector<std::string> ListAll(const InventoryReadModel& model,
                                 const ItemFilter& filter) {
  return Flatten(AllPages(model, filter, 1000));
}

ItemFilter Active(bool active) {
  ItemFilter filter;
  filter.active = active;
  return filter;
}
ItemFilter NameContains(const std::string& text) {
  ItemFilter filter;
  filter.name_contains = text;
  return filter;
}
ItemFilter SkuPrefix(const std::string& prefix) {
  ItemFilter filter;
  filter.sku_prefix = prefix;
  return filter;
}

void ExpectInvalidPageToken(const absl::Status& status) {
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
  const std::optional<FieldViolation> violation = FieldViolationOf(status);
  ASSERT_TRUE(violation.has_value()) << status;
  EXPECT_EQ(violation->field, "page_token");
}

// --- Apply ------------------------------------------------------------------

TEST(InventoryReadModelTest, AnEmptyModelHasNothing) {
  InventoryReadModel model;
  EXPECT_EQ(model.position(), 0);
  EXPECT_EQ(model.GetItem("a").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(model.GetItemHistory("a", 10, "").status().code(),
            absl::StatusCode::kNotFound);
  absl::StatusOr<ItemPage> page = model.ListItems(ItemFilter(), 10, "");
  ASSERT_TRUE(page.ok()) << page.status();
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
  EXPECT_EQ(model.GetItem("zz").status().code(), absl::StatusCode::kNotFound);
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
    EXPECT_EQ(status.code(), absl::StatusCode::kOutOfRange) << status;
  }
  EXPECT_EQ(model.position(), 1);
  const Item item = CurrentItem(model, "a");
  EXPECT_EQ(item.name(), "Apple");
  EXPECT_EQ(item.version(), 1);
  EXPECT_EQ(model.GetItemHistory("a", 100, "")->events.size(), 1u);
  EXPECT_EQ(model.GetItem("b").status().code(), absl::StatusCode::kNotFound);
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
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition) << status;
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
    EXPECT_EQ(model.Apply(*later).code(), absl::StatusCode::kOutOfRange);
  }
  // Re-delivered, it is refused again.
  ExpectStoppedAt(model, model.Apply(unknown), 2, "inventory.v1.SomethingNew");

  EXPECT_EQ(CurrentItem(model, "a").quantity_on_hand(), 3);
  EXPECT_EQ(CurrentItem(model, "a").version(), 2);
  EXPECT_EQ(model.GetItem("b").status().code(), absl::StatusCode::kNotFound);
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
    EXPECT_EQ(model.GetItem("ghost").status().code(),
              absl::StatusCode::kNotFound);
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
  EXPECT_EQ(model.GetItem("a").status().code(), absl::StatusCode::kNotFound);
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
    ASSERT_TRUE(found.ok()) << found.status();
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
    EXPECT_EQ(model.GetItem("a", bad).status().code(),
              absl::StatusCode::kNotFound)
        << bad;
  }
  EXPECT_EQ(model.GetItem("b", 3).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(model.GetItem("b", 2)->item.quantity_on_hand(), 3);
  EXPECT_EQ(model.GetItem("nope", 1).status().code(),
            absl::StatusCode::kNotFound);
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
  ASSERT_TRUE(at5.ok()) << at5.status();
  EXPECT_EQ(at5->item.version(), 5);
  EXPECT_EQ(at5->item.name(), "Red Apple");
  EXPECT_EQ(at5->item.quantity_on_hand(), 10);
  absl::StatusOr<ItemAtPosition> at2 = model.GetItem("a", 2);
  ASSERT_TRUE(at2.ok()) << at2.status();
  EXPECT_EQ(at2->item.version(), 2);
  EXPECT_EQ(at2->item.name(), "Apple");
  EXPECT_EQ(model.GetItem("a", 9)->item.quantity_on_hand(), 6);
  for (int64_t missing : {3, 4, 6, 8, 10}) {
    EXPECT_EQ(model.GetItem("a", missing).status().code(),
              absl::StatusCode::kNotFound)
        << missing;
  }

  // History pages continue after the last version returned.
  std::vector<int64_t> versions;
  std::string token;
  for (int pages = 0;; ++pages) {
    ASSERT_LT(pages, 10);
    absl::StatusOr<HistoryPage> page = model.GetItemHistory("a", 1, token);
    ASSERT_TRUE(page.ok()) << page.status();
    ASSERT_EQ(page->events.size(), 1u);
    versions.push_back(page->events[0].stream_version());
    token = page->next_page_token;
    if (token.empty()) break;
  }
  EXPECT_THAT(versions, ElementsAre(1, 2, 5, 9));
}

// --- ListItems ---------------------------------------------------------------

TEST(InventoryReadModelTest, ListItemsIsOrderedByItemId) {
  InventoryReadModel model;
  EventLog log;
  for (const std::string id : {"m", "b", "item-2", "Z", "item-10", "a", "_x"}) {
    ApplyOk(model, log.Create(id, "SKU-" + std::to_string(id.size()), id));
  }
  // Byte order: uppercase before '_' before lowercase, "item-10" < "item-2".
  EXPECT_THAT(ListAll(model, ItemFilter()),
              ElementsAre("Z", "_x", "a", "b", "item-10", "item-2", "m"));
  absl::StatusOr<ItemPage> page = model.ListItems(ItemFilter(), 100, "");
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(page->position, 7);
  EXPECT_EQ(page->next_page_token, "");
  EXPECT_EQ(page->items[0].sku(), "SKU-1");
  EXPECT_EQ(page->items[0].name(), "Z");
}

// Six items with varied names, SKUs and states, for the filter tests.
void AddFilterFixture(InventoryReadModel& model, EventLog& log) {
  ApplyOk(model, log.Create("i1", "ABC-100", "Blue Widget"));
  ApplyOk(model, log.Create("i2", "ABC-200", "red widget"));
  ApplyOk(model, log.Create("i3", "ABD-300", "Gadget"));
  ApplyOk(model, log.Create("i4", "XYZ-400", "WIDGET deluxe"));
  ApplyOk(model, log.Create("i5", "abc-500", "Sprocket"));
  ApplyOk(model, log.Create("i6", "ABC-600", "Über Widget"));
  ApplyOk(model, log.Deactivate("i2"));
  ApplyOk(model, log.Deactivate("i3"));
  ApplyOk(model, log.Deactivate("i6"));
}

TEST(InventoryReadModelTest, ListItemsFiltersByActive) {
  InventoryReadModel model;
  EventLog log;
  AddFilterFixture(model, log);
  EXPECT_THAT(ListAll(model, ItemFilter()),
              ElementsAre("i1", "i2", "i3", "i4", "i5", "i6"));
  EXPECT_THAT(ListAll(model, Active(true)), ElementsAre("i1", "i4", "i5"));
  EXPECT_THAT(ListAll(model, Active(false)), ElementsAre("i2", "i3", "i6"));

  // Reactivation moves an item back.
  ApplyOk(model, log.Reactivate("i3"));
  EXPECT_THAT(ListAll(model, Active(true)),
              ElementsAre("i1", "i3", "i4", "i5"));
  EXPECT_THAT(ListAll(model, Active(false)), ElementsAre("i2", "i6"));
}

TEST(InventoryReadModelTest, ListItemsFiltersByNameIgnoringAsciiCase) {
  InventoryReadModel model;
  EventLog log;
  AddFilterFixture(model, log);
  EXPECT_THAT(ListAll(model, NameContains("widget")),
              ElementsAre("i1", "i2", "i4", "i6"));
  EXPECT_THAT(ListAll(model, NameContains("WIDGET")),
              ElementsAre("i1", "i2", "i4", "i6"));
  EXPECT_THAT(ListAll(model, NameContains("wIdGeT D")), ElementsAre("i4"));
  EXPECT_THAT(ListAll(model, NameContains("dget")),
              ElementsAre("i1", "i2", "i3", "i4", "i6"));
  EXPECT_THAT(ListAll(model, NameContains("Blue Widget")), ElementsAre("i1"));
  EXPECT_THAT(ListAll(model, NameContains("sprockets")), IsEmpty());
  EXPECT_THAT(ListAll(model, NameContains("")),
              ElementsAre("i1", "i2", "i3", "i4", "i5", "i6"));
  // Non-ASCII letters match byte for byte (case folding is ASCII only).
  EXPECT_THAT(ListAll(model, NameContains("Über")), ElementsAre("i6"));
  EXPECT_THAT(ListAll(model, NameContains("über")), IsEmpty());

  // A rename moves an item into and out of the filter.
  ApplyOk(model, log.Rename("i5", "Sprocket widget"));
  ApplyOk(model, log.Rename("i1", "Blue Thing"));
  EXPECT_THAT(ListAll(model, NameContains("Widget")),
              ElementsAre("i2", "i4", "i5", "i6"));
}

TEST(InventoryReadModelTest, ListItemsFiltersBySkuPrefix) {
  InventoryReadModel model;
  EventLog log;
  AddFilterFixture(model, log);
  EXPECT_THAT(ListAll(model, SkuPrefix("ABC")), ElementsAre("i1", "i2", "i6"));
  EXPECT_THAT(ListAll(model, SkuPrefix("AB")),
              ElementsAre("i1", "i2", "i3", "i6"));
  EXPECT_THAT(ListAll(model, SkuPrefix("ABC-2")), ElementsAre("i2"));
  EXPECT_THAT(ListAll(model, SkuPrefix("ABC-200")), ElementsAre("i2"));
  EXPECT_THAT(ListAll(model, SkuPrefix("ABC-2000")), IsEmpty());
  // A prefix, not a substring, and case-sensitive.
  EXPECT_THAT(ListAll(model, SkuPrefix("100")), IsEmpty());
  EXPECT_THAT(ListAll(model, SkuPrefix("abc")), ElementsAre("i5"));
  EXPECT_THAT(ListAll(model, SkuPrefix("")),
              ElementsAre("i1", "i2", "i3", "i4", "i5", "i6"));
}

TEST(InventoryReadModelTest, ListItemsCombinesFilters) {
  InventoryReadModel model;
  EventLog log;
  AddFilterFixture(model, log);
  ItemFilter filter;
  filter.active = true;
  filter.name_contains = "widget";
  EXPECT_THAT(ListAll(model, filter), ElementsAre("i1", "i4"));
  filter.sku_prefix = "ABC";
  EXPECT_THAT(ListAll(model, filter), ElementsAre("i1"));
  filter.active = false;
  EXPECT_THAT(ListAll(model, filter), ElementsAre("i2", "i6"));
  filter.name_contains = "RED";
  EXPECT_THAT(ListAll(model, filter), ElementsAre("i2"));
  filter.active.reset();
  filter.name_contains = "";
  filter.sku_prefix = "AB";
  EXPECT_THAT(ListAll(model, filter), ElementsAre("i1", "i2", "i3", "i6"));
  filter.name_contains = "gadget";
  EXPECT_THAT(ListAll(model, filter), ElementsAre("i3"));
  filter.active = true;
  EXPECT_THAT(ListAll(model, filter), IsEmpty());
}

TEST(InventoryReadModelTest, ListItemsPagesThroughEveryPageSize) {
  InventoryReadModel model;
  EventLog log;
  std::vector<std::string> ids;
  constexpr int kItems = 13;
  for (int i = 0; i < kItems; ++i) {
    ids.push_back(absl::StrFormat("item-%02d", i));
  }
  // Created out of order.
  for (int i = 0; i < kItems; ++i) {
    const std::string& id = ids[(i * 5) % kItems];
    ApplyOk(model, log.Create(id, "SKU-" + id.substr(5), "Name " + id));
  }
  for (size_t page_size = 1; page_size <= kItems + 2; ++page_size) {
    SCOPED_TRACE(absl::StrCat("page_size ", page_size));
    const auto pages = AllPages(model, ItemFilter(), page_size);
    EXPECT_EQ(pages.size(), (kItems + page_size - 1) / page_size);
    for (size_t i = 0; i + 1 < pages.size(); ++i) {
      EXPECT_EQ(pages[i].size(), page_size);
    }
    EXPECT_THAT(Flatten(pages), ElementsAreArray(ids));
  }
}

TEST(InventoryReadModelTest, ListItemsPagesThroughAFilter) {
  InventoryReadModel model;
  EventLog log;
  std::vector<std::string> active_ids;
  for (int i = 0; i < 20; ++i) {
    const std::string id = absl::StrFormat("item-%02d", i);
    ApplyOk(model, log.Create(id, "SKU-" + id.substr(5), "Name " + id));
    if (i % 3 == 0) {
      ApplyOk(model, log.Deactivate(id));
    } else {
      active_ids.push_back(id);
    }
  }
  for (size_t page_size = 1; page_size <= active_ids.size() + 1; ++page_size) {
    SCOPED_TRACE(absl::StrCat("page_size ", page_size));
    const auto pages = AllPages(model, Active(true), page_size);
    EXPECT_EQ(pages.size(), (active_ids.size() + page_size - 1) / page_size);
    EXPECT_THAT(Flatten(pages), ElementsAreArray(active_ids));
  }
}

TEST(InventoryReadModelTest, PagingWhileItemsAreAddedNeverRepeatsOrSkips) {
  for (size_t page_size = 1; page_size <= 4; ++page_size) {
    SCOPED_TRACE(absl::StrCat("page_size ", page_size));
    InventoryReadModel model;
    EventLog log;
    const std::vector<std::string> initial = {"c", "e", "g", "i",
                                              "k", "m", "o"};
    for (const std::string& id : initial) {
      ApplyOk(model, log.Create(id, "SKU-" + id, "Widget " + id));
    }
    std::vector<std::string> seen;
    std::set<std::string> added_after_cursor;
    std::string token;
    for (int round = 0;; ++round) {
      ASSERT_LT(round, 100) << "the listing does not end";
      absl::StatusOr<ItemPage> page =
          model.ListItems(ItemFilter(), page_size, token);
      ASSERT_TRUE(page.ok()) << page.status();
      ASSERT_LE(page->items.size(), page_size);
      for (const Item& item : page->items) seen.push_back(item.item_id());
      token = page->next_page_token;
      if (token.empty()) break;
      if (round >= 4) continue;  // the listing must end some time
      const std::string cursor = seen.back();
      // Between pages: an item sorted before everything, one right before
      // the cursor, one right after it, and one after everything.
      const std::string before_all = absl::StrCat("a", round);
      const std::string before_cursor = cursor.substr(0, cursor.size() - 1) +
                                        static_cast<char>(cursor.back() - 1) +
                                        absl::StrCat(round);
      const std::string after_cursor = absl::StrCat(cursor, "0", round);
      const std::string after_all = absl::StrCat("z", round);
      for (const std::string& id :
           {before_all, before_cursor, after_cursor, after_all}) {
        ApplyOk(model, log.Create(id, "SKU-X", "Widget " + id));
      }
      added_after_cursor.insert(after_cursor);
      added_after_cursor.insert(after_all);
    }
    // Strictly increasing: nothing twice, order kept across pages.
    EXPECT_TRUE(
        std::adjacent_find(seen.begin(), seen.end(),
                           [](const std::string& a, const std::string& b) {
                             return a >= b;
                           }) == seen.end())
        << absl::StrJoin(seen, ",");
    const std::set<std::string> seen_set(seen.begin(), seen.end());
    EXPECT_EQ(seen_set.size(), seen.size());
    for (const std::string& id : initial) {
      EXPECT_EQ(seen_set.count(id), 1u) << id << " skipped";
    }
    // Keyset paging: items added after the cursor are listed too.
    for (const std::string& id : added_after_cursor) {
      EXPECT_EQ(seen_set.count(id), 1u) << id << " skipped";
    }
  }
}

TEST(InventoryReadModelTest, PagingWithAFilterWhileItemsChangeAndAreAdded) {
  InventoryReadModel model;
  EventLog log;
  for (int i = 0; i < 10; ++i) {
    const std::string id = absl::StrFormat("w%02d", i * 2);
    ApplyOk(model, log.Create(id, "SKU-" + id, "Widget"));
  }
  ItemFilter filter = NameContains("WIDGET");
  std::vector<std::string> seen;
  std::string token;
  for (int round = 0;; ++round) {
    ASSERT_LT(round, 100);
    absl::StatusOr<ItemPage> page = model.ListItems(filter, 3, token);
    ASSERT_TRUE(page.ok()) << page.status();
    for (const Item& item : page->items) seen.push_back(item.item_id());
    token = page->next_page_token;
    if (token.empty()) break;
    // The cursor item leaves the filter; new matching and non-matching
    // items appear on both sides of the cursor.
    ApplyOk(model, log.Rename(seen.back(), "Gizmo"));
    const std::string odd = absl::StrFormat("w%02d", round * 2 + 1);
    ApplyOk(model, log.Create(odd + "a", "SKU-A", "another widget"));
    ApplyOk(model, log.Create(odd + "b", "SKU-B", "not matching"));
    ApplyOk(model, log.Create(absl::StrCat("a", round), "SKU-C", "widget"));
  }
  const std::set<std::string> seen_set(seen.begin(), seen.end());
  EXPECT_EQ(seen_set.size(), seen.size()) << absl::StrJoin(seen, ",");
  EXPECT_TRUE(std::is_sorted(seen.begin(), seen.end()));
  for (int i = 0; i < 10; ++i) {
    EXPECT_EQ(seen_set.count(absl::StrFormat("w%02d", i * 2)), 1u) << i;
  }
  for (const std::string& id : seen) {
    EXPECT_NE(id.back(), 'b') << id << " does not match the filter";
  }
}

TEST(InventoryReadModelTest, APageTokenIsBoundToItsFilter) {
  InventoryReadModel model;
  EventLog log;
  AddFilterFixture(model, log);
  ItemFilter active_widgets = NameContains("widget");
  active_widgets.active = true;
  const std::vector<ItemFilter> filters = {
      ItemFilter(),      Active(true),    Active(false),    NameContains("w"),
      NameContains("W"), SkuPrefix("AB"), SkuPrefix("ABC"), active_widgets,
  };
  for (size_t i = 0; i < filters.size(); ++i) {
    absl::StatusOr<ItemPage> first = model.ListItems(filters[i], 1, "");
    ASSERT_TRUE(first.ok()) << first.status();
    ASSERT_NE(first->next_page_token, "") << i;
    for (size_t j = 0; j < filters.size(); ++j) {
      SCOPED_TRACE(absl::StrCat("token of filter ", i, " used with ", j));
      absl::StatusOr<ItemPage> next =
          model.ListItems(filters[j], 1, first->next_page_token);
      if (i == j) {
        EXPECT_TRUE(next.ok()) << next.status();
      } else {
        ExpectInvalidPageToken(next.status());
      }
    }
  }
}

TEST(InventoryReadModelTest, AGarbagePageTokenIsInvalid) {
  InventoryReadModel model;
  EventLog log;
  AddFilterFixture(model, log);
  absl::StatusOr<ItemPage> items = model.ListItems(ItemFilter(), 1, "");
  ASSERT_TRUE(items.ok());
  ASSERT_NE(items->next_page_token, "");
  // Text that decodes (or not) but was never written by the service: it
  // must not be described as a token of another query.
  for (const std::string& token :
       {std::string("!!!not base64!!!"), std::string("garbage"),
        std::string("a"), absl::WebSafeBase64Escape("items:"),
        absl::WebSafeBase64Escape("hello\nworld"), std::string(1, '\0') + "x",
        items->next_page_token + "="}) {
    SCOPED_TRACE(token);
    for (const absl::Status& status :
         {model.ListItems(ItemFilter(), 10, token).status(),
          model.GetItemHistory("i2", 10, token).status()}) {
      ExpectInvalidPageToken(status);
      EXPECT_EQ(status.message(),
                "page_token: not a token issued by this service");
    }
  }
}

TEST(InventoryReadModelTest, ARealTokenOfAnotherQueryIsSaidToBeOne) {
  InventoryReadModel model;
  EventLog log;
  AddFilterFixture(model, log);
  absl::StatusOr<HistoryPage> history = model.GetItemHistory("i2", 1, "");
  ASSERT_TRUE(history.ok());
  ASSERT_NE(history->next_page_token, "");
  absl::StatusOr<ItemPage> items = model.ListItems(Active(true), 1, "");
  ASSERT_TRUE(items.ok());
  ASSERT_NE(items->next_page_token, "");
  for (const absl::Status& status :
       {model.ListItems(ItemFilter(), 10, history->next_page_token).status(),
        model.ListItems(ItemFilter(), 10, items->next_page_token).status(),
        model.GetItemHistory("i2", 10, items->next_page_token).status(),
        model.GetItemHistory("i3", 10, history->next_page_token).status()}) {
    ExpectInvalidPageToken(status);
    EXPECT_EQ(status.message(),
              "page_token: was issued for a different query or filter");
  }
}

// The answer of the code this search replaced: both sides lowered, then a
// plain substring search.
bool OracleNameMatch(const std::string& name, const std::string& text) {
  return absl::StrContains(absl::AsciiStrToLower(name),
                           absl::AsciiStrToLower(text));
}

// Every string of up to `max_length` pieces drawn from `alphabet`.
std::vector<std::string> AllStrings(const std::vector<std::string>& alphabet,
                                    int max_length) {
  std::vector<std::string> all = {""};
  std::vector<std::string> last = {""};
  for (int length = 1; length <= max_length; ++length) {
    std::vector<std::string> next;
    for (const std::string& prefix : last) {
      for (const std::string& piece : alphabet) next.push_back(prefix + piece);
    }
    all.insert(all.end(), next.begin(), next.end());
    last = std::move(next);
  }
  return all;
}

TEST(InventoryReadModelTest, TheNameFilterMatchesExactlyAsLoweringBothSides) {
  // Pieces chosen for the search's corner cases: repeated prefixes ("aab"
  // in "aaab", "abab" in "ababab"), case pairs, and the two bytes of "Ü"
  // and "ü" (0xC3 0x9C / 0xC3 0xBC), which share their first byte.
  const std::vector<std::string> alphabet = {"a", "A", "b", "\xC3\x9C",
                                             "\xC3\xBC"};
  const std::vector<std::string> names = AllStrings(alphabet, 4);
  InventoryReadModel model;
  EventLog log;
  std::vector<std::string> ids;
  for (size_t i = 0; i < names.size(); ++i) {
    ids.push_back(absl::StrFormat("n%04d", i));
    ApplyOk(model, log.Create(ids.back(), "SKU", names[i]));
  }
  std::vector<std::string> texts = AllStrings({"a", "B", "\xC3\x9C"}, 3);
  for (const std::string extra :
       {"aab", "AAB", "abab", "bab", "\xC3", "\x9C", "\xBC", "aaaab"}) {
    texts.push_back(extra);
  }
  for (const std::string& text : texts) {
    SCOPED_TRACE(absl::CEscape(text));
    std::vector<std::string> expected;
    for (size_t i = 0; i < names.size(); ++i) {
      if (OracleNameMatch(names[i], text)) expected.push_back(ids[i]);
    }
    EXPECT_THAT(ListAll(model, NameContains(text)), ElementsAreArray(expected));
  }
}

// Follows every page of a listing with `scan_limit`, checking each call's
// bounds; returns the ids listed.
std::vector<std::string> ListAllWithScanLimit(const InventoryReadModel& model,
                                              const ItemFilter& filter,
                                              size_t page_size,
                                              size_t scan_limit,
                                              size_t* calls = nullptr) {
  std::vector<std::string> ids;
  std::string token;
  size_t made = 0;
  do {
    absl::StatusOr<ItemPage> page =
        model.ListItems(filter, page_size, token, scan_limit);
    EXPECT_TRUE(page.ok()) << page.status();
    if (!page.ok() || ++made > 100000) break;
    EXPECT_LE(page->items.size(), page_size);
    EXPECT_LE(page->items_scanned, scan_limit);
    for (const Item& item : page->items) ids.push_back(item.item_id());
    token = page->next_page_token;
  } while (!token.empty());
  if (calls != nullptr) *calls = made;
  return ids;
}

// One ListItems call that must succeed (an empty page, with a test failure,
// if it does not).
ItemPage ListOk(const InventoryReadModel& model, const ItemFilter& filter,
                size_t page_size, const std::string& token, size_t scan_limit) {
  absl::StatusOr<ItemPage> page =
      model.ListItems(filter, page_size, token, scan_limit);
  EXPECT_TRUE(page.ok()) << page.status();
  return page.ok() ? *std::move(page) : ItemPage();
}

// What one call of a listing should return.
struct ExpectedPage {
  std::vector<std::string> ids;
  size_t items_scanned = 0;
  bool more = false;  // a next_page_token
};

// Follows a listing call by call, comparing each call with `expected`.
void ExpectPages(const InventoryReadModel& model, const ItemFilter& filter,
                 size_t page_size, size_t scan_limit,
                 const std::vector<ExpectedPage>& expected) {
  std::string token;
  for (size_t call = 0; call < expected.size(); ++call) {
    SCOPED_TRACE(absl::StrCat("call ", call));
    const ItemPage page = ListOk(model, filter, page_size, token, scan_limit);
    EXPECT_THAT(IdsOf(page.items), ElementsAreArray(expected[call].ids));
    EXPECT_EQ(page.items_scanned, expected[call].items_scanned);
    EXPECT_EQ(!page.next_page_token.empty(), expected[call].more);
    token = page.next_page_token;
  }
}

TEST(InventoryReadModelTest, AScanLimitedCallReturnsAnEmptyPageAndResumes) {
  InventoryReadModel model;
  EventLog log;
  constexpr int kItems = 25;
  for (int i = 0; i < kItems; ++i) {
    const std::string id = absl::StrFormat("item-%02d", i);
    ApplyOk(model, log.Create(id, "SKU", i == kItems - 1 ? "The Needle" : "x"));
  }
  const ItemFilter filter = NameContains("needle");
  // Two calls check 10 items each and find nothing; the third checks the
  // last 5 and finds the match.
  ExpectPages(model, filter, 5, 10,
              {{{}, 10, true}, {{}, 10, true}, {{"item-24"}, 5, false}});

  // A token issued at the scan limit is bound to its filter like any other.
  const ItemPage first = ListOk(model, filter, 5, "", 10);
  ExpectInvalidPageToken(
      model.ListItems(NameContains("needles"), 5, first.next_page_token, 10)
          .status());
}

TEST(InventoryReadModelTest, TheDefaultScanLimitBoundsACallOverAManyItemModel) {
  InventoryReadModel model;
  EventLog log;
  constexpr size_t kLimit = InventoryReadModel::kDefaultListScanLimit;
  for (size_t i = 0; i < kLimit + 7; ++i) {
    ApplyOk(model, log.Create(absl::StrFormat("item-%06d", i), "SKU",
                              i == kLimit + 6 ? "needle" : "hay"));
  }
  ExpectPages(model, NameContains("NEEDLE"), 100, kLimit,
              {{{}, kLimit, true},
               {{absl::StrFormat("item-%06d", kLimit + 6)}, 7, false}});
  // The limit is the default one.
  EXPECT_EQ(model.ListItems(NameContains("NEEDLE"), 100, "")->items_scanned,
            kLimit);
}

TEST(InventoryReadModelTest, ScanLimitedPagingListsEveryMatchOnceInOrder) {
  InventoryReadModel model;
  EventLog log;
  constexpr int kItems = 40;
  for (int i = 0; i < kItems; ++i) {
    const std::string id = absl::StrFormat("item-%02d", i);
    // Matches cluster and thin out, so that limits end calls both with a
    // full page and between matches.
    const bool widget = i < 6 || i % 7 == 0 || i == kItems - 1;
    ApplyOk(model, log.Create(id, i % 2 == 0 ? "EVEN" : "ODD",
                              widget ? "Widget" : "Gizmo"));
    if (i % 5 == 0) ApplyOk(model, log.Deactivate(id));
  }
  ItemFilter active_even_widgets = NameContains("widget");
  active_even_widgets.active = true;
  active_even_widgets.sku_prefix = "EVEN";
  for (const ItemFilter& filter :
       {ItemFilter(), NameContains("widget"), NameContains("nothing"),
        Active(false), active_even_widgets}) {
    const std::vector<std::string> expected = ListAll(model, filter);
    for (size_t limit = 1; limit <= 9; ++limit) {
      for (size_t page_size = 1; page_size <= 4; ++page_size) {
        SCOPED_TRACE(absl::StrCat("limit ", limit, ", page_size ", page_size,
                                  ", filter ", filter.name_contains));
        size_t calls = 0;
        EXPECT_THAT(
            ListAllWithScanLimit(model, filter, page_size, limit, &calls),
            ElementsAreArray(expected));
        // Each call but the last moves past at least `limit` items or
        // fills its page, so the listing ends in bounded calls.
        EXPECT_LE(calls, kItems / limit + expected.size() / page_size + 2);
      }
    }
  }
}

TEST(InventoryReadModelTest, AScanLimitOfZeroIsRefused) {
  InventoryReadModel model;
  EXPECT_EQ(model.ListItems(ItemFilter(), 10, "", 0).status().code(),
            absl::StatusCode::kInvalidArgument);
}

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
      ASSERT_TRUE(page.ok()) << page.status();
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
    ASSERT_TRUE(page.ok()) << page.status();
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

  EXPECT_EQ(model.GetItemHistory("nope", 10, "").status().code(),
            absl::StatusCode::kNotFound);
  absl::StatusOr<HistoryPage> first = model.GetItemHistory("a", 1, "");
  ASSERT_TRUE(first.ok());
  ASSERT_NE(first->next_page_token, "");
  // A token of another item, of a listing, or garbage.
  ExpectInvalidPageToken(
      model.GetItemHistory("b", 1, first->next_page_token).status());
  absl::StatusOr<ItemPage> listing = model.ListItems(ItemFilter(), 1, "");
  ASSERT_TRUE(listing.ok());
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
  ASSERT_TRUE(second.ok()) << second.status();
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
    EXPECT_TRUE(page.ok()) << page.status();
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
  ASSERT_TRUE(model.ApplyAll(&batch).ok());
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
}  // namespace inventory
