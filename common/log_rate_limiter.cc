#include "common/log_rate_limiter.h"

#include <utility>

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

}  // namespace inventory
