// The item projection: how one event changes the item view
// (inventory.v1.Item) that the read side serves.
//
// This is the read side's own fold of the event log. It mirrors the write
// side's Evolve() on purpose, but shapes the state for answering queries
// (timestamps, the wire type) rather than for deciding commands; the two
// sides share events, never state.
#ifndef INVENTORY_QUERY_SERVICE_READ_MODEL_ITEM_PROJECTION_H_
#define INVENTORY_QUERY_SERVICE_READ_MODEL_ITEM_PROJECTION_H_

#include <string>

#include "inventory/v1/events.pb.h"
#include "inventory/v1/query_service.pb.h"

namespace inventory {

// The item id an item event is about ("" for an event that is not about an
// item, e.g. one without a payload).
std::string ItemIdOf(const inventory::v1::Event& event);

// Applies `event` to `item` (a default Item for an item not yet seen).
// Sets version and the timestamps from the event's envelope. Stock is
// clamped to [0, INT64_MAX] rather than trusting a corrupt event.
void ApplyToItem(const inventory::v1::Event& event, inventory::v1::Item* item);

}  // namespace inventory

#endif  // INVENTORY_QUERY_SERVICE_READ_MODEL_ITEM_PROJECTION_H_
