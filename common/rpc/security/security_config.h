// TLS material and bearer tokens of the services, as main() loads them
// from files and the environment: what a server presents and accepts
// (ServerSecurity), and what a client checks and presents (ChannelSecurity).
//
// Everything is read once, at start; changing a certificate or a token
// means restarting the process. Tokens are secrets: nothing here logs them,
// and Describe() says only whether each one is set.
#ifndef INVENTORY_COMMON_RPC_SECURITY_SECURITY_CONFIG_H_
#define INVENTORY_COMMON_RPC_SECURITY_SECURITY_CONFIG_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace inventory {

// A server's side. Default: plaintext, no tokens.
struct ServerSecurity {
  std::string certificate_chain;  // PEM; empty: plaintext
  std::string private_key;        // PEM, the certificate's key
  // Bearer tokens (bearer_token_check.h); both empty: no authentication.
  std::string writer_token;
  std::string reader_token;

  bool tls() const { return !certificate_chain.empty(); }
  bool tokens() const { return !writer_token.empty() || !reader_token.empty(); }
};

// A client's side of one connection. Default: plaintext, no token.
struct ChannelSecurity {
  std::string root_certificates;  // PEM CA(s); empty: plaintext
  // The name the server's certificate must carry; empty: the target's host.
  std::string server_name;
  std::string token;  // sent as "authorization: Bearer <token>"; needs TLS

  bool tls() const { return !root_certificates.empty(); }
};

// Where main() found the settings: file paths from flags, token values
// from the environment (a token is never a flag: command lines are visible
// to every local user).
struct ServerSecuritySources {
  std::string certificate_file;
  std::string private_key_file;
  std::string writer_token_file;
  std::string writer_token_env;  // the value of WRITER_TOKEN
  std::string reader_token_file;
  std::string reader_token_env;  // the value of READER_TOKEN
};

struct ChannelSecuritySources {
  // How the settings are named: "command_service" for the flags
  // --command_service_ca_file, ... and the variable COMMAND_SERVICE_TOKEN.
  std::string flag_prefix;
  std::string ca_file;
  std::string server_name;
  std::string token_file;
  std::string token_env;
};

// A token from `file` (surrounding whitespace, such as the final newline,
// is dropped) or else `env_value`; "" when both are empty. `name` names
// the setting in errors ("--writer_token_file / WRITER_TOKEN").
// INVALID_ARGUMENT when both are set, the file cannot be read, or the token
// is shorter than 16 characters or holds anything but visible ASCII.
absl::StatusOr<std::string> LoadToken(const std::string& file,
                                      const std::string& env_value,
                                      absl::string_view name);

// Reads the files and checks that the settings make sense together:
// certificate and key both or neither; tokens only with TLS (a token sent
// in plaintext can be read by anyone on the path); two different tokens.
// INVALID_ARGUMENT naming the setting otherwise.
absl::StatusOr<ServerSecurity> LoadServerSecurity(
    const ServerSecuritySources& sources);

// The same for a client: a token or server name only with a CA file.
// flag_prefix names the settings in errors.
absl::StatusOr<ChannelSecurity> LoadChannelSecurity(
    const ChannelSecuritySources& sources);

// OK when only its owner has any access to the file at `path` (mode 0600 or
// stricter), or when it cannot be examined (reading it will say why).
// Otherwise FAILED_PRECONDITION whose message names the setting `name`, the
// file, its mode and the fix (chmod 600). The loaders above log that
// message as a warning for the private key and every token file, and go
// on: a refusal would break mounted secrets, which often come 0644 or 0444.
absl::Status CheckOnlyOwnerMayRead(const std::string& path,
                                   absl::string_view name);

// A PEM file of CA certificates (for ChannelSecurity::root_certificates).
// INVALID_ARGUMENT naming the setting `name` when it cannot be read or
// holds no certificate.
absl::StatusOr<std::string> ReadCaFile(const std::string& path,
                                       absl::string_view name);

// For the start-up log line: "tls=on writer_token=set reader_token=unset".
std::string Describe(const ServerSecurity& security);
// "tls=on token=set", with `prefix` before each key.
std::string Describe(const ChannelSecurity& security, absl::string_view prefix);

}  // namespace inventory

#endif  // INVENTORY_COMMON_RPC_SECURITY_SECURITY_CONFIG_H_
