// Small helpers for the services' main(): environment fallbacks for flags,
// and shutdown on SIGINT/SIGTERM.
#ifndef INVENTORY_COMMON_BASE_PROCESS_CONFIG_H_
#define INVENTORY_COMMON_BASE_PROCESS_CONFIG_H_

#include <cstdint>
#include <optional>
#include <string>

#include "absl/strings/string_view.h"

namespace inventory {

// The value of environment variable `name`, or `fallback` when it is unset
// or empty. For flag defaults: ABSL_FLAG(..., EnvOr("LISTEN_ADDR", "..."))
std::string EnvOr(const char* name, absl::string_view fallback);
int64_t EnvOr(const char* name, int64_t fallback);

// The type of a flag whose value may hold a secret (a URL with a
// password). Its default must not come from the environment (EnvOr above),
// because --help prints every default; so it is empty, and the flag
// remembers whether the command line gave it, for FlagOrEnv():
//   ABSL_FLAG(inventory::SecretFlag, database_url, inventory::SecretFlag(),
//             "... [env DATABASE_URL]");
struct SecretFlag {
  std::optional<std::string> given;  // nullopt: not on the command line
};
bool AbslParseFlag(absl::string_view text, SecretFlag* flag,
                   std::string* error);
std::string AbslUnparseFlag(const SecretFlag& flag);

// The flag's value when the command line gave it (even empty), else the
// value of environment variable `name` ("" when unset).
std::string FlagOrEnv(const SecretFlag& flag, const char* name);

// Sets the --help text to `usage` and makes --help list the flags defined
// in the program's main.cc and the servers' shared flags
// (common/rpc/server_flags.h), sorted by name (and only those: no per-file
// headers, none of Abseil's own flags; --helpfull lists everything), then
// parses the command
// line (exiting on a bad flag, or with status 1 after --help). In release
// builds (NDEBUG) it also turns off Abseil's mutex deadlock detection.
void ParseFlags(int argc, char** argv, absl::string_view usage);

// Blocks SIGINT and SIGTERM in the calling thread and every thread it
// starts afterwards. Call first thing in main().
void BlockShutdownSignals();

// Waits until SIGINT or SIGTERM arrives (after BlockShutdownSignals());
// returns its number.
int WaitForShutdownSignal();

}  // namespace inventory

#endif  // INVENTORY_COMMON_BASE_PROCESS_CONFIG_H_
