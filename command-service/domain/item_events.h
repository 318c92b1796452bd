// The domain events of an item: facts, in the past tense, that never
// change once recorded.
//
// Events hold plain values, not value objects: an event recorded years ago
// under older rules must still load, so events are never re-validated.
#ifndef INVENTORY_COMMAND_SERVICE_DOMAIN_ITEM_EVENTS_H_
#define INVENTORY_COMMAND_SERVICE_DOMAIN_ITEM_EVENTS_H_

#include <cstdint>
#include <string>
#include <variant>

namespace inventory {

struct ItemCreated {
  std::string item_id;
  std::string sku;
  std::string name;
};

struct ItemRenamed {
  std::string item_id;
  std::string name;
};

struct ItemsCheckedIn {
  std::string item_id;
  int64_t quantity = 0;
};

struct ItemsRemoved {
  std::string item_id;
  int64_t quantity = 0;
};

struct ItemDeactivated {
  std::string item_id;
};

struct ItemReactivated {
  std::string item_id;
};

// Every event an item can record. Code that handles it uses std::visit with
// an overload per alternative, so adding an event here breaks the build
// until every handler handles it.
using ItemEvent = std::variant<ItemCreated, ItemRenamed, ItemsCheckedIn,
                               ItemsRemoved, ItemDeactivated, ItemReactivated>;

}  // namespace inventory

#endif  // INVENTORY_COMMAND_SERVICE_DOMAIN_ITEM_EVENTS_H_
