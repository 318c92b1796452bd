// The command-line flags both servers define alike, defined once here: the
// gRPC limits (--max_message_bytes, --max_concurrent_streams), TLS
// (--tls_cert_file, --tls_key_file) and the --health_check mode
// (--health_check, --health_check_ca_file, --health_check_server_name).
// Like every flag they fall back to environment variables (EnvOr,
// process_config.h), and ParseFlags lists them in --help beside the flags
// of the program's main.cc.
//
// A flag whose help text differs between the servers (--listen, its
// default port; --max_threads, --max_streams_per_client and
// --stream_write_timeout, which name each server's streams;
// --shutdown_grace; the token files, whose tokens mean different things
// on each side) stays in that server's main.cc.
//
// Link this file's library only into the server binaries: its flags would
// show up in any other program's --help.
#ifndef INVENTORY_COMMON_RPC_SERVER_FLAGS_H_
#define INVENTORY_COMMON_RPC_SERVER_FLAGS_H_

#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "common/rpc/security/security_config.h"

namespace inventory {

// What the shared flags set in a server's options: the fields of these
// names in CommandServerOptions and QueryServerOptions (ApplyTo below).
struct SharedServerSettings {
  int max_message_bytes = 0;
  int max_concurrent_streams = 0;
  // TLS from --tls_cert_file and --tls_key_file; bearer tokens from the
  // program's own token flags and WRITER_TOKEN / READER_TOKEN.
  ServerSecurity security;
};

// The shared flags' values (call after ParseFlags), with the security
// LoadServerSecurity() builds from --tls_cert_file, --tls_key_file, the
// given token files (the program's --writer_token_file and
// --reader_token_file) and the environment variables WRITER_TOKEN and
// READER_TOKEN. Fails as LoadServerSecurity() does (a missing or unreadable
// file, tokens without TLS, ...).
absl::StatusOr<SharedServerSettings> SharedServerSettingsFromFlags(
    const std::string& writer_token_file, const std::string& reader_token_file);

// Copies `settings` into a server's options (CommandServerOptions,
// QueryServerOptions: the fields of the same names).
template <typename ServerOptions>
void ApplyTo(const SharedServerSettings& settings, ServerOptions* options) {
  options->max_message_bytes = settings.max_message_bytes;
  options->max_concurrent_streams = settings.max_concurrent_streams;
  options->security = settings.security;
}

// The --health_check mode: when the flag is given, checks the server at
// `listen` (with --health_check_ca_file and --health_check_server_name; see
// RunHealthCheck() in health_client.h) and returns the process's exit code;
// nullopt when the flag is not given (serve as usual).
std::optional<int> HealthCheckIfAsked(const std::string& listen);

}  // namespace inventory

#endif  // INVENTORY_COMMON_RPC_SERVER_FLAGS_H_
