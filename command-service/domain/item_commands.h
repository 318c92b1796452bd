// The commands an item accepts: requests, in the imperative, that the
// aggregate may refuse. Built from value objects, so a command that exists
// is well-formed; whether it is allowed depends on the item's state.
#ifndef INVENTORY_COMMAND_SERVICE_DOMAIN_ITEM_COMMANDS_H_
#define INVENTORY_COMMAND_SERVICE_DOMAIN_ITEM_COMMANDS_H_

#include <variant>

#include "command-service/domain/item_name.h"
#include "command-service/domain/quantity.h"
#include "command-service/domain/sku.h"
#include "common/api/item_id.h"

namespace inventory {

struct CreateItem {
  ItemId item_id;
  Sku sku;
  ItemName name;
};

struct RenameItem {
  ItemId item_id;
  ItemName name;
};

struct CheckInItems {
  ItemId item_id;
  Quantity quantity;
};

struct RemoveItems {
  ItemId item_id;
  Quantity quantity;
};

struct DeactivateItem {
  ItemId item_id;
};

struct ReactivateItem {
  ItemId item_id;
};

using ItemCommand = std::variant<CreateItem, RenameItem, CheckInItems,
                                 RemoveItems, DeactivateItem, ReactivateItem>;

// The item a command is addressed to.
const ItemId& TargetOf(const ItemCommand& command);

}  // namespace inventory

#endif  // INVENTORY_COMMAND_SERVICE_DOMAIN_ITEM_COMMANDS_H_
