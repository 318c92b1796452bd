// Shell: itemctl's front end. Runs one command given as words (one-shot
// mode) or reads command lines until end of input (interactive mode),
// printing results to `out` and one error line per failure to `err`.
#ifndef INVENTORY_EXAMPLES_ITEMCTL_SHELL_H_
#define INVENTORY_EXAMPLES_ITEMCTL_SHELL_H_

#include <istream>
#include <ostream>
#include <string>
#include <vector>

#include "examples/itemctl/inventory_client.h"

namespace inventory::itemctl {

class Shell {
 public:
  // `client` must outlive the shell.
  Shell(InventoryClient* client, std::ostream& out, std::ostream& err);

  // Runs the command `words` (name first), including help, quit and exit.
  // Returns false when it failed (its error line is printed).
  bool Execute(const std::vector<std::string>& words);

  // Reads lines from `in` and executes each until end of input or quit /
  // exit. Writes `itemctl> ` before each line when `prompt` (for a
  // terminal; piped input gets no prompts, so the output is just the
  // results). Failed commands do not end the loop.
  void RunInteractive(std::istream& in, bool prompt);

 private:
  InventoryClient* client_;
  std::ostream& out_;
  std::ostream& err_;
  bool quit_ = false;
};

}  // namespace inventory::itemctl

#endif  // INVENTORY_EXAMPLES_ITEMCTL_SHELL_H_
