#include "common/rpc/server_flags.h"

#include <cstdint>

#include "absl/flags/flag.h"
#include "absl/time/time.h"
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
ABSL_FLAG(int, max_threads, EnvOr("MAX_THREADS", int64_t{512}),
          "gRPC worker threads; every open event subscription "
          "(command-service) or WatchItem stream (query-service) holds one "
          "[env MAX_THREADS].");
// The long-lived streams each server serves on its thread pool: the
// command-service's Subscribe, the query-service's WatchItem.
ABSL_FLAG(int, max_streams_per_client,
          EnvOr("MAX_STREAMS_PER_CLIENT", int64_t{32}),
          "Event subscriptions (command-service) or WatchItem streams "
          "(query-service) open at once from one client address (all "
          "clients behind one proxy count as one); 0: no cap per client [env "
          "MAX_STREAMS_PER_CLIENT].");
ABSL_FLAG(absl::Duration, stream_write_timeout, absl::Seconds(30),
          "A client that reads nothing of its event subscriptions "
          "(command-service) or WatchItem streams (query-service) for this "
          "long while a message waits for it is dropped, freeing its slot "
          "and thread.");
ABSL_FLAG(absl::Duration, shutdown_grace, absl::Seconds(5),
          "On SIGINT/SIGTERM, how long in-flight calls may take to finish "
          "(the command-service's exit also waits at most this long for its "
          "database listener).");
ABSL_FLAG(bool, health_check, false,
          "Instead of serving: ask the server at --listen whether it is "
          "SERVING (gRPC health check), exit 0 if so and 1 otherwise. For "
          "scripts and container health checks.");
// TLS and bearer tokens (docs/security.md). Tokens come from files or the
// environment, never from flags: command lines are visible to all.
ABSL_FLAG(std::string, tls_cert_file, EnvOr("TLS_CERT_FILE", ""),
          "PEM certificate (chain) to serve TLS with; with --tls_key_file. "
          "Empty: plaintext [env TLS_CERT_FILE].");
ABSL_FLAG(std::string, tls_key_file, EnvOr("TLS_KEY_FILE", ""),
          "PEM private key of --tls_cert_file [env TLS_KEY_FILE].");
ABSL_FLAG(std::string, writer_token_file, EnvOr("WRITER_TOKEN_FILE", ""),
          "File holding the bearer token that may call everything the "
          "service offers [env WRITER_TOKEN_FILE]; or the token itself in "
          "[env WRITER_TOKEN]. Give both services the same one, so that a "
          "writer needs one token. Needs TLS. With a token set, every call "
          "but health checks needs one.");
ABSL_FLAG(std::string, reader_token_file, EnvOr("READER_TOKEN_FILE", ""),
          "File holding the bearer token that may read (queries, the event "
          "stream, reflection) but not send commands [env "
          "READER_TOKEN_FILE]; or the token itself in [env READER_TOKEN].");
ABSL_FLAG(std::string, health_check_ca_file, EnvOr("HEALTH_CHECK_CA_FILE", ""),
          "With --health_check against a TLS server: the PEM CA that signed "
          "its certificate [env HEALTH_CHECK_CA_FILE].");
ABSL_FLAG(std::string, health_check_server_name,
          EnvOr("HEALTH_CHECK_SERVER_NAME", ""),
          "With --health_check_ca_file: the name the server's certificate "
          "carries, if not the host of --listen [env "
          "HEALTH_CHECK_SERVER_NAME].");

namespace inventory {

absl::StatusOr<SharedServerSettings> SharedServerSettingsFromFlags() {
  SharedServerSettings settings;
  settings.max_message_bytes = absl::GetFlag(FLAGS_max_message_bytes);
  settings.max_concurrent_streams = absl::GetFlag(FLAGS_max_concurrent_streams);
  settings.max_threads = absl::GetFlag(FLAGS_max_threads);
  settings.max_streams_per_client = absl::GetFlag(FLAGS_max_streams_per_client);
  settings.stream_write_timeout = absl::GetFlag(FLAGS_stream_write_timeout);
  settings.shutdown_grace = absl::GetFlag(FLAGS_shutdown_grace);
  INVENTORY_ASSIGN_OR_RETURN(
      settings.security,
      LoadServerSecurity(
          {absl::GetFlag(FLAGS_tls_cert_file),
           absl::GetFlag(FLAGS_tls_key_file),
           absl::GetFlag(FLAGS_writer_token_file), EnvOr("WRITER_TOKEN", ""),
           absl::GetFlag(FLAGS_reader_token_file), EnvOr("READER_TOKEN", "")}));
  return settings;
}

std::optional<int> HealthCheckIfAsked(const std::string& listen) {
  if (!absl::GetFlag(FLAGS_health_check)) return std::nullopt;
  return RunHealthCheck(listen, absl::GetFlag(FLAGS_health_check_ca_file),
                        absl::GetFlag(FLAGS_health_check_server_name));
}

}  // namespace inventory
