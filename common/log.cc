#include "common/log.h"

#include <cstdio>

#include "absl/strings/ascii.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace inventory {

void Log(LogLevel level, absl::string_view message) {
  const char* tag = level == LogLevel::kInfo      ? "INFO "
                    : level == LogLevel::kWarning ? "WARN "
                                                  : "ERROR";
  const std::string time = absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", absl::Now(),
                                            absl::UTCTimeZone());
  // One event, one line: fold the multi-line texts some libraries produce.
  std::string line(absl::StripTrailingAsciiWhitespace(message));
  for (char& c : line) {
    if (c == '\n' || c == '\r' || c == '\t') c = ' ';
  }
  std::fprintf(stderr, "%s %s %s\n", time.c_str(), tag, line.c_str());
}

}  // namespace inventory
