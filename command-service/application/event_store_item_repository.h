// EventStoreItemRepository: the ItemRepository that reads and appends an
// item's event stream ("item-<id>", ItemId::StreamId()) in an EventStore.
//
// Load folds the stream with Evolve, decoding each stored event with the
// item event codec (item_event_codec.h); Save encodes the new events the
// same way and appends them with ExpectedVersion::Exact(base.version), so a
// writer that appended in between makes the save fail instead of being
// overwritten. Keeps nothing between calls: every Load is fresh.
#ifndef INVENTORY_COMMAND_SERVICE_APPLICATION_EVENT_STORE_ITEM_REPOSITORY_H_
#define INVENTORY_COMMAND_SERVICE_APPLICATION_EVENT_STORE_ITEM_REPOSITORY_H_

#include <optional>

#include "command-service/application/item_repository.h"
#include "common/eventstore/event_store.h"

namespace inventory {

// Thread-safe if the store is.
class EventStoreItemRepository final : public ItemRepository {
 public:
  // `store` must outlive the repository.
  explicit EventStoreItemRepository(EventStore* store);

  // Reads the whole stream, page by page; always fresh.
  absl::StatusOr<LoadedItem> Load(const ItemId& item_id) override;
  absl::StatusOr<LoadedItem> LoadFresh(const ItemId& item_id,
                                       ItemState known) override;
  absl::StatusOr<AppendResult> Save(const ItemId& item_id,
                                    const ItemState& base,
                                    const ItemChanges& changes) override;
  absl::StatusOr<std::optional<RecordedRequest>> FindSave(
      absl::string_view request_id) override;

 private:
  EventStore* const store_;
};

}  // namespace inventory

#endif  // INVENTORY_COMMAND_SERVICE_APPLICATION_EVENT_STORE_ITEM_REPOSITORY_H_
