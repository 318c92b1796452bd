#include "command-service/application/caching_item_repository.h"

#include <string>
#include <utility>
#include <vector>

#include "command-service/application/event_store_item_repository.h"
#include "common/base/status_matchers.h"
#include "common/eventstore/mock_event_store.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace inventory {
namespace {

using ::testing::_;
using ::testing::Eq;
using ::testing::Return;

ItemId Id(absl::string_view id) { return ItemId::Create(id).value(); }

ItemChanges Changes(std::vector<ItemEvent> events) {
  ItemChanges changes;
  changes.events = std::move(events);
  return changes;
}

ItemEvent CheckedIn(absl::string_view id, int64_t quantity) {
  return ItemsCheckedIn{std::string(id), quantity};
}

// A CachingItemRepository in front of the store-backed one, over a mock
// store that lets the tests count and script the store's calls.
class CachingItemRepositoryTest : public testing::Test {
 protected:
  // Appends `count` events to the item directly, as another writer would.
  void OtherWriterAppends(absl::string_view id, int count = 1) {
    EventStoreItemRepository other(&store_.real());
    auto loaded = other.Load(Id(id));
    ASSERT_THAT(loaded, IsOk());
    ASSERT_THAT(
        other.Save(Id(id), loaded->state,
                   Changes(std::vector<ItemEvent>(count, CheckedIn(id, 1)))),
        IsOk());
  }
  // Load() of `id` and whether it came from the cache.
  bool Cached(CachingItemRepository& cache, absl::string_view id) {
    auto loaded = cache.Load(Id(id));
    EXPECT_THAT(loaded, IsOk());
    return loaded.ok() && !loaded->fresh;
  }

  NiceMockEventStore store_;
  EventStoreItemRepository store_repository_{&store_};
  CachingItemRepository cache_{&store_repository_, /*capacity=*/4};
};

TEST_F(CachingItemRepositoryTest, MissLoadsFromTheStoreAndHitDoesNotRead) {
  OtherWriterAppends("a", 3);
  EXPECT_CALL(store_, ReadStream(Eq("item-a"), 1, _)).Times(1);
  auto first = cache_.Load(Id("a"));
  ASSERT_THAT(first, IsOk());
  EXPECT_TRUE(first->fresh);
  EXPECT_EQ(first->state.version, 3);
  testing::Mock::VerifyAndClearExpectations(&store_);

  EXPECT_CALL(store_, ReadStream(_, _, _)).Times(0);
  auto second = cache_.Load(Id("a"));
  ASSERT_THAT(second, IsOk());
  EXPECT_FALSE(second->fresh);
  EXPECT_EQ(second->state.version, 3);
  EXPECT_EQ(second->state.quantity_on_hand, 3);
  EXPECT_EQ(cache_.cached_items(), 1u);
}

TEST_F(CachingItemRepositoryTest, AbsentItemIsCachedAsAbsent) {
  auto first = cache_.Load(Id("a"));
  ASSERT_THAT(first, IsOk());
  EXPECT_FALSE(first->state.exists);
  EXPECT_EQ(first->state.version, 0);
  EXPECT_TRUE(Cached(cache_, "a"));
}

TEST_F(CachingItemRepositoryTest, CachedStateMayBeStaleLoadFreshIsNot) {
  ASSERT_THAT(cache_.Load(Id("a")), IsOk());
  OtherWriterAppends("a", 2);
  auto stale = cache_.Load(Id("a"));
  ASSERT_THAT(stale, IsOk());
  EXPECT_FALSE(stale->fresh);
  EXPECT_EQ(stale->state.version, 0);
  // Only the events the cached state lacks are read.
  EXPECT_CALL(store_, ReadStream(Eq("item-a"), 1, _)).Times(1);
  auto fresh = cache_.LoadFresh(Id("a"), stale->state);
  ASSERT_THAT(fresh, IsOk());
  EXPECT_TRUE(fresh->fresh);
  EXPECT_EQ(fresh->state.version, 2);
  // ... and cached.
  auto after = cache_.Load(Id("a"));
  ASSERT_THAT(after, IsOk());
  EXPECT_FALSE(after->fresh);
  EXPECT_EQ(after->state.version, 2);
}

TEST_F(CachingItemRepositoryTest, SaveCachesTheSavedState) {
  auto loaded = cache_.Load(Id("a"));
  ASSERT_THAT(loaded, IsOk());
  ASSERT_THAT(cache_.Save(Id("a"), loaded->state,
                          Changes({CheckedIn("a", 2), CheckedIn("a", 5)})),
              IsOk());
  EXPECT_CALL(store_, ReadStream(_, _, _)).Times(0);
  auto after = cache_.Load(Id("a"));
  ASSERT_THAT(after, IsOk());
  EXPECT_EQ(after->state.version, 2);
  EXPECT_EQ(after->state.quantity_on_hand, 7);
}

TEST_F(CachingItemRepositoryTest, SaveConflictDropsTheEntry) {
  auto loaded = cache_.Load(Id("a"));
  ASSERT_THAT(loaded, IsOk());
  OtherWriterAppends("a");
  auto saved =
      cache_.Save(Id("a"), loaded->state, Changes({CheckedIn("a", 1)}));
  EXPECT_THAT(saved, StatusIs(absl::StatusCode::kAborted));
  EXPECT_THAT(saved, HasReason("VERSION_CONFLICT"));
  EXPECT_EQ(cache_.cached_items(), 0u);
  auto reloaded = cache_.Load(Id("a"));
  ASSERT_THAT(reloaded, IsOk());
  EXPECT_TRUE(reloaded->fresh);
  EXPECT_EQ(reloaded->state.version, 1);
}

TEST_F(CachingItemRepositoryTest, SaveAtAnUnexpectedVersionDropsTheEntry) {
  auto loaded = cache_.Load(Id("a"));
  ASSERT_THAT(loaded, IsOk());
  AppendResult elsewhere;
  elsewhere.stream_version = 9;
  elsewhere.global_position = 9;
  EXPECT_CALL(store_, Append(_)).WillOnce(Return(elsewhere));
  ASSERT_THAT(cache_.Save(Id("a"), loaded->state, Changes({CheckedIn("a", 1)})),
              IsOk());
  EXPECT_EQ(cache_.cached_items(), 0u);
}

TEST_F(CachingItemRepositoryTest, FailedOrReplayedSaveKeepsTheEntry) {
  auto loaded = cache_.Load(Id("a"));
  ASSERT_THAT(loaded, IsOk());
  AppendResult replayed;
  replayed.stream_version = 1;
  replayed.replayed = true;
  EXPECT_CALL(store_, Append(_))
      .WillOnce(Return(absl::UnavailableError("database unreachable")))
      .WillOnce(Return(replayed));
  const ItemChanges changes = Changes({CheckedIn("a", 1)});
  EXPECT_THAT(cache_.Save(Id("a"), loaded->state, changes),
              StatusIs(absl::StatusCode::kUnavailable));
  ASSERT_THAT(cache_.Save(Id("a"), loaded->state, changes), IsOk());
  auto after = cache_.Load(Id("a"));
  ASSERT_THAT(after, IsOk());
  EXPECT_FALSE(after->fresh);
  EXPECT_EQ(after->state.version, 0);
}

// Commands on one item finish in any order: an answer about an earlier
// version never replaces a later one.
TEST_F(CachingItemRepositoryTest, KeepsTheLaterVersion) {
  auto loaded = cache_.Load(Id("a"));
  ASSERT_THAT(loaded, IsOk());
  ASSERT_THAT(cache_.Save(Id("a"), loaded->state,
                          Changes({CheckedIn("a", 1), CheckedIn("a", 1)})),
              IsOk());
  // A fresh load that read the stream before that save committed.
  EXPECT_CALL(store_, ReadStream(_, _, _))
      .WillOnce(Return(std::vector<RecordedEvent>()));
  auto late = cache_.LoadFresh(Id("a"), ItemState());
  ASSERT_THAT(late, IsOk());
  EXPECT_EQ(late->state.version, 0);
  auto cached = cache_.Load(Id("a"));
  ASSERT_THAT(cached, IsOk());
  EXPECT_EQ(cached->state.version, 2);
}

TEST_F(CachingItemRepositoryTest, EvictsTheLeastRecentlyUsed) {
  CachingItemRepository cache(&store_repository_, /*capacity=*/2);
  ASSERT_FALSE(Cached(cache, "a"));
  ASSERT_FALSE(Cached(cache, "b"));
  ASSERT_TRUE(Cached(cache, "a"));  // "b" is now the oldest
  ASSERT_FALSE(Cached(cache, "c"));
  EXPECT_EQ(cache.cached_items(), 2u);
  EXPECT_TRUE(Cached(cache, "a"));
  EXPECT_TRUE(Cached(cache, "c"));
  EXPECT_FALSE(Cached(cache, "b"));
}

TEST_F(CachingItemRepositoryTest, ZeroCapacityCachesNothing) {
  CachingItemRepository disabled(&store_repository_, /*capacity=*/0);
  EXPECT_FALSE(Cached(disabled, "a"));
  EXPECT_FALSE(Cached(disabled, "a"));
  EXPECT_EQ(disabled.cached_items(), 0u);
}

TEST_F(CachingItemRepositoryTest, FindSaveAsksTheStore) {
  ItemChanges changes = Changes({CheckedIn("a", 1)});
  changes.metadata.request_id = "req-1";
  changes.fingerprint = "f";
  ASSERT_THAT(cache_.Save(Id("a"), ItemState(), changes), IsOk());
  EXPECT_CALL(store_, FindRequest(Eq("req-1"))).Times(1);
  auto found = cache_.FindSave("req-1");
  ASSERT_THAT(found, IsOk());
  ASSERT_TRUE(found->has_value());
  EXPECT_EQ((*found)->fingerprint, "f");
}

}  // namespace
}  // namespace inventory
