#include "command-service/application/event_store_item_repository.h"

#include <string>
#include <utility>
#include <vector>

#include "command-service/application/item_event_codec.h"
#include "common/base/status_macros.h"

namespace inventory {
namespace {

// Events read per ReadStream() call while loading.
constexpr int64_t kLoadPageSize = 512;

}  // namespace

EventStoreItemRepository::EventStoreItemRepository(EventStore* store)
    : store_(store) {}

absl::StatusOr<LoadedItem> EventStoreItemRepository::Load(
    const ItemId& item_id) {
  return LoadFresh(item_id, ItemState());
}

absl::StatusOr<LoadedItem> EventStoreItemRepository::LoadFresh(
    const ItemId& item_id, ItemState known) {
  const std::string stream_id = item_id.StreamId();
  LoadedItem loaded{std::move(known), /*fresh=*/true};
  ItemState& state = loaded.state;
  for (;;) {
    INVENTORY_ASSIGN_OR_RETURN(
        std::vector<RecordedEvent> page,
        store_->ReadStream(stream_id, state.version + 1, kLoadPageSize));
    for (const RecordedEvent& recorded : page) {
      INVENTORY_ASSIGN_OR_RETURN(ItemEvent event,
                                 ItemEventFromRecorded(recorded));
      state = Evolve(std::move(state), event);
    }
    if (static_cast<int64_t>(page.size()) < kLoadPageSize) return loaded;
  }
}

absl::StatusOr<AppendResult> EventStoreItemRepository::Save(
    const ItemId& item_id, const ItemState& base, const ItemChanges& changes) {
  AppendRequest append;
  append.stream_id = item_id.StreamId();
  append.expected_version = ExpectedVersion::Exact(base.version);
  append.request_id = changes.metadata.request_id;
  append.request_fingerprint = changes.fingerprint;
  for (const ItemEvent& event : changes.events) {
    INVENTORY_ASSIGN_OR_RETURN(EventData data,
                               ToEventData(event, changes.metadata));
    append.events.push_back(std::move(data));
  }
  return store_->Append(append);
}

absl::StatusOr<std::optional<RecordedRequest>>
EventStoreItemRepository::FindSave(absl::string_view request_id) {
  return store_->FindRequest(request_id);
}

}  // namespace inventory
