#include "common/base/log.h"

#include <atomic>
#include <cstdio>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace inventory {
namespace {

void AppendHexEscape(unsigned char byte, std::string* out) {
  static constexpr char kDigits[] = "0123456789abcdef";
  const char escaped[] = {'\\', 'x', kDigits[byte >> 4], kDigits[byte & 0xf]};
  out->append(escaped, sizeof(escaped));
}

bool IsControl(unsigned char byte) { return byte < 0x20 || byte == 0x7f; }

absl::Mutex sink_mu(absl::kConstInit);
LogSink* sink ABSL_GUARDED_BY(sink_mu) = nullptr;
// Whether a sink is set: lines skip the lock when none is (production).
std::atomic<bool> has_sink{false};

}  // namespace

void SetLogSink(LogSink new_sink) {
  absl::MutexLock lock(&sink_mu);
  delete sink;
  sink = new_sink ? new LogSink(std::move(new_sink)) : nullptr;
  has_sink = sink != nullptr;
}

void Log(LogLevel level, absl::string_view message) {
  const char* tag = level == LogLevel::kInfo      ? "INFO "
                    : level == LogLevel::kWarning ? "WARN "
                                                  : "ERROR";
  const std::string time = absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", absl::Now(),
                                            absl::UTCTimeZone());
  // One event, one line: fold the multi-line texts some libraries produce,
  // and show any other control byte rather than let the terminal act on it.
  std::string line;
  line.reserve(message.size());
  for (const char c : absl::StripTrailingAsciiWhitespace(message)) {
    const auto byte = static_cast<unsigned char>(c);
    if (c == '\n' || c == '\r' || c == '\t') {
      line.push_back(' ');
    } else if (IsControl(byte)) {
      AppendHexEscape(byte, &line);
    } else {
      line.push_back(c);
    }
  }
  const std::string full = absl::StrFormat("%s %s %s", time, tag, line);
  std::fprintf(stderr, "%s\n", full.c_str());
  if (!has_sink) return;
  absl::MutexLock lock(&sink_mu);
  if (sink != nullptr) (*sink)(full);
}

std::string EscapeForLog(absl::string_view text, size_t max_bytes) {
  const absl::string_view kept = text.substr(0, max_bytes);
  std::string escaped;
  escaped.reserve(kept.size());
  for (const char c : kept) {
    const auto byte = static_cast<unsigned char>(c);
    if (c == '\\') {
      escaped.append("\\\\");
    } else if (IsControl(byte) || byte >= 0x80) {
      AppendHexEscape(byte, &escaped);
    } else {
      escaped.push_back(c);
    }
  }
  if (kept.size() < text.size()) {
    absl::StrAppend(&escaped, "...[", text.size() - kept.size(), " bytes cut]");
  }
  return escaped;
}

}  // namespace inventory
