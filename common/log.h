// Minimal structured logging to stderr: one line per call, with a UTC
// timestamp and a level. Thread-safe (one fprintf per line).
#ifndef INVENTORY_COMMON_LOG_H_
#define INVENTORY_COMMON_LOG_H_

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace inventory {

enum class LogLevel { kInfo, kWarning, kError };

// Writes "2026-11-26T13:45:00.123Z WARN  <message>" to stderr.
void Log(LogLevel level, absl::string_view message);

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

}  // namespace inventory

#endif  // INVENTORY_COMMON_LOG_H_
