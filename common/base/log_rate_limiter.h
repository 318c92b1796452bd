// Bounds how many log lines of one kind a process writes, so that a client
// repeating a refused call cannot fill the disk or bury other lines.
#ifndef INVENTORY_COMMON_BASE_LOG_RATE_LIMITER_H_
#define INVENTORY_COMMON_BASE_LOG_RATE_LIMITER_H_

#include <cstdint>
#include <functional>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace inventory {

struct LogRateLimiterOptions {
  // Lines of one kind written per window (at least 1); the rest of the
  // window's lines of that kind are counted, not written.
  int64_t max_lines = 10;
  absl::Duration window = absl::Seconds(10);
  // The time; tests pass a clock they move by hand.
  std::function<absl::Time()> now = [] { return absl::Now(); };
};

// Fixed windows per kind: the first line of a kind opens a window, in which
// max_lines lines of that kind are let through; the next line of that kind
// after the window ends opens a new one, and learns how many were held back
// meanwhile. Thread-safe. Kinds should come from a small fixed set (a
// status code name, say): each one seen is remembered for good.
class LogRateLimiter {
 public:
  explicit LogRateLimiter(LogRateLimiterOptions options = {});

  // What to do with one line of `kind`.
  struct Decision {
    bool log = false;  // write the line; false: drop it (it was counted)
    // With log: lines of this kind dropped since the last one written,
    // to be reported first ("N similar lines suppressed"); usually 0.
    int64_t suppressed = 0;
  };
  Decision Admit(absl::string_view kind);

 private:
  struct Window {
    absl::Time start;
    int64_t logged = 0;
    int64_t suppressed = 0;
  };

  const LogRateLimiterOptions options_;
  absl::Mutex mu_;
  absl::flat_hash_map<std::string, Window> windows_ ABSL_GUARDED_BY(mu_);
};

// Writes `line` as a warning unless lines of `kind` are over `limiter`'s
// rate; when some were held back since the last one written, a line
// "N similar lines suppressed (<kind>)" comes first.
void LogWarningLimited(LogRateLimiter& limiter, absl::string_view kind,
                       absl::string_view line);

// "<method> failed: <status>" (the status escaped: StatusForLog()) for a
// call a service refused or failed, at most 10 lines per 10 s for each
// method and status code, so that no client can flood the log with bad
// requests. `method` is the service's own name for it (never the
// client's bytes).
void LogFailedCall(absl::string_view method, const absl::Status& status);

}  // namespace inventory

#endif  // INVENTORY_COMMON_BASE_LOG_RATE_LIMITER_H_
