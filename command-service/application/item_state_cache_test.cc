#include "command-service/application/item_state_cache.h"

#include "gtest/gtest.h"

namespace inventory {
namespace {

ItemState AtVersion(int64_t version) {
  ItemState state;
  state.exists = true;
  state.version = version;
  return state;
}

TEST(ItemStateCacheTest, ReturnsWhatWasPut) {
  ItemStateCache cache(4);
  EXPECT_FALSE(cache.Get("a").has_value());
  cache.Put("a", AtVersion(3));
  ASSERT_TRUE(cache.Get("a").has_value());
  EXPECT_EQ(cache.Get("a")->version, 3);
}

TEST(ItemStateCacheTest, KeepsTheLaterVersion) {
  ItemStateCache cache(4);
  cache.Put("a", AtVersion(5));
  cache.Put("a", AtVersion(4));
  EXPECT_EQ(cache.Get("a")->version, 5);
  cache.Put("a", AtVersion(6));
  EXPECT_EQ(cache.Get("a")->version, 6);
}

TEST(ItemStateCacheTest, EvictsTheLeastRecentlyUsed) {
  ItemStateCache cache(2);
  cache.Put("a", AtVersion(1));
  cache.Put("b", AtVersion(1));
  ASSERT_TRUE(cache.Get("a").has_value());  // "b" is now the oldest
  cache.Put("c", AtVersion(1));
  EXPECT_EQ(cache.size(), 2u);
  EXPECT_TRUE(cache.Get("a").has_value());
  EXPECT_FALSE(cache.Get("b").has_value());
  EXPECT_TRUE(cache.Get("c").has_value());
}

TEST(ItemStateCacheTest, EraseAndZeroCapacity) {
  ItemStateCache cache(2);
  cache.Put("a", AtVersion(1));
  cache.Erase("a");
  cache.Erase("never-there");
  EXPECT_FALSE(cache.Get("a").has_value());
  ItemStateCache disabled(0);
  disabled.Put("a", AtVersion(1));
  EXPECT_FALSE(disabled.Get("a").has_value());
  EXPECT_EQ(disabled.size(), 0u);
}

}  // namespace
}  // namespace inventory
