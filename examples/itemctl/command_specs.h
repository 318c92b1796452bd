// The subcommands itemctl knows: their names, argument shapes, options and
// one-line summaries. One table drives argument checking, usage errors and
// `help`, so they cannot disagree.
#ifndef INVENTORY_EXAMPLES_ITEMCTL_COMMAND_SPECS_H_
#define INVENTORY_EXAMPLES_ITEMCTL_COMMAND_SPECS_H_

#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace inventory::itemctl {

// One --option a subcommand accepts.
struct OptionSpec {
  std::string name;         // without dashes, e.g. "expect"
  bool takes_value = true;  // --expect=3 (or --expect 3); false: --follow
};

// One subcommand.
struct CommandSpec {
  std::string name;       // "checkin"
  std::string arguments;  // what follows the name in a synopsis: "<id> <qty>"
  std::string summary;    // one line for `help`
  int positional = 0;     // number of <arguments>
  bool rest = false;      // the last argument takes all remaining words,
                          // joined with spaces (for names)
  bool write = false;     // a command: also takes --expect and --request-id
  std::vector<OptionSpec> options;  // all accepted options
};

// Every subcommand, in the order `help` lists them.
const std::vector<CommandSpec>& AllCommands();

// The subcommand called `name`, or nullptr.
const CommandSpec* FindCommand(absl::string_view name);

// "checkin <id> <qty> [--expect=<version>] [--request-id=<id>]": the whole
// syntax, as usage errors show it.
std::string Synopsis(const CommandSpec& spec);

// The text of `help`: every subcommand with its one-line summary.
std::string HelpText();

}  // namespace inventory::itemctl

#endif  // INVENTORY_EXAMPLES_ITEMCTL_COMMAND_SPECS_H_
