// itemctl: a small shell for the inventory services.
//
//   itemctl create w-1 W-1 "Blue widget"     one command, then exit
//   itemctl                                  interactive: itemctl> ...
//
// Commands go to the command-service, queries to the query-service; every
// query waits until it sees this shell's last command (read-your-writes).
// Exit status: 0 on success, 1 when the one command failed. Interactive
// mode exits 0 at end of input or on quit.
#include <unistd.h>

#include <iostream>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "common/base/process_config.h"
#include "common/rpc/security/security_config.h"
#include "examples/itemctl/command_specs.h"
#include "examples/itemctl/inventory_client.h"
#include "examples/itemctl/invocation.h"
#include "examples/itemctl/shell.h"

using inventory::EnvOr;

ABSL_FLAG(std::string, command,
          EnvOr("COMMAND_SERVICE_ADDR", "127.0.0.1:50051"),
          "host:port of the command-service [env COMMAND_SERVICE_ADDR].");
ABSL_FLAG(std::string, query, EnvOr("QUERY_SERVICE_ADDR", "127.0.0.1:50052"),
          "host:port of the query-service [env QUERY_SERVICE_ADDR].");
ABSL_FLAG(absl::Duration, timeout, absl::Seconds(10),
          "Deadline of each call (each page of a list); watch and events "
          "have none.");
ABSL_FLAG(std::string, ca_file, EnvOr("INVENTORY_CA_FILE", ""),
          "PEM CA of the services' certificates: set it to talk TLS [env "
          "INVENTORY_CA_FILE].");
ABSL_FLAG(std::string, token_file, EnvOr("INVENTORY_TOKEN_FILE", ""),
          "File holding the bearer token to send (the writer token for "
          "commands) [env INVENTORY_TOKEN_FILE]; or the token itself in "
          "[env INVENTORY_TOKEN]. Needs --ca_file.");
ABSL_FLAG(int64_t, min_position, 0,
          "Queries wait until the read side has applied this global position "
          "(as printed by an earlier command), for read-your-writes across "
          "separate invocations. Later commands in the same shell raise it.");

namespace {

// TLS and the token from --ca_file and --token_file / INVENTORY_TOKEN.
absl::Status LoadSecurity(inventory::ChannelSecurity* security) {
  const std::string ca_file = absl::GetFlag(FLAGS_ca_file);
  if (!ca_file.empty()) {
    absl::StatusOr<std::string> roots =
        inventory::ReadCaFile(ca_file, "--ca_file");
    if (!roots.ok()) return roots.status();
    security->root_certificates = *roots;
  }
  absl::StatusOr<std::string> token = inventory::LoadToken(
      absl::GetFlag(FLAGS_token_file), EnvOr("INVENTORY_TOKEN", ""),
      "--token_file / INVENTORY_TOKEN");
  if (!token.ok()) return token.status();
  if (!token->empty() && !security->tls()) {
    return absl::InvalidArgumentError(
        "a token is only sent over TLS: set --ca_file");
  }
  security->token = *token;
  return absl::OkStatus();
}

}  // namespace

int main(int argc, char** argv) {
  const std::vector<std::string> args(argv, argv + argc);
  // itemctl's flags come before the subcommand; what follows is the
  // subcommand's own, parsed by the shell.
  const size_t start = inventory::itemctl::SubcommandStart(
      args,
      {"command", "query", "timeout", "min_position", "ca_file", "token_file"});
  inventory::ParseFlags(
      static_cast<int>(start), argv,
      absl::StrCat("A shell for the inventory services.\n"
                   "Usage: itemctl [--command=host:port] [--query=host:port] "
                   "[--timeout=10s] [<command> [<arguments>...]]\n"
                   "Without a command, reads commands from stdin.\n\n",
                   inventory::itemctl::HelpText()));

  inventory::itemctl::InventoryClientOptions options;
  options.command_address = absl::GetFlag(FLAGS_command);
  options.query_address = absl::GetFlag(FLAGS_query);
  options.timeout = absl::GetFlag(FLAGS_timeout);
  options.min_position = absl::GetFlag(FLAGS_min_position);
  const absl::Status security = LoadSecurity(&options.security);
  if (!security.ok()) {
    std::cerr << "error: " << security.message() << "\n";
    return 1;
  }
  inventory::itemctl::InventoryClient client(options);
  inventory::itemctl::Shell shell(&client, std::cout, std::cerr);

  if (start < args.size()) {
    const std::vector<std::string> words(args.begin() + start, args.end());
    return shell.Execute(words) ? 0 : 1;
  }
  shell.RunInteractive(std::cin, isatty(STDIN_FILENO) == 1);
  return 0;
}
