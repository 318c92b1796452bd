#include "common/base/log_rate_limiter.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "common/base/error_reason.h"
#include "common/base/log.h"

namespace inventory {

LogRateLimiter::LogRateLimiter(LogRateLimiterOptions options)
    : options_(std::move(options)) {}

LogRateLimiter::Decision LogRateLimiter::Admit(absl::string_view kind) {
  const absl::Time now = options_.now();
  absl::MutexLock lock(&mu_);
  auto [it, inserted] = windows_.try_emplace(kind);
  Window& window = it->second;
  Decision decision;
  if (inserted || now - window.start >= options_.window) {
    decision.suppressed = window.suppressed;
    window = Window{now, 0, 0};
  }
  if (window.logged < options_.max_lines) {
    ++window.logged;
    decision.log = true;
  } else {
    ++window.suppressed;
  }
  return decision;
}

void LogWarningLimited(LogRateLimiter& limiter, absl::string_view kind,
                       absl::string_view line) {
  const LogRateLimiter::Decision decision = limiter.Admit(kind);
  if (!decision.log) return;
  if (decision.suppressed > 0) {
    LogWarning(decision.suppressed, " similar lines suppressed (", kind, ")");
  }
  LogWarning(line);
}

void LogFailedCall(absl::string_view method, const absl::Status& status) {
  static auto* const limiter = new LogRateLimiter();
  LogWarningLimited(*limiter,
                    absl::StrCat(method, " failed: ",
                                 absl::StatusCodeToString(status.code())),
                    absl::StrCat(method, " failed: ", StatusForLog(status)));
}

}  // namespace inventory
