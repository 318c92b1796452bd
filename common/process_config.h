// Small helpers for the services' main(): environment fallbacks for flags,
// safe logging of URLs, and shutdown on SIGINT/SIGTERM.
#ifndef INVENTORY_COMMON_PROCESS_CONFIG_H_
#define INVENTORY_COMMON_PROCESS_CONFIG_H_

#include <string>

#include "absl/strings/string_view.h"

namespace inventory {

// The value of environment variable `name`, or `fallback` when it is unset
// or empty. For flag defaults: ABSL_FLAG(..., EnvOr("LISTEN_ADDR", "..."))
std::string EnvOr(const char* name, absl::string_view fallback);
int64_t EnvOr(const char* name, int64_t fallback);

// `url` with any password replaced by "***", for logs:
// "postgresql://app:secret@db/x" -> "postgresql://app:***@db/x".
std::string RedactPassword(absl::string_view url);

// Sets the --help text to `usage` and makes --help list the flags defined
// in the program's main.cc, then parses the command line (exiting on a bad
// flag or after --help). In release builds (NDEBUG) it also turns off
// Abseil's mutex deadlock detection.
void ParseFlags(int argc, char** argv, absl::string_view usage);

// Blocks SIGINT and SIGTERM in the calling thread and every thread it
// starts afterwards. Call first thing in main().
void BlockShutdownSignals();

// Waits until SIGINT or SIGTERM arrives (after BlockShutdownSignals());
// returns its number.
int WaitForShutdownSignal();

}  // namespace inventory

#endif  // INVENTORY_COMMON_PROCESS_CONFIG_H_
