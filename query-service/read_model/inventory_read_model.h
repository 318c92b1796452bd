// InventoryReadModel: the read side's in-memory views of the inventory,
// built by applying the event log in order.
//
// Views kept up to date on every event:
//   item details  item_id -> inventory.v1.Item (ordered by item_id, which
//                 gives ListItems its stable order and keyset paging);
//   item history  item_id -> its events, oldest first (GetItemHistory, and
//                 GetItem as_of_version by folding a prefix of them);
//   stats         item count, active count, total units on hand, and the
//                 active items by units on hand (LowStockIndex), all
//                 updated as each event is applied, so that GetStats never
//                 visits every item.
//
// Thread-safe: one writer (the subscriber) and any number of readers. An
// event is applied under the write lock, so readers never observe half of
// it; every answer carries the position it reflects.
//
// The model is always the fold of a prefix of the log: it never skips an
// event. An event it cannot project (no payload: a type this build does
// not know, or one the command-service could not decode; an item event
// that does not follow its item's history) is refused, and the model stays
// at the position before it, "stopped" (stop()), until that event is
// delivered in a form it can project or the model is Reset().
#ifndef INVENTORY_QUERY_SERVICE_READ_MODEL_INVENTORY_READ_MODEL_H_
#define INVENTORY_QUERY_SERVICE_READ_MODEL_INVENTORY_READ_MODEL_H_

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "inventory/v1/events.pb.h"
#include "inventory/v1/query_service.pb.h"
#include "query-service/read_model/low_stock_index.h"

namespace inventory {

struct ItemFilter {
  std::optional<bool> active;
  // The name must contain this text, ignoring ASCII case: the letters A-Z
  // match a-z, and every other byte (including every byte of a non-ASCII
  // UTF-8 character, so "Ü" does not match "ü") only matches itself.
  std::string name_contains;
  std::string sku_prefix;  // byte for byte, case-sensitive
};

struct ItemPage {
  // At most page_size; fewer (even none) when the scan limit ended the
  // call before the page was full.
  std::vector<inventory::v1::Item> items;
  std::string next_page_token;  // empty on the last page
  int64_t position = 0;
  // Items this call checked against the filter (at most the scan limit).
  size_t items_scanned = 0;
};

struct HistoryPage {
  std::vector<inventory::v1::Event> events;
  std::string next_page_token;
  int64_t position = 0;
};

struct InventoryStats {
  int64_t item_count = 0;
  int64_t active_item_count = 0;
  int64_t total_quantity_on_hand = 0;
  int64_t low_stock_item_count = 0;
  std::vector<std::string> low_stock_item_ids;  // first 1000, by item_id
  int64_t position = 0;
  // Index nodes looked at to find low_stock_item_ids: the call's work,
  // which grows with the ids returned and the log of the item count, not
  // with the item count (LowStockIndex).
  int64_t index_nodes_visited = 0;
};

struct ItemAtPosition {
  inventory::v1::Item item;
  int64_t position = 0;
};

// The event the model stopped at (see Apply()).
struct ProjectionStop {
  int64_t global_position = 0;  // of the refused event
  std::string event_type;
  std::string stream_id;
  int64_t stream_version = 0;
  std::string why;  // e.g. "it has no payload (...)"
};

class InventoryReadModel {
 public:
  static constexpr size_t kMaxLowStockIds = 1000;
  // ListItems' default scan limit (see there).
  static constexpr size_t kDefaultListScanLimit = 10000;

  InventoryReadModel() = default;
  InventoryReadModel(const InventoryReadModel&) = delete;
  InventoryReadModel& operator=(const InventoryReadModel&) = delete;

  // Applies one event of the global log. An event at or below position()
  // was applied before and is ignored (OK), which makes re-delivery after
  // a reconnect harmless. An event after position() + 1 would leave a gap:
  // nothing is applied and the result is OUT_OF_RANGE (resubscribe from
  // position()). An event at position() + 1 that cannot be projected (no
  // payload, an item event for an item never created, a second creation,
  // a stream version not above the item's) is FAILED_PRECONDITION naming
  // its position and type: nothing is applied, the position stays, and
  // stop() describes the event until it is applied after all.
  absl::Status Apply(const inventory::v1::Event& event);
  // Applies consecutive events under one lock (readers see all or none of
  // them), taking their contents. Stops at the first error, keeping the
  // events before it.
  absl::Status ApplyAll(
      google::protobuf::RepeatedPtrField<inventory::v1::Event>* events);

  // The global position of the last applied event (the checkpoint).
  int64_t position() const;
  // position() and the event_id of the event there ("" at position 0),
  // read together: a subscriber resumes after them, and the log it
  // resumes from must still hold that event there.
  struct Checkpoint {
    int64_t position = 0;
    std::string event_id;
  };
  Checkpoint checkpoint() const;

  // The event the model is stopped at, or nullopt while it is not stopped.
  std::optional<ProjectionStop> stop() const;

  // Forgets everything: position 0, no items, not stopped, and a new
  // generation(). For a rebuild from the start of a (different) log.
  void Reset();
  // Starts at 0; each Reset() increments it, so that a reader holding on
  // to an item (WatchItem) can tell that the model was rebuilt.
  int64_t generation() const;

  // Blocks until position() >= `min_position`, the model is stopped below
  // it, or `deadline`; returns whether the position was reached.
  bool WaitForPosition(int64_t min_position, absl::Time deadline) const;
  // For tests: blocks until at least `count` calls of WaitForPosition are
  // waiting, or `deadline`; returns whether they were. Counted are the
  // calls that released the lock to wait and have not taken it back: an
  // Apply() that starts after it returned true finds each of them waiting,
  // unless its deadline woke it first.
  bool AwaitPositionWaitersForTesting(int count, absl::Time deadline) const;

  // The item now, or (with `as_of_version`) right after the event whose
  // stream_version is `as_of_version`. NOT_FOUND when there is no such
  // item or no such event of it.
  absl::StatusOr<ItemAtPosition> GetItem(
      const std::string& item_id,
      std::optional<int64_t> as_of_version = std::nullopt) const;

  // Items in item_id order matching `filter`, at most `page_size`, after
  // the page `page_token` ended (empty: from the start). INVALID_ARGUMENT
  // (field page_token) "not a token issued by this service" when the token
  // is not one this service wrote, "was issued for a different query or
  // filter" when it was written for another filter or for a history; also
  // INVALID_ARGUMENT when `page_size` or `scan_limit` is 0.
  //
  // A call checks at most `scan_limit` items against the filter
  // (ItemPage::items_scanned). When it reaches that many before the page is
  // full and items remain, it returns the matches found so far -- possibly
  // none -- with a next_page_token that resumes the scan after the last
  // item checked. So a page may be short or empty while more follow: only
  // an empty next_page_token ends the listing, and following the tokens
  // still yields every matching item once, in item_id order.
  absl::StatusOr<ItemPage> ListItems(
      const ItemFilter& filter, size_t page_size, const std::string& page_token,
      size_t scan_limit = kDefaultListScanLimit) const;

  // The item's events, oldest first, a page at a time (a token holds the
  // stream_version of the last event returned). NOT_FOUND for an unknown
  // item; INVALID_ARGUMENT for a token that is not one this service wrote
  // or that was written for another query (as ListItems).
  absl::StatusOr<HistoryPage> GetItemHistory(
      const std::string& item_id, size_t page_size,
      const std::string& page_token) const;

  // Totals; active items with fewer units than `low_stock_threshold` count
  // as low on stock. Every figure is kept up to date by Apply(); a call
  // costs O(log n) plus about log n per low-stock id returned, never a
  // walk over all items.
  InventoryStats GetStats(int64_t low_stock_threshold) const;

  // Blocks until the item's version exceeds `seen_version` (or it appears,
  // for seen_version 0) or `deadline`; returns the item then, or nullopt on
  // timeout.
  std::optional<ItemAtPosition> WaitForItemChange(const std::string& item_id,
                                                  int64_t seen_version,
                                                  absl::Time deadline) const;

 private:
  struct ItemRecord {
    inventory::v1::Item current;
    // In stream_version order (strictly increasing, see Apply()).
    std::vector<std::shared_ptr<const inventory::v1::Event>> history;
  };

  absl::Status ApplyLocked(inventory::v1::Event&& event)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  mutable absl::Mutex mu_;
  // Calls of WaitForPosition inside it; changed while holding mu_ shared,
  // read by AwaitPositionWaitersForTesting() holding it exclusively.
  mutable std::atomic<int> position_waiters_{0};
  int64_t position_ ABSL_GUARDED_BY(mu_) = 0;
  std::string position_event_id_ ABSL_GUARDED_BY(mu_);
  int64_t generation_ ABSL_GUARDED_BY(mu_) = 0;
  std::optional<ProjectionStop> stop_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, ItemRecord> items_ ABSL_GUARDED_BY(mu_);
  int64_t active_count_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t total_quantity_ ABSL_GUARDED_BY(mu_) = 0;
  // The active items and their units on hand.
  LowStockIndex low_stock_ ABSL_GUARDED_BY(mu_);
};

}  // namespace inventory

#endif  // INVENTORY_QUERY_SERVICE_READ_MODEL_INVENTORY_READ_MODEL_H_
