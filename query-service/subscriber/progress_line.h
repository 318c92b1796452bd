// ProgressLine: the text of the line the subscriber logs while it applies
// the event log: the events applied since the previous line, the rate over
// that interval, and where the read model stands. A pure function of its
// inputs (the clock is an argument), so that it can be tested.
#ifndef INVENTORY_QUERY_SERVICE_SUBSCRIBER_PROGRESS_LINE_H_
#define INVENTORY_QUERY_SERVICE_SUBSCRIBER_PROGRESS_LINE_H_

#include <cstdint>
#include <optional>
#include <string>

#include "absl/time/time.h"

namespace inventory {

// The read model's position at one moment.
struct ProgressMark {
  absl::Time time;
  int64_t position = 0;
};

// Events per second applied from `since` to `now`; nullopt when no time
// passed between them (or the clock went back).
std::optional<double> EventRate(const ProgressMark& since,
                                const ProgressMark& now);

// "applying the event log: 34 events applied in 500ms (68 events/s),
// position 34 of 40". `since` is the previous line's mark (or where
// counting started), `now` this line's; `head` is the log's head when known
// and not behind `now.position` (otherwise no " of N").
std::string ProgressLine(const ProgressMark& since, const ProgressMark& now,
                         std::optional<int64_t> head);

}  // namespace inventory

#endif  // INVENTORY_QUERY_SERVICE_SUBSCRIBER_PROGRESS_LINE_H_
