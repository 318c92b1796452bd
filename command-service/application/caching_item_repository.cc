#include "command-service/application/caching_item_repository.h"

#include <utility>

#include "common/base/status_macros.h"

namespace inventory {

CachingItemRepository::CachingItemRepository(ItemRepository* inner,
                                             size_t capacity)
    : inner_(inner), capacity_(capacity) {}

absl::StatusOr<LoadedItem> CachingItemRepository::Load(const ItemId& item_id) {
  std::optional<ItemState> cached = Get(item_id.value());
  if (cached.has_value()) return LoadedItem{*std::move(cached), false};
  INVENTORY_ASSIGN_OR_RETURN(LoadedItem loaded, inner_->Load(item_id));
  Put(item_id.value(), loaded.state);
  return loaded;
}

absl::StatusOr<LoadedItem> CachingItemRepository::LoadFresh(
    const ItemId& item_id, ItemState known) {
  INVENTORY_ASSIGN_OR_RETURN(LoadedItem loaded,
                             inner_->LoadFresh(item_id, std::move(known)));
  Put(item_id.value(), loaded.state);
  return loaded;
}

absl::StatusOr<AppendResult> CachingItemRepository::Save(
    const ItemId& item_id, const ItemState& base, const ItemChanges& changes) {
  absl::StatusOr<AppendResult> saved = inner_->Save(item_id, base, changes);
  if (!saved.ok()) {
    // A conflict: the cached state, if any, is behind the store.
    if (saved.status().code() == absl::StatusCode::kAborted) {
      Erase(item_id.value());
    }
    return saved;
  }
  if (saved->replayed) return saved;  // nothing was appended
  const ItemState after = Replay(base, changes.events);
  if (after.version == saved->stream_version) {
    Put(item_id.value(), after);
  } else {
    Erase(item_id.value());
  }
  return saved;
}

absl::StatusOr<std::optional<RecordedRequest>> CachingItemRepository::FindSave(
    absl::string_view request_id) {
  return inner_->FindSave(request_id);
}

size_t CachingItemRepository::cached_items() {
  absl::MutexLock lock(&mu_);
  return entries_.size();
}

std::optional<ItemState> CachingItemRepository::Get(
    const std::string& item_id) {
  absl::MutexLock lock(&mu_);
  auto it = entries_.find(item_id);
  if (it == entries_.end()) return std::nullopt;
  recency_.splice(recency_.begin(), recency_, it->second.recency);
  return it->second.state;
}

void CachingItemRepository::Put(const std::string& item_id,
                                const ItemState& state) {
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

void CachingItemRepository::Erase(const std::string& item_id) {
  absl::MutexLock lock(&mu_);
  auto it = entries_.find(item_id);
  if (it == entries_.end()) return;
  recency_.erase(it->second.recency);
  entries_.erase(it);
}

}  // namespace inventory
