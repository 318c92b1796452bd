// A gRPC health check client, for the services' --health_check mode (used
// by scripts and container health checks, so they need no extra tool).
#ifndef INVENTORY_COMMON_HEALTH_CHECK_H_
#define INVENTORY_COMMON_HEALTH_CHECK_H_

#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"

namespace inventory {

// Asks the server at `listen_address` (a --listen value; a wildcard host
// such as 0.0.0.0 or [::] is reached through loopback) whether it is
// SERVING. OK when it is; UNAVAILABLE with the reason otherwise.
absl::Status CheckServing(const std::string& listen_address,
                          absl::Duration timeout);

// The --health_check mode of a service's main(): checks `listen_address`
// (3 second timeout), logs why when it is not SERVING, and returns the
// process exit code (0 when SERVING, 1 otherwise).
int RunHealthCheck(const std::string& listen_address);

}  // namespace inventory

#endif  // INVENTORY_COMMON_HEALTH_CHECK_H_
