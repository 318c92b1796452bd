#include "common/base/process_config.h"

#include <signal.h>

#include <algorithm>
#include <cstdlib>
#include <iostream>
#include <vector>

#include "absl/flags/commandlineflag.h"
#include "absl/flags/internal/usage.h"
#include "absl/flags/parse.h"
#include "absl/flags/reflection.h"
#include "absl/flags/usage.h"
#include "absl/flags/usage_config.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/synchronization/mutex.h"
#include "common/base/connection_string_redaction.h"

namespace inventory {
namespace {

sigset_t ShutdownSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  return set;
}

// The flags a program's --help describes: those defined in its main.cc,
// and those both servers share (common/rpc/server_flags.cc). Flags are
// defined only there.
bool IsProgramFlag(absl::string_view file) {
  return absl::EndsWith(file, "/main.cc") ||
         absl::EndsWith(file, "/common/rpc/server_flags.cc");
}

// --help as this program prints it: the usage text, then each of its own
// flags in Abseil's format ("    --name (help); default: ...;"), without
// Abseil's per-file headers, the flags of the libraries it links, or the
// hint about --helpfull (which still lists everything).
void PrintHelp(std::ostream& out, absl::string_view usage) {
  std::vector<const absl::CommandLineFlag*> flags;
  for (const auto& [name, flag] : absl::GetAllFlags()) {
    if (IsProgramFlag(flag->Filename())) flags.push_back(flag);
  }
  std::sort(flags.begin(), flags.end(),
            [](const absl::CommandLineFlag* a, const absl::CommandLineFlag* b) {
              return a->Name() < b->Name();
            });
  out << absl::StripTrailingAsciiWhitespace(usage) << "\n\nFlags:\n";
  for (const absl::CommandLineFlag* flag : flags) {
    absl::flags_internal::FlagHelp(
        out, *flag, absl::flags_internal::HelpFormat::kHumanReadable);
  }
}

}  // namespace

std::string EnvOr(const char* name, absl::string_view fallback) {
  const char* value = std::getenv(name);
  return value != nullptr && *value != '\0' ? std::string(value)
                                            : std::string(fallback);
}

int64_t EnvOr(const char* name, int64_t fallback) {
  const char* value = std::getenv(name);
  int64_t parsed = 0;
  return value != nullptr && absl::SimpleAtoi(value, &parsed) ? parsed
                                                              : fallback;
}

bool AbslParseFlag(absl::string_view text, SecretFlag* flag,
                   std::string* /*error*/) {
  flag->given = std::string(text);
  return true;
}

std::string AbslUnparseFlag(const SecretFlag& flag) {
  // --help prints a flag's current value: never its password.
  return RedactConnectionString(flag.given.value_or(""));
}

std::string FlagOrEnv(const SecretFlag& flag, const char* name) {
  return flag.given.has_value() ? *flag.given : EnvOr(name, "");
}

void ParseFlags(int argc, char** argv, absl::string_view usage) {
  absl::FlagsUsageConfig config;
  config.contains_help_flags = IsProgramFlag;
  config.contains_helpshort_flags = IsProgramFlag;
  absl::SetFlagsUsageConfig(config);
  absl::SetProgramUsageMessage(usage);
  // A plain --help is answered here (see PrintHelp); the other flags are
  // parsed first, so that it shows the values given with it.
  std::vector<char*> args;
  bool help = false;
  bool flags_ended = false;
  for (int i = 0; i < argc; ++i) {
    const absl::string_view arg = argv[i];
    if (arg == "--") flags_ended = true;
    if (i > 0 && !flags_ended && (arg == "--help" || arg == "-help")) {
      help = true;
    } else {
      args.push_back(argv[i]);
    }
  }
  absl::ParseCommandLine(static_cast<int>(args.size()), args.data());
  if (help) {
    PrintHelp(std::cout, usage);
    // As Abseil's own --help does.
    std::exit(1);
  }
#ifdef NDEBUG
  // Debian's Abseil is built with mutex deadlock detection on, which
  // updates a lock graph on every lock; release builds of our services
  // leave it to the debug builds and the tests.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
#endif
}

void BlockShutdownSignals() {
  const sigset_t set = ShutdownSignals();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

int WaitForShutdownSignal() {
  const sigset_t set = ShutdownSignals();
  int signal = 0;
  while (sigwait(&set, &signal) != 0) {
  }
  return signal;
}

}  // namespace inventory
