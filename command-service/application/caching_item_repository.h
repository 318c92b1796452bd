// CachingItemRepository: an ItemRepository that keeps the last known state
// of recently used items in memory, in front of another repository, so that
// a command usually decides without reading its item's events again.
//
// A cached state may be stale: another command-service replica (or any
// other writer) can append to the item after it was cached. That is safe
// because the cache only ever speeds up the way to an answer, never decides
// one by itself (see ItemCommandHandler::Handle): Load() marks a cached
// state as not fresh, so a refusal decided on it is confirmed on a
// LoadFresh() first, and a save decided on it carries its stale version as
// the expected version, which the store refuses.
//
// What is cached, and when:
//   Load()       a miss loads from the inner repository and caches the
//                result; a hit returns the cached state (fresh == false);
//   LoadFresh()  always asks the inner repository, and caches the result;
//   Save()       caches the saved state (base + events) when the store
//                confirms its version; drops the item's entry on a conflict
//                (ABORTED) or when the saved version is not base + events.
// An entry is never replaced by an earlier version (commands on one item
// finish in any order). At most `capacity` items are kept, evicting the
// least recently used; capacity 0 caches nothing.
#ifndef INVENTORY_COMMAND_SERVICE_APPLICATION_CACHING_ITEM_REPOSITORY_H_
#define INVENTORY_COMMAND_SERVICE_APPLICATION_CACHING_ITEM_REPOSITORY_H_

#include <cstddef>
#include <list>
#include <optional>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "command-service/application/item_repository.h"

namespace inventory {

// Thread-safe if the inner repository is.
class CachingItemRepository final : public ItemRepository {
 public:
  // `inner` must outlive this repository.
  CachingItemRepository(ItemRepository* inner, size_t capacity);
  CachingItemRepository(const CachingItemRepository&) = delete;
  CachingItemRepository& operator=(const CachingItemRepository&) = delete;

  absl::StatusOr<LoadedItem> Load(const ItemId& item_id) override;
  absl::StatusOr<LoadedItem> LoadFresh(const ItemId& item_id,
                                       ItemState known) override;
  absl::StatusOr<AppendResult> Save(const ItemId& item_id,
                                    const ItemState& base,
                                    const ItemChanges& changes) override;
  // Not cached: asks the inner repository.
  absl::StatusOr<std::optional<RecordedRequest>> FindSave(
      absl::string_view request_id) override;

  // The number of items cached now.
  size_t cached_items();

 private:
  struct Entry {
    ItemState state;
    std::list<std::string>::iterator recency;
  };

  std::optional<ItemState> Get(const std::string& item_id);
  // Caches `state` unless the entry already holds a later version.
  void Put(const std::string& item_id, const ItemState& state);
  void Erase(const std::string& item_id);

  ItemRepository* const inner_;
  const size_t capacity_;
  absl::Mutex mu_;
  absl::flat_hash_map<std::string, Entry> entries_ ABSL_GUARDED_BY(mu_);
  // Item ids, most recently used first.
  std::list<std::string> recency_ ABSL_GUARDED_BY(mu_);
};

}  // namespace inventory

#endif  // INVENTORY_COMMAND_SERVICE_APPLICATION_CACHING_ITEM_REPOSITORY_H_
