// The work of each subcommand: build the request from the invocation, make
// the call through InventoryClient, print the answer (response_text.h).
#ifndef INVENTORY_EXAMPLES_ITEMCTL_SUBCOMMANDS_H_
#define INVENTORY_EXAMPLES_ITEMCTL_SUBCOMMANDS_H_

#include <ostream>

#include "absl/status/status.h"
#include "examples/itemctl/inventory_client.h"
#include "examples/itemctl/invocation.h"

namespace inventory::itemctl {

// Runs `invocation` (any subcommand but help, quit and exit) and writes
// its output to `out`. Returns OK on success, a usage error for a bad
// argument value, or the service's error. `watch` and `events --follow`
// run until Ctrl-C (which is OK) or until the stream fails.
absl::Status RunSubcommand(const Invocation& invocation,
                           InventoryClient& client, std::ostream& out);

}  // namespace inventory::itemctl

#endif  // INVENTORY_EXAMPLES_ITEMCTL_SUBCOMMANDS_H_
