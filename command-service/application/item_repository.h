// ItemRepository: where the command handler gets an item from and puts its
// new events back. The seam between the pure domain (item.h) and the event
// store (event_store.h):
//   Load  = read the item's events and fold them with Evolve (replay);
//   Save  = append the new events, on condition that the item is still at
//           the version they were decided on (optimistic concurrency).
// Implementations: EventStoreItemRepository (event_store_item_repository.h)
// reads and appends; CachingItemRepository (caching_item_repository.h)
// keeps recently used items in memory in front of another repository.
#ifndef INVENTORY_COMMAND_SERVICE_APPLICATION_ITEM_REPOSITORY_H_
#define INVENTORY_COMMAND_SERVICE_APPLICATION_ITEM_REPOSITORY_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "command-service/domain/item.h"
#include "command-service/domain/item_events.h"
#include "common/api/item_id.h"
#include "common/eventstore/event_store.h"

namespace inventory {

// An item as a repository loaded it.
struct LoadedItem {
  // The fold of the item's events; state.version is the item's version
  // (0 and exists == false for an item without events).
  ItemState state;
  // True: `state` holds every event committed before the load began. False:
  // it came from memory and may lack events another writer appended since;
  // a decision on it is safe to save (Save() refuses a stale version) but a
  // refusal is not final until confirmed on a fresh load.
  bool fresh = true;
};

// New events for one item and what the store records alongside them.
struct ItemChanges {
  std::vector<ItemEvent> events;  // at least one, in order
  // Recorded with every event. metadata.request_id, when not empty, is also
  // the idempotency key of the save (see EventStore::Append()).
  EventMetadata metadata;
  // What the request stands for, recorded with the idempotency key and
  // compared when it repeats (see CommandFingerprint()).
  std::string fingerprint;
};

// Thread-safe: every method may be called from many threads at once.
class ItemRepository {
 public:
  virtual ~ItemRepository() = default;

  // The item's state; LoadedItem::fresh says whether it may be behind the
  // store. DATA_LOSS when a stored event cannot be decoded; the store's
  // errors (e.g. UNAVAILABLE) unchanged.
  virtual absl::StatusOr<LoadedItem> Load(const ItemId& item_id) = 0;

  // Like Load(), but always fresh: read from the store, never from memory.
  // `known`, an earlier state of the same item (ItemState() for none),
  // spares reading the events it already holds: only the events after
  // known.version are read and folded into it.
  virtual absl::StatusOr<LoadedItem> LoadFresh(const ItemId& item_id,
                                               ItemState known) = 0;

  // Appends `changes.events` to the item, atomically, if the item is still
  // at `base.version`, the state the events were decided on. Returns what
  // EventStore::Append() returns, in particular:
  //   OK                 the version and global position of the last event;
  //                      replayed == true when the idempotency key was
  //                      recorded before with the same fingerprint (nothing
  //                      appended; the original result);
  //   ABORTED            VERSION_CONFLICT: the item is no longer at
  //                      base.version; nothing appended;
  //   ALREADY_EXISTS     REQUEST_ID_REUSED: the key was recorded with
  //                      another fingerprint.
  virtual absl::StatusOr<AppendResult> Save(const ItemId& item_id,
                                            const ItemState& base,
                                            const ItemChanges& changes) = 0;

  // The save recorded under the idempotency key `request_id` (its
  // fingerprint and original result), or nullopt when there is none.
  virtual absl::StatusOr<std::optional<RecordedRequest>> FindSave(
      absl::string_view request_id) = 0;
};

}  // namespace inventory

#endif  // INVENTORY_COMMAND_SERVICE_APPLICATION_ITEM_REPOSITORY_H_
