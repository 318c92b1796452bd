#include "examples/itemctl/command_specs.h"

#include "absl/strings/str_cat.h"

namespace inventory::itemctl {
namespace {

constexpr absl::string_view kWriteOptions =
    "[--expect=<version>] [--request-id=<id>]";

// Synopses longer than this get their summary on the next line in `help`.
constexpr size_t kHelpColumn = 34;

CommandSpec Write(std::string name, std::string arguments, std::string summary,
                  int positional, bool rest = false) {
  return {std::move(name),
          std::move(arguments),
          std::move(summary),
          positional,
          rest,
          /*write=*/true,
          {{"expect"}, {"request-id"}}};
}

CommandSpec Read(std::string name, std::string arguments, std::string summary,
                 int positional, std::vector<OptionSpec> options = {}) {
  return {std::move(name), std::move(arguments), std::move(summary), positional,
          /*rest=*/false,  /*write=*/false,      std::move(options)};
}

std::vector<CommandSpec> MakeCommands() {
  return {
      Write("create", "<id> <sku> <name...>", "register a new item", 3,
            /*rest=*/true),
      Write("rename", "<id> <name...>", "give an active item a new name", 2,
            /*rest=*/true),
      Write("checkin", "<id> <qty>", "add units to an item's stock", 2),
      Write("remove", "<id> <qty>", "take units from an item's stock", 2),
      Write("deactivate", "<id>", "stop an item's renames and stock movements",
            1),
      Write("reactivate", "<id>", "make a deactivated item active again", 1),
      Read("show", "<id> [--as-of=<version>]",
           "one item, now or as of an earlier version", 1, {{"as-of"}}),
      Read("list",
           "[--active=true|false] [--name=<text>] [--sku=<prefix>] "
           "[--page-size=N]",
           "items as a table (follows every page)", 0,
           {{"active"}, {"name"}, {"sku"}, {"page-size"}}),
      Read("history", "<id>", "an item's events, oldest first", 1),
      Read("stats", "[--low=<threshold>]",
           "totals; --low lists items below a stock level", 0, {{"low"}}),
      Read("watch", "<id>", "print the item at every change, until Ctrl-C", 1),
      Read("events", "[--after=N] [--type=T,...] [--prefix=P] [--follow]",
           "the event log; stops when caught up unless --follow", 0,
           {{"after"}, {"type"}, {"prefix"}, {"follow", false}}),
      Read("help", "", "list the commands", 0),
      Read("quit", "", "leave the interactive shell (also: exit, Ctrl-D)", 0),
      Read("exit", "", "leave the interactive shell", 0),
  };
}

}  // namespace

const std::vector<CommandSpec>& AllCommands() {
  static const std::vector<CommandSpec>* commands =
      new std::vector<CommandSpec>(MakeCommands());
  return *commands;
}

const CommandSpec* FindCommand(absl::string_view name) {
  for (const CommandSpec& spec : AllCommands()) {
    if (spec.name == name) return &spec;
  }
  return nullptr;
}

std::string Synopsis(const CommandSpec& spec) {
  std::string synopsis = spec.name;
  if (!spec.arguments.empty()) absl::StrAppend(&synopsis, " ", spec.arguments);
  if (spec.write) absl::StrAppend(&synopsis, " ", kWriteOptions);
  return synopsis;
}

std::string HelpText() {
  std::string text = "commands:\n";
  for (const CommandSpec& spec : AllCommands()) {
    if (spec.name == "exit") continue;  // mentioned by quit
    std::string line = absl::StrCat("  ", spec.name);
    if (!spec.arguments.empty()) absl::StrAppend(&line, " ", spec.arguments);
    if (line.size() + 2 > kHelpColumn) {
      absl::StrAppend(&line, "\n", std::string(kHelpColumn, ' '));
    } else {
      line.resize(kHelpColumn, ' ');
    }
    absl::StrAppend(&text, line, spec.summary, "\n");
  }
  absl::StrAppend(
      &text, "Every command from create to reactivate also takes ",
      kWriteOptions,
      ".\nQueries wait until they see this shell's last command. Quote names "
      "with spaces: \"Blue widget\".\n");
  return text;
}

}  // namespace inventory::itemctl
