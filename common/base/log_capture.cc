#include "common/base/log_capture.h"

#include "absl/strings/match.h"
#include "common/base/log.h"

namespace inventory {

LogCapture::LogCapture() {
  SetLogSink([this](absl::string_view line) {
    absl::MutexLock lock(&mu_);
    lines_.emplace_back(line);
  });
}

LogCapture::~LogCapture() { SetLogSink(nullptr); }

std::vector<std::string> LogCapture::Lines() const {
  absl::MutexLock lock(&mu_);
  return lines_;
}

int LogCapture::Count(absl::string_view text) const {
  absl::MutexLock lock(&mu_);
  return CountLocked(text);
}

int LogCapture::CountLocked(absl::string_view text) const {
  int count = 0;
  for (const std::string& line : lines_) {
    if (absl::StrContains(line, text)) ++count;
  }
  return count;
}

bool LogCapture::WaitFor(absl::string_view text, absl::Duration timeout,
                         int count) const {
  absl::MutexLock lock(&mu_);
  auto enough = [&]() ABSL_SHARED_LOCKS_REQUIRED(mu_) {
    return CountLocked(text) >= count;
  };
  return mu_.AwaitWithTimeout(absl::Condition(&enough), timeout);
}

}  // namespace inventory
