#include "command-service/application/event_store_item_repository.h"

#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "command-service/application/item_event_codec.h"
#include "common/base/status_matchers.h"
#include "common/eventstore/mock_event_store.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace inventory {
namespace {

using ::testing::_;
using ::testing::Eq;
using ::testing::Field;
using ::testing::HasSubstr;
using ::testing::Optional;
using ::testing::Return;

const ItemId kItem = ItemId::Create("a-1").value();

ItemChanges Changes(std::vector<ItemEvent> events,
                    std::string request_id = "") {
  ItemChanges changes;
  changes.events = std::move(events);
  changes.metadata = {request_id, "corr", "cause"};
  changes.fingerprint = "fingerprint of " + request_id;
  return changes;
}

ItemEvent Created() { return ItemCreated{"a-1", "SKU-1", "Widget"}; }
ItemEvent CheckedIn(int64_t quantity) {
  return ItemsCheckedIn{"a-1", quantity};
}

class EventStoreItemRepositoryTest : public testing::Test {
 protected:
  // Saves `events` on the item as it is now.
  void SaveNow(std::vector<ItemEvent> events) {
    auto loaded = repository_.Load(kItem);
    ASSERT_THAT(loaded, IsOk());
    ASSERT_THAT(repository_.Save(kItem, loaded->state, Changes(events)),
                IsOk());
  }

  NiceMockEventStore store_;
  EventStoreItemRepository repository_{&store_};
};

TEST_F(EventStoreItemRepositoryTest, AbsentItemLoadsAsNoItemAtVersionZero) {
  auto loaded = repository_.Load(kItem);
  ASSERT_THAT(loaded, IsOk());
  EXPECT_FALSE(loaded->state.exists);
  EXPECT_EQ(loaded->state.version, 0);
  EXPECT_TRUE(loaded->fresh);
}

TEST_F(EventStoreItemRepositoryTest, LoadFoldsEveryEventIntoState) {
  SaveNow({Created()});
  SaveNow({CheckedIn(3)});
  SaveNow({CheckedIn(4), ItemsRemoved{"a-1", 2}});
  auto loaded = repository_.Load(kItem);
  ASSERT_THAT(loaded, IsOk());
  EXPECT_TRUE(loaded->fresh);
  EXPECT_TRUE(loaded->state.exists);
  EXPECT_EQ(loaded->state.sku, "SKU-1");
  EXPECT_EQ(loaded->state.quantity_on_hand, 5);
  EXPECT_EQ(loaded->state.version, 4);
}

TEST_F(EventStoreItemRepositoryTest, LoadReadsTheItemsStreamPageByPage) {
  SaveNow({Created()});
  SaveNow(std::vector<ItemEvent>(1200, CheckedIn(1)));
  // 512 + 512 + 177 events.
  EXPECT_CALL(store_, ReadStream(Eq("item-a-1"), _, 512)).Times(3);
  auto loaded = repository_.Load(kItem);
  ASSERT_THAT(loaded, IsOk());
  EXPECT_EQ(loaded->state.version, 1201);
  EXPECT_EQ(loaded->state.quantity_on_hand, 1200);
}

TEST_F(EventStoreItemRepositoryTest, LoadFreshReadsOnlyEventsAfterTheKnown) {
  SaveNow({Created()});
  auto known = repository_.Load(kItem);
  ASSERT_THAT(known, IsOk());
  SaveNow({CheckedIn(7)});
  EXPECT_CALL(store_, ReadStream(Eq("item-a-1"), 2, _)).Times(1);
  auto fresh = repository_.LoadFresh(kItem, known->state);
  ASSERT_THAT(fresh, IsOk());
  EXPECT_TRUE(fresh->fresh);
  EXPECT_EQ(fresh->state.version, 2);
  EXPECT_EQ(fresh->state.quantity_on_hand, 7);
}

TEST_F(EventStoreItemRepositoryTest, SaveAppendsWithTheBaseVersionExpected) {
  SaveNow({Created()});
  auto loaded = repository_.Load(kItem);
  ASSERT_THAT(loaded, IsOk());
  EXPECT_CALL(store_, Append(_)).WillOnce([this](const AppendRequest& request) {
    EXPECT_EQ(request.stream_id, "item-a-1");
    EXPECT_EQ(request.expected_version.value(), 1);
    EXPECT_FALSE(request.expected_version.is_any());
    EXPECT_EQ(request.request_id, "req-1");
    EXPECT_EQ(request.request_fingerprint, "fingerprint of req-1");
    return store_.real().Append(request);
  });
  auto saved = repository_.Save(kItem, loaded->state,
                                Changes({CheckedIn(2), CheckedIn(3)}, "req-1"));
  ASSERT_THAT(saved, IsOk());
  EXPECT_EQ(saved->stream_version, 3);
  EXPECT_FALSE(saved->replayed);

  auto events = store_.real().ReadStream("item-a-1", 2, 10);
  ASSERT_THAT(events, IsOk());
  ASSERT_EQ(events->size(), 2u);
  EXPECT_EQ((*events)[1].event_type, "inventory.v1.ItemsCheckedIn");
  EXPECT_EQ((*events)[1].metadata, (EventMetadata{"req-1", "corr", "cause"}));
  auto event = ItemEventFromRecorded((*events)[1]);
  ASSERT_THAT(event, IsOk());
  ASSERT_TRUE(std::holds_alternative<ItemsCheckedIn>(*event));
  EXPECT_EQ(std::get<ItemsCheckedIn>(*event).quantity, 3);
}

TEST_F(EventStoreItemRepositoryTest, SaveOnAStaleVersionIsAVersionConflict) {
  auto before = repository_.Load(kItem);
  ASSERT_THAT(before, IsOk());
  SaveNow({Created()});
  auto saved = repository_.Save(kItem, before->state, Changes({Created()}));
  EXPECT_THAT(saved,
              StatusIs(absl::StatusCode::kAborted, HasSubstr("version 1")));
  EXPECT_THAT(saved, HasReason("VERSION_CONFLICT"));
  EXPECT_EQ(*store_.real().HeadPosition(), 1);
}

TEST_F(EventStoreItemRepositoryTest, RepeatedSaveIsReplayedAndFound) {
  const ItemState none;
  auto first = repository_.Save(kItem, none, Changes({Created()}, "req-1"));
  ASSERT_THAT(first, IsOk());
  auto again = repository_.Save(kItem, none, Changes({Created()}, "req-1"));
  ASSERT_THAT(again, IsOk());
  EXPECT_TRUE(again->replayed);
  EXPECT_EQ(again->global_position, first->global_position);

  EXPECT_THAT(repository_.FindSave("req-1"),
              IsOkAndHolds(Optional(Field(&RecordedRequest::fingerprint,
                                          "fingerprint of req-1"))));
  EXPECT_THAT(repository_.FindSave("req-2"), IsOkAndHolds(Eq(std::nullopt)));
}

TEST_F(EventStoreItemRepositoryTest, UndecodableEventIsDataLoss) {
  AppendRequest corrupt;
  corrupt.stream_id = "item-a-1";
  corrupt.events.push_back({"inventory.v1.ItemTeleported", "{}", {}});
  ASSERT_THAT(store_.real().Append(corrupt), IsOk());
  EXPECT_THAT(repository_.Load(kItem), StatusIs(absl::StatusCode::kDataLoss));
}

TEST_F(EventStoreItemRepositoryTest, StoreErrorsPassThrough) {
  EXPECT_CALL(store_, ReadStream(_, _, _))
      .WillOnce(Return(absl::UnavailableError("database unreachable")));
  EXPECT_THAT(repository_.Load(kItem),
              StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_CALL(store_, Append(_))
      .WillOnce(Return(absl::UnavailableError("database unreachable")));
  EXPECT_THAT(repository_.Save(kItem, ItemState(), Changes({Created()})),
              StatusIs(absl::StatusCode::kUnavailable));
}

}  // namespace
}  // namespace inventory
