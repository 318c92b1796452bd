// What every write command returns, whichever RPC it was.
#ifndef INVENTORY_EXAMPLES_ITEMCTL_COMMAND_RESULT_H_
#define INVENTORY_EXAMPLES_ITEMCTL_COMMAND_RESULT_H_

#include <cstdint>
#include <string>

namespace inventory::itemctl {

struct CommandResult {
  std::string item_id;
  int64_t version = 0;          // the item's version after the command
  int64_t global_position = 0;  // of the recorded event
  bool replayed = false;        // answered from a repeated request_id
};

}  // namespace inventory::itemctl

#endif  // INVENTORY_EXAMPLES_ITEMCTL_COMMAND_RESULT_H_
