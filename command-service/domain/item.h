// The Item aggregate: the consistency boundary for one inventory item.
//
// The aggregate is two pure functions and no I/O:
//   Decide(state, command) -> events   which rules allow the command;
//   Evolve(state, event)   -> state    what a recorded fact means.
// The state of an item is the left fold of Evolve over its events, starting
// from ItemState{} (this is replay). The command handler loads the events,
// folds them, calls Decide, and appends what it returns.
#ifndef INVENTORY_COMMAND_SERVICE_DOMAIN_ITEM_H_
#define INVENTORY_COMMAND_SERVICE_DOMAIN_ITEM_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "command-service/domain/item_commands.h"
#include "command-service/domain/item_events.h"

namespace inventory {

// What Decide needs to know about an item; nothing more.
struct ItemState {
  bool exists = false;
  std::string sku;
  std::string name;
  int64_t quantity_on_hand = 0;
  bool active = false;
  // Number of events folded in: the stream version (0 = no item).
  int64_t version = 0;
};

// Decides the events that `command` records on an item in `state`. Each
// refusal carries its reason (error_reason.h):
//   OK                   one event per accepted command;
//   NOT_FOUND            ITEM_NOT_FOUND: the item does not exist (any
//                        command but create);
//   ALREADY_EXISTS       ITEM_ALREADY_EXISTS: CreateItem on an existing item;
//   FAILED_PRECONDITION  a business rule: ITEM_INACTIVE (rename, check-in,
//                        remove, deactivate of a deactivated item),
//                        ITEM_ALREADY_ACTIVE (reactivate), SAME_NAME
//                        (rename), INSUFFICIENT_STOCK (remove; metadata
//                        requested_quantity, quantity_on_hand) or
//                        QUANTITY_OVERFLOW (check-in: stock would pass
//                        INT64_MAX).
// The commands' value objects already guarantee well-formed input.
absl::StatusOr<std::vector<ItemEvent>> Decide(const ItemState& state,
                                              const ItemCommand& command);

// Applies one recorded event. Total: never fails, never overflows (stock is
// clamped to [0, INT64_MAX] should a stored event ever say otherwise), and
// increments version.
ItemState Evolve(ItemState state, const ItemEvent& event);

// Folds `events` into `state` in order.
ItemState Replay(ItemState state, const std::vector<ItemEvent>& events);

}  // namespace inventory

#endif  // INVENTORY_COMMAND_SERVICE_DOMAIN_ITEM_H_
