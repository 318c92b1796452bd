#include "examples/itemctl/invocation.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "examples/itemctl/error_line.h"

namespace inventory::itemctl {
namespace {

const OptionSpec* FindOption(const CommandSpec& spec, absl::string_view name) {
  for (const OptionSpec& option : spec.options) {
    if (option.name == name) return &option;
  }
  return nullptr;
}

absl::Status UsageOf(const CommandSpec& spec) {
  return UsageError(absl::StrCat("usage: ", Synopsis(spec)));
}

absl::StatusOr<int64_t> ParseInt(absl::string_view name,
                                 absl::string_view text) {
  int64_t value = 0;
  if (!absl::SimpleAtoi(text, &value)) {
    return UsageError(
        absl::StrCat(name, " must be a whole number, got \"", text, "\""));
  }
  return value;
}

// Splits `--name=value` / `--name` into name and value; consumes the next
// word as the value of `--name value` when the option takes one.
absl::Status ParseOption(const CommandSpec& spec,
                         const std::vector<std::string>& words, size_t* i,
                         Invocation* invocation) {
  absl::string_view word = words[*i];
  word.remove_prefix(2);
  const size_t equals = word.find('=');
  const absl::string_view name = word.substr(0, equals);
  const OptionSpec* option = FindOption(spec, name);
  if (option == nullptr) {
    return UsageError(absl::StrCat("unknown option --", name, " for ",
                                   spec.name, "; usage: ", Synopsis(spec)));
  }
  std::string value;
  if (equals != absl::string_view::npos) {
    if (!option->takes_value) {
      return UsageError(
          absl::StrCat("--", name, " takes no value; usage: ", Synopsis(spec)));
    }
    value = std::string(word.substr(equals + 1));
  } else if (option->takes_value) {
    if (*i + 1 >= words.size()) {
      return UsageError(
          absl::StrCat("--", name, " needs a value; usage: ", Synopsis(spec)));
    }
    value = words[++*i];
  }
  invocation->options[std::string(name)] = std::move(value);
  return absl::OkStatus();
}

}  // namespace

bool Invocation::Has(absl::string_view option) const {
  return options.find(std::string(option)) != options.end();
}

std::optional<std::string> Invocation::Text(absl::string_view option) const {
  auto it = options.find(std::string(option));
  if (it == options.end()) return std::nullopt;
  return it->second;
}

absl::StatusOr<int64_t> Invocation::IntArg(size_t index,
                                           absl::string_view name) const {
  return ParseInt(name, args.at(index));
}

absl::StatusOr<std::optional<int64_t>> Invocation::IntOption(
    absl::string_view option) const {
  std::optional<std::string> text = Text(option);
  if (!text.has_value()) return std::nullopt;
  absl::StatusOr<int64_t> value = ParseInt(absl::StrCat("--", option), *text);
  if (!value.ok()) return value.status();
  return *value;
}

absl::StatusOr<std::optional<bool>> Invocation::BoolOption(
    absl::string_view option) const {
  std::optional<std::string> text = Text(option);
  if (!text.has_value()) return std::nullopt;
  const std::string lower = absl::AsciiStrToLower(*text);
  if (lower == "true" || lower == "yes" || lower == "1") return true;
  if (lower == "false" || lower == "no" || lower == "0") return false;
  return UsageError(absl::StrCat("--", option, " must be true or false, got \"",
                                 *text, "\""));
}

absl::StatusOr<Invocation> ParseInvocation(
    const std::vector<std::string>& words) {
  if (words.empty()) return UsageError("no command; type help for the list");
  Invocation invocation;
  invocation.command = FindCommand(words[0]);
  if (invocation.command == nullptr) {
    return UsageError(absl::StrCat("unknown command \"", words[0],
                                   "\"; type help for the list"));
  }
  const CommandSpec& spec = *invocation.command;
  std::vector<std::string> args;
  bool options_ended = false;
  for (size_t i = 1; i < words.size(); ++i) {
    if (!options_ended && words[i] == "--") {
      options_ended = true;
    } else if (!options_ended && absl::StartsWith(words[i], "--")) {
      absl::Status parsed = ParseOption(spec, words, &i, &invocation);
      if (!parsed.ok()) return parsed;
    } else {
      args.push_back(words[i]);
    }
  }
  const size_t wanted = static_cast<size_t>(spec.positional);
  if (args.size() < wanted || (args.size() > wanted && !spec.rest)) {
    return UsageOf(spec);
  }
  if (args.size() > wanted) {
    // The last argument is a name: join the remaining words.
    std::vector<std::string> tail(args.begin() + (wanted - 1), args.end());
    args.resize(wanted - 1);
    args.push_back(absl::StrJoin(tail, " "));
  }
  invocation.args = std::move(args);
  return invocation;
}

size_t SubcommandStart(const std::vector<std::string>& argv,
                       const std::vector<std::string>& value_flags) {
  for (size_t i = 1; i < argv.size(); ++i) {
    absl::string_view arg = argv[i];
    if (arg == "--") return i + 1;
    if (!absl::StartsWith(arg, "-") || arg == "-") return i;
    arg.remove_prefix(absl::StartsWith(arg, "--") ? 2 : 1);
    const bool has_value = absl::StrContains(arg, '=');
    if (!has_value && std::find(value_flags.begin(), value_flags.end(), arg) !=
                          value_flags.end()) {
      ++i;  // `--flag value`: skip the value
    }
  }
  return argv.size();
}

}  // namespace inventory::itemctl
