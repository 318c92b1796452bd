// How itemctl reports a failure: one line on stderr.
//
//   error: usage: checkin <id> <qty> [--expect=<version>] [...]  (local)
//   error: FAILED_PRECONDITION (INSUFFICIENT_STOCK): cannot remove 10 units:
//          only 5 on hand
//   error: INVALID_ARGUMENT (INVALID_FIELD): field sku: must be 3 to 32 ...
//   error: UNAVAILABLE: failed to connect to all addresses ...
//
// Errors found by itemctl itself (bad words on the command line) are made
// with UsageError() and print without a status code; every other status is
// a server's answer (converted with inventory::FromGrpcStatus) and prints
// its gRPC code name, then the ErrorInfo reason in parentheses when the
// server sent one (gRPC's own errors, such as an unreachable server, have
// none).
#ifndef INVENTORY_EXAMPLES_ITEMCTL_ERROR_LINE_H_
#define INVENTORY_EXAMPLES_ITEMCTL_ERROR_LINE_H_

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace inventory::itemctl {

// An INVALID_ARGUMENT status marked as found locally, with `message` as it
// should be shown, e.g. "usage: checkin <id> <qty>".
absl::Status UsageError(absl::string_view message);

// True for a status made by UsageError().
bool IsUsageError(const absl::Status& status);

// The line to print for a non-OK `status`, without a trailing newline.
std::string ErrorLine(const absl::Status& status);

}  // namespace inventory::itemctl

#endif  // INVENTORY_EXAMPLES_ITEMCTL_ERROR_LINE_H_
