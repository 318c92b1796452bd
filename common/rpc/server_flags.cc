#include "common/rpc/server_flags.h"

#include <cstdint>

#include "absl/flags/flag.h"
#include "common/base/process_config.h"
#include "common/base/status_macros.h"
#include "common/rpc/health_client.h"

using inventory::EnvOr;

// The help texts are --help's (and docs/configuration.md's): keep them
// true for both servers.
ABSL_FLAG(int, max_message_bytes, EnvOr("MAX_MESSAGE_BYTES", int64_t{4 << 20}),
          "Largest request or response accepted, in bytes [env "
          "MAX_MESSAGE_BYTES].");
ABSL_FLAG(int, max_concurrent_streams,
          EnvOr("MAX_CONCURRENT_STREAMS", int64_t{100}),
          "Concurrent calls per client connection; keep it well below "
          "--max_threads [env MAX_CONCURRENT_STREAMS].");
ABSL_FLAG(bool, health_check, false,
          "Instead of serving: ask the server at --listen whether it is "
          "SERVING (gRPC health check), exit 0 if so and 1 otherwise. For "
          "scripts and container health checks.");
// TLS (docs/security.md). Tokens come from files or the environment, never
// from flags: command lines are visible to all.
ABSL_FLAG(std::string, tls_cert_file, EnvOr("TLS_CERT_FILE", ""),
          "PEM certificate (chain) to serve TLS with; with --tls_key_file. "
          "Empty: plaintext [env TLS_CERT_FILE].");
ABSL_FLAG(std::string, tls_key_file, EnvOr("TLS_KEY_FILE", ""),
          "PEM private key of --tls_cert_file [env TLS_KEY_FILE].");
ABSL_FLAG(std::string, health_check_ca_file, EnvOr("HEALTH_CHECK_CA_FILE", ""),
          "With --health_check against a TLS server: the PEM CA that signed "
          "its certificate [env HEALTH_CHECK_CA_FILE].");
ABSL_FLAG(std::string, health_check_server_name,
          EnvOr("HEALTH_CHECK_SERVER_NAME", ""),
          "With --health_check_ca_file: the name the server's certificate "
          "carries, if not the host of --listen [env "
          "HEALTH_CHECK_SERVER_NAME].");

namespace inventory {

absl::StatusOr<SharedServerSettings> SharedServerSettingsFromFlags(
    const std::string& writer_token_file,
    const std::string& reader_token_file) {
  SharedServerSettings settings;
  settings.max_message_bytes = absl::GetFlag(FLAGS_max_message_bytes);
  settings.max_concurrent_streams = absl::GetFlag(FLAGS_max_concurrent_streams);
  INVENTORY_ASSIGN_OR_RETURN(
      settings.security,
      LoadServerSecurity({absl::GetFlag(FLAGS_tls_cert_file),
                          absl::GetFlag(FLAGS_tls_key_file), writer_token_file,
                          EnvOr("WRITER_TOKEN", ""), reader_token_file,
                          EnvOr("READER_TOKEN", "")}));
  return settings;
}

std::optional<int> HealthCheckIfAsked(const std::string& listen) {
  if (!absl::GetFlag(FLAGS_health_check)) return std::nullopt;
  return RunHealthCheck(listen, absl::GetFlag(FLAGS_health_check_ca_file),
                        absl::GetFlag(FLAGS_health_check_server_name));
}

}  // namespace inventory
