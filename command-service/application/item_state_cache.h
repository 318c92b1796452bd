// ItemStateCache: the last known state of recently used items, so that a
// command usually decides without reading its item's events again.
//
// An entry may be stale: another command-service replica (or any other
// writer) can append to the item after the entry was stored. That is safe
// because the cache only ever speeds up the way to an answer, never decides
// one by itself (see ItemCommandHandler::Handle): an append made from a
// stale state carries the stale version as its expected version, which the
// store refuses, and a refusal computed from a cached state is confirmed on
// fresh events before it is returned.
#ifndef INVENTORY_COMMAND_SERVICE_APPLICATION_ITEM_STATE_CACHE_H_
#define INVENTORY_COMMAND_SERVICE_APPLICATION_ITEM_STATE_CACHE_H_

#include <cstddef>
#include <list>
#include <optional>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "command-service/domain/item.h"

namespace inventory {

// Thread-safe; holds at most `capacity` items, evicting the least recently
// used. Capacity 0 disables it (Get always misses).
class ItemStateCache {
 public:
  explicit ItemStateCache(size_t capacity);
  ItemStateCache(const ItemStateCache&) = delete;
  ItemStateCache& operator=(const ItemStateCache&) = delete;

  std::optional<ItemState> Get(const std::string& item_id);
  // Stores `state` unless the entry already holds a later version (commands
  // on one item finish in any order).
  void Put(const std::string& item_id, const ItemState& state);
  void Erase(const std::string& item_id);
  size_t size();

 private:
  struct Entry {
    ItemState state;
    std::list<std::string>::iterator recency;
  };

  const size_t capacity_;
  absl::Mutex mu_;
  absl::flat_hash_map<std::string, Entry> entries_ ABSL_GUARDED_BY(mu_);
  // Item ids, most recently used first.
  std::list<std::string> recency_ ABSL_GUARDED_BY(mu_);
};

}  // namespace inventory

#endif  // INVENTORY_COMMAND_SERVICE_APPLICATION_ITEM_STATE_CACHE_H_
