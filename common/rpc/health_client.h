// A gRPC health check client, for the services' --health_check mode (used
// by scripts and container health checks, so they need no extra tool).
#ifndef INVENTORY_COMMON_RPC_HEALTH_CLIENT_H_
#define INVENTORY_COMMON_RPC_HEALTH_CLIENT_H_

#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "common/rpc/security/security_config.h"

namespace inventory {

// Asks the server at `listen_address` (a --listen value; a wildcard host
// such as 0.0.0.0 or [::] is reached through loopback) whether it is
// SERVING, over TLS when `security` has root certificates (health
// checking needs no token). OK when it is; UNAVAILABLE with the reason
// otherwise.
absl::Status CheckServing(const std::string& listen_address,
                          absl::Duration timeout,
                          const ChannelSecurity& security = {});

// The --health_check mode of a service's main(): checks `listen_address`
// (3 second timeout), logs why when it is not SERVING, and returns the
// process exit code (0 when SERVING, 1 otherwise). For a server that uses
// TLS, `ca_file` is the CA that signed its certificate, and `server_name`
// (optional) the name the certificate carries (the --health_check_ca_file
// and --health_check_server_name flags).
int RunHealthCheck(const std::string& listen_address,
                   const std::string& ca_file = "",
                   const std::string& server_name = "");

}  // namespace inventory

#endif  // INVENTORY_COMMON_RPC_HEALTH_CLIENT_H_
