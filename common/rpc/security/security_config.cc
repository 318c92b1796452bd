#include "common/rpc/security/security_config.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/base/log.h"

namespace inventory {
namespace {

constexpr size_t kMinTokenLength = 16;

// The whole of `path`; `name` is the setting it came from, for errors.
absl::StatusOr<std::string> ReadFile(const std::string& path,
                                     absl::string_view name) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return absl::InvalidArgumentError(absl::StrCat(
        "cannot read ", name, " ", path, ": ", std::strerror(errno)));
  }
  std::stringstream contents;
  contents << in.rdbuf();
  return contents.str();
}

// A PEM file that must hold a block whose BEGIN line contains `label`.
absl::StatusOr<std::string> ReadPem(const std::string& path,
                                    absl::string_view name,
                                    absl::string_view label) {
  absl::StatusOr<std::string> pem = ReadFile(path, name);
  if (!pem.ok()) return pem.status();
  const size_t begin = pem->find("-----BEGIN ");
  const absl::string_view first_line =
      begin == std::string::npos ? absl::string_view()
                                 : absl::string_view(*pem).substr(
                                       begin, pem->find('\n', begin) - begin);
  if (!absl::StrContains(first_line, label)) {
    return absl::InvalidArgumentError(absl::StrCat(
        name, " ", path, " holds no PEM ", label, " (-----BEGIN ...)"));
  }
  return pem;
}

// A secret file others may read is worth a line at start, not a refusal.
void WarnUnlessOnlyOwnerMayRead(const std::string& path,
                                absl::string_view name) {
  const absl::Status private_file = CheckOnlyOwnerMayRead(path, name);
  if (!private_file.ok()) LogWarning(private_file.message());
}

absl::Status CheckToken(absl::string_view token, absl::string_view name) {
  if (token.size() < kMinTokenLength) {
    return absl::InvalidArgumentError(
        absl::StrCat(name, ": a token needs at least ", kMinTokenLength,
                     " characters (e.g. `openssl rand -hex 32`)"));
  }
  for (const char c : token) {
    if (c <= ' ' || c > '~') {
      return absl::InvalidArgumentError(absl::StrCat(
          name, ": a token may hold only visible ASCII characters"));
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::string> LoadToken(const std::string& file,
                                      const std::string& env_value,
                                      absl::string_view name) {
  if (!file.empty() && !env_value.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(name, ": set the file or the variable, not both"));
  }
  std::string token = env_value;
  if (!file.empty()) {
    absl::StatusOr<std::string> contents = ReadFile(file, name);
    if (!contents.ok()) return contents.status();
    WarnUnlessOnlyOwnerMayRead(file, name);
    token = std::string(absl::StripAsciiWhitespace(*contents));
    if (token.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat(name, ": ", file, " is empty"));
    }
  }
  if (token.empty()) return token;
  absl::Status valid = CheckToken(token, name);
  if (!valid.ok()) return valid;
  return token;
}

absl::Status CheckOnlyOwnerMayRead(const std::string& path,
                                   absl::string_view name) {
  struct stat info;
  if (stat(path.c_str(), &info) != 0) return absl::OkStatus();
  const mode_t others = info.st_mode & (S_IRWXG | S_IRWXO);
  if (others == 0) return absl::OkStatus();
  return absl::FailedPreconditionError(absl::StrFormat(
      "%s %s may be %s by users other than its owner (mode %04o): make it "
      "private to the service's user with `chmod 600 %s`",
      name, path, (others & (S_IRGRP | S_IROTH)) != 0 ? "read" : "changed",
      info.st_mode & 07777, path));
}

absl::StatusOr<std::string> ReadCaFile(const std::string& path,
                                       absl::string_view name) {
  return ReadPem(path, name, "CERTIFICATE");
}

absl::StatusOr<ServerSecurity> LoadServerSecurity(
    const ServerSecuritySources& sources) {
  ServerSecurity security;
  if (sources.certificate_file.empty() != sources.private_key_file.empty()) {
    return absl::InvalidArgumentError(
        "TLS needs both --tls_cert_file and --tls_key_file");
  }
  if (!sources.certificate_file.empty()) {
    absl::StatusOr<std::string> chain =
        ReadPem(sources.certificate_file, "--tls_cert_file", "CERTIFICATE");
    if (!chain.ok()) return chain.status();
    absl::StatusOr<std::string> key =
        ReadPem(sources.private_key_file, "--tls_key_file", "PRIVATE KEY");
    if (!key.ok()) return key.status();
    WarnUnlessOnlyOwnerMayRead(sources.private_key_file, "--tls_key_file");
    security.certificate_chain = std::move(*chain);
    security.private_key = std::move(*key);
  }
  absl::StatusOr<std::string> writer =
      LoadToken(sources.writer_token_file, sources.writer_token_env,
                "--writer_token_file / WRITER_TOKEN");
  if (!writer.ok()) return writer.status();
  absl::StatusOr<std::string> reader =
      LoadToken(sources.reader_token_file, sources.reader_token_env,
                "--reader_token_file / READER_TOKEN");
  if (!reader.ok()) return reader.status();
  security.writer_token = std::move(*writer);
  security.reader_token = std::move(*reader);
  if (security.tokens() && !security.tls()) {
    return absl::InvalidArgumentError(
        "bearer tokens need TLS (--tls_cert_file and --tls_key_file): a "
        "token sent in plaintext can be read by anyone on the path");
  }
  if (!security.writer_token.empty() &&
      security.writer_token == security.reader_token) {
    return absl::InvalidArgumentError(
        "the writer and reader tokens must differ");
  }
  return security;
}

absl::StatusOr<ChannelSecurity> LoadChannelSecurity(
    const ChannelSecuritySources& sources) {
  const std::string& prefix = sources.flag_prefix;
  ChannelSecurity security;
  if (!sources.ca_file.empty()) {
    absl::StatusOr<std::string> roots =
        ReadCaFile(sources.ca_file, absl::StrCat("--", prefix, "_ca_file"));
    if (!roots.ok()) return roots.status();
    security.root_certificates = std::move(*roots);
  }
  security.server_name = sources.server_name;
  absl::StatusOr<std::string> token =
      LoadToken(sources.token_file, sources.token_env,
                absl::StrCat("--", prefix, "_token_file / ",
                             absl::AsciiStrToUpper(prefix), "_TOKEN"));
  if (!token.ok()) return token.status();
  security.token = std::move(*token);
  if (!security.tls() &&
      (!security.token.empty() || !security.server_name.empty())) {
    return absl::InvalidArgumentError(absl::StrCat(
        "a token or a server name needs TLS: set --", prefix,
        "_ca_file to the CA that signed the server's certificate"));
  }
  return security;
}

std::string Describe(const ServerSecurity& security) {
  return absl::StrCat(
      "tls=", security.tls() ? "on" : "off",
      " writer_token=", security.writer_token.empty() ? "unset" : "set",
      " reader_token=", security.reader_token.empty() ? "unset" : "set");
}

std::string Describe(const ChannelSecurity& security,
                     absl::string_view prefix) {
  return absl::StrCat(prefix, "tls=", security.tls() ? "on" : "off", " ",
                      prefix,
                      "token=", security.token.empty() ? "unset" : "set");
}

}  // namespace inventory
