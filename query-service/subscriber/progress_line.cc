#include "query-service/subscriber/progress_line.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace inventory {
namespace {

// Two significant digits below 10 events/s (a quiet live stream is not
// "0 events/s"), whole numbers above.
std::string FormatRate(double rate) {
  if (rate >= 10) return absl::StrFormat("%.0f", rate);
  if (rate >= 1) return absl::StrFormat("%.1f", rate);
  return absl::StrFormat("%.2g", rate);
}

}  // namespace

std::optional<double> EventRate(const ProgressMark& since,
                                const ProgressMark& now) {
  const double seconds = absl::ToDoubleSeconds(now.time - since.time);
  if (!(seconds > 0)) return std::nullopt;
  return static_cast<double>(now.position - since.position) / seconds;
}

std::string ProgressLine(const ProgressMark& since, const ProgressMark& now,
                         std::optional<int64_t> head) {
  const int64_t applied = now.position - since.position;
  std::string line =
      absl::StrCat("applying the event log: ", applied,
                   applied == 1 ? " event" : " events", " applied in ",
                   absl::FormatDuration(absl::Trunc(now.time - since.time,
                                                    absl::Milliseconds(1))));
  if (const std::optional<double> rate = EventRate(since, now)) {
    absl::StrAppend(&line, " (", FormatRate(*rate), " events/s)");
  }
  absl::StrAppend(&line, ", position ", now.position);
  if (head.has_value() && *head >= now.position) {
    absl::StrAppend(&line, " of ", *head);
  }
  return line;
}

}  // namespace inventory
