#include "examples/itemctl/shell.h"

#include "examples/itemctl/command_specs.h"
#include "examples/itemctl/error_line.h"
#include "examples/itemctl/invocation.h"
#include "examples/itemctl/subcommands.h"
#include "examples/itemctl/tokenizer.h"

namespace inventory::itemctl {

Shell::Shell(InventoryClient* client, std::ostream& out, std::ostream& err)
    : client_(client), out_(out), err_(err) {}

bool Shell::Execute(const std::vector<std::string>& words) {
  absl::StatusOr<Invocation> invocation = ParseInvocation(words);
  absl::Status status = invocation.status();
  if (invocation.ok()) {
    const std::string& name = invocation->command->name;
    if (name == "help") {
      out_ << HelpText();
    } else if (name == "quit" || name == "exit") {
      quit_ = true;
    } else {
      status = RunSubcommand(*invocation, *client_, out_);
    }
  }
  // Flushing both keeps results and errors in order when they share a pipe.
  out_.flush();
  if (!status.ok()) err_ << ErrorLine(status) << std::endl;
  return status.ok();
}

void Shell::RunInteractive(std::istream& in, bool prompt) {
  std::string line;
  while (!quit_) {
    if (prompt) out_ << "itemctl> " << std::flush;
    if (!std::getline(in, line)) break;
    absl::StatusOr<std::vector<std::string>> words = SplitWords(line);
    if (!words.ok()) {
      err_ << ErrorLine(words.status()) << std::endl;
    } else if (!words->empty()) {
      Execute(*words);
    }
  }
  if (prompt && !quit_) out_ << "\n";  // end the prompt line after Ctrl-D
  out_.flush();
}

}  // namespace inventory::itemctl
