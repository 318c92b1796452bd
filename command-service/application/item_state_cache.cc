#include "command-service/application/item_state_cache.h"

namespace inventory {

ItemStateCache::ItemStateCache(size_t capacity) : capacity_(capacity) {}

std::optional<ItemState> ItemStateCache::Get(const std::string& item_id) {
  absl::MutexLock lock(&mu_);
  auto it = entries_.find(item_id);
  if (it == entries_.end()) return std::nullopt;
  recency_.splice(recency_.begin(), recency_, it->second.recency);
  return it->second.state;
}

void ItemStateCache::Put(const std::string& item_id, const ItemState& state) {
  if (capacity_ == 0) return;
  absl::MutexLock lock(&mu_);
  auto it = entries_.find(item_id);
  if (it != entries_.end()) {
    if (it->second.state.version <= state.version) it->second.state = state;
    recency_.splice(recency_.begin(), recency_, it->second.recency);
    return;
  }
  if (entries_.size() >= capacity_) {
    entries_.erase(recency_.back());
    recency_.pop_back();
  }
  recency_.push_front(item_id);
  entries_.emplace(item_id, Entry{state, recency_.begin()});
}

void ItemStateCache::Erase(const std::string& item_id) {
  absl::MutexLock lock(&mu_);
  auto it = entries_.find(item_id);
  if (it == entries_.end()) return;
  recency_.erase(it->second.recency);
  entries_.erase(it);
}

size_t ItemStateCache::size() {
  absl::MutexLock lock(&mu_);
  return entries_.size();
}

}  // namespace inventory
