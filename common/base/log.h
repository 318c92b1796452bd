// Minimal structured logging to stderr: one line per call, with a UTC
// timestamp and a level. Thread-safe (one fprintf per line).
//
// Every line is one line on a terminal: line breaks and tabs are folded
// into spaces and any other control byte (ESC included, so no terminal
// escape sequence survives) is written as \xNN. Text that comes from a
// client should also pass through EscapeForLog(), which bounds its length
// and makes every byte of it visible.
#ifndef INVENTORY_COMMON_BASE_LOG_H_
#define INVENTORY_COMMON_BASE_LOG_H_

#include <cstddef>
#include <functional>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace inventory {

enum class LogLevel { kInfo, kWarning, kError };

// Writes "2026-11-26T13:45:00.123Z WARN  <message>" to stderr.
void Log(LogLevel level, absl::string_view message);

// Test hook: while a sink is set, every line Log() writes (as written,
// without the newline) is also passed to it, on the logging thread, one
// line at a time. SetLogSink(nullptr) removes it; it returns once no call
// of the old sink is running. Thread-safe. The sink must not log (it runs
// under the hook's lock). See common/base/log_capture.h for a ready-made sink
// that tests can wait on.
using LogSink = std::function<void(absl::string_view line)>;
void SetLogSink(LogSink sink);

template <typename... Args>
void LogInfo(const Args&... args) {
  Log(LogLevel::kInfo, absl::StrCat(args...));
}
template <typename... Args>
void LogWarning(const Args&... args) {
  Log(LogLevel::kWarning, absl::StrCat(args...));
}
template <typename... Args>
void LogError(const Args&... args) {
  Log(LogLevel::kError, absl::StrCat(args...));
}

// How much of one piece of client text a log line keeps by default.
inline constexpr size_t kLogFieldMaxBytes = 200;

// `text` (bytes a client chose: a method path, a header, a value) as it
// may appear in a log line: printable ASCII stays as it is, a backslash
// becomes "\\", and every other byte (controls, DEL, anything >= 0x80)
// becomes "\xNN", so the line cannot be split, recoloured or made to look
// like another. Only the first `max_bytes` bytes of `text` are kept; when
// more were given, "...[N bytes cut]" says how many were dropped.
std::string EscapeForLog(absl::string_view text,
                         size_t max_bytes = kLogFieldMaxBytes);

}  // namespace inventory

#endif  // INVENTORY_COMMON_BASE_LOG_H_
