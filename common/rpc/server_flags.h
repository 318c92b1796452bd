// The command-line flags both servers share, defined once here, each with
// one help text that is true for both: the gRPC limits
// (--max_message_bytes, --max_concurrent_streams, --max_threads), the limits
// on each server's long-lived streams (--max_streams_per_client,
// --stream_write_timeout: the command-service's event subscriptions, the
// query-service's WatchItem streams), --shutdown_grace, TLS
// (--tls_cert_file, --tls_key_file), the bearer tokens
// (--writer_token_file, --reader_token_file, and WRITER_TOKEN /
// READER_TOKEN) and the --health_check mode (--health_check,
// --health_check_ca_file, --health_check_server_name). Like every flag they
// fall back to environment variables (EnvOr, process_config.h), and
// ParseFlags lists them in --help beside the flags of the program's
// main.cc.
//
// --listen stays in each server's main.cc: its default (and the port its
// help text names) differs, 50051 for the command-service and 50052 for
// the query-service, and an Abseil flag's default is fixed where the flag
// is defined (and --help prints it).
//
// Link this file's library only into the server binaries: its flags would
// show up in any other program's --help.
#ifndef INVENTORY_COMMON_RPC_SERVER_FLAGS_H_
#define INVENTORY_COMMON_RPC_SERVER_FLAGS_H_

#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/rpc/security/security_config.h"

namespace inventory {

// The shared flags' values. ApplyTo() copies those whose fields have the
// same names in CommandServerOptions and QueryServerOptions; the program
// applies the rest itself, as its server names them.
struct SharedServerSettings {
  int max_message_bytes = 0;
  int max_concurrent_streams = 0;
  int max_threads = 0;
  // TLS from --tls_cert_file and --tls_key_file; bearer tokens from
  // --writer_token_file, --reader_token_file, WRITER_TOKEN and READER_TOKEN.
  ServerSecurity security;
  // For the server's long-lived streams, whose options have names of their
  // own: CommandServerOptions::stream (max_subscribers_per_client,
  // write_timeout), QueryServerOptions::query (max_watchers_per_client,
  // write_timeout).
  int max_streams_per_client = 0;
  absl::Duration stream_write_timeout;
  // What main() gives Shutdown() on SIGINT/SIGTERM (and the command-service
  // its database listener).
  absl::Duration shutdown_grace;
};

// The shared flags' values (call after ParseFlags), with the security
// LoadServerSecurity() builds from --tls_cert_file, --tls_key_file,
// --writer_token_file, --reader_token_file and the environment variables
// WRITER_TOKEN and READER_TOKEN. Fails as LoadServerSecurity() does (a
// missing or unreadable file, tokens without TLS, ...).
absl::StatusOr<SharedServerSettings> SharedServerSettingsFromFlags();

// Copies `settings` into a server's options (CommandServerOptions,
// QueryServerOptions: the fields of the same names).
template <typename ServerOptions>
void ApplyTo(const SharedServerSettings& settings, ServerOptions* options) {
  options->max_message_bytes = settings.max_message_bytes;
  options->max_concurrent_streams = settings.max_concurrent_streams;
  options->max_threads = settings.max_threads;
  options->security = settings.security;
}

// The --health_check mode: when the flag is given, checks the server at
// `listen` (with --health_check_ca_file and --health_check_server_name; see
// RunHealthCheck() in health_client.h) and returns the process's exit code;
// nullopt when the flag is not given (serve as usual).
std::optional<int> HealthCheckIfAsked(const std::string& listen);

}  // namespace inventory

#endif  // INVENTORY_COMMON_RPC_SERVER_FLAGS_H_
