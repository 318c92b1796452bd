// LogCapture: for tests, the lines Log() writes while it exists, so that a
// test can wait for a line and count how often it appeared. It installs
// itself with SetLogSink() (log.h), so only one may exist at a time; the
// lines still go to stderr too. Thread-safe.
#ifndef INVENTORY_COMMON_BASE_LOG_CAPTURE_H_
#define INVENTORY_COMMON_BASE_LOG_CAPTURE_H_

#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace inventory {

class LogCapture {
 public:
  LogCapture();
  ~LogCapture();
  LogCapture(const LogCapture&) = delete;
  LogCapture& operator=(const LogCapture&) = delete;

  // Every line so far, oldest first.
  std::vector<std::string> Lines() const;
  // How many lines so far contain `text`.
  int Count(absl::string_view text) const;
  // Waits until at least `count` lines contain `text`, or `timeout`
  // passed; true in the first case.
  bool WaitFor(absl::string_view text, absl::Duration timeout,
               int count = 1) const;

 private:
  int CountLocked(absl::string_view text) const ABSL_SHARED_LOCKS_REQUIRED(mu_);

  mutable absl::Mutex mu_;
  std::vector<std::string> lines_ ABSL_GUARDED_BY(mu_);
};

}  // namespace inventory

#endif  // INVENTORY_COMMON_BASE_LOG_CAPTURE_H_
