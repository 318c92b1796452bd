// One subcommand as the user typed it, checked against its CommandSpec:
//
//   checkin w-1 5 --expect=2   ->  command checkin, args {w-1, 5},
//                                  options {expect: 2}
//
// Options may come before, between or after the arguments, as --name=value
// or --name value; a bare `--` ends the options (for names that start with
// dashes). Values are converted on demand with the typed getters, whose
// errors are usage errors (error_line.h) naming the argument.
#ifndef INVENTORY_EXAMPLES_ITEMCTL_INVOCATION_H_
#define INVENTORY_EXAMPLES_ITEMCTL_INVOCATION_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "examples/itemctl/command_specs.h"

namespace inventory::itemctl {

struct Invocation {
  const CommandSpec* command = nullptr;        // never null after parsing
  std::vector<std::string> args;               // exactly command->positional
  std::map<std::string, std::string> options;  // name -> value ("" for flags)

  bool Has(absl::string_view option) const;
  // The option's text, or nullopt when absent.
  std::optional<std::string> Text(absl::string_view option) const;
  // args[index] as a whole number; `name` is how errors call it ("<qty>").
  absl::StatusOr<int64_t> IntArg(size_t index, absl::string_view name) const;
  // The option as a whole number, or nullopt when absent.
  absl::StatusOr<std::optional<int64_t>> IntOption(
      absl::string_view option) const;
  // The option as true or false, or nullopt when absent.
  absl::StatusOr<std::optional<bool>> BoolOption(
      absl::string_view option) const;
};

// Parses `words` (the subcommand name first). Usage errors: unknown
// subcommand, wrong number of arguments, unknown option, missing option
// value; the message then is "usage: <synopsis>" or says what is unknown.
absl::StatusOr<Invocation> ParseInvocation(
    const std::vector<std::string>& words);

// For main(): the index in `argv` (argv[0] is the program) where the
// subcommand starts; everything before it are itemctl's own flags. Those
// that take a value (`value_flags`, without dashes) may be written
// `--flag value`. Returns argv.size() when there is no subcommand. A `--`
// ends the flags; the subcommand then starts after it.
size_t SubcommandStart(const std::vector<std::string>& argv,
                       const std::vector<std::string>& value_flags);

}  // namespace inventory::itemctl

#endif  // INVENTORY_EXAMPLES_ITEMCTL_INVOCATION_H_
