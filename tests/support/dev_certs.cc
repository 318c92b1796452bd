#include "tests/support/dev_certs.h"

#include <stdlib.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <system_error>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "common/rpc/security/security_config.h"
#include "tests/support/service_process.h"

namespace inventory::test_support {
namespace {

// Reads what the script made with the services' own loaders, which check
// it as a service would (a PEM certificate and key, tokens long enough).
absl::Status ReadAll(DevCerts& certs) {
  absl::StatusOr<ServerSecurity> server = LoadServerSecurity(
      {certs.Path("server.pem"), certs.Path("server.key"),
       certs.Path("writer.token"), "", certs.Path("reader.token"), ""});
  if (!server.ok()) return server.status();
  absl::StatusOr<std::string> ca = ReadCaFile(certs.Path("ca.pem"), "ca.pem");
  if (!ca.ok()) return ca.status();
  certs.ca = *std::move(ca);
  certs.server_certificate = std::move(server->certificate_chain);
  certs.server_key = std::move(server->private_key);
  certs.writer_token = std::move(server->writer_token);
  certs.reader_token = std::move(server->reader_token);
  return absl::OkStatus();
}

}  // namespace

std::string DevCerts::Path(const std::string& name) const {
  return absl::StrCat(dir, "/", name);
}

absl::StatusOr<DevCerts> MakeDevCerts(const std::string& name) {
  std::string pattern = absl::StrCat("/tmp/inventory-", name, "-XXXXXX");
  std::vector<char> dir(pattern.begin(), pattern.end());
  dir.push_back('\0');
  if (mkdtemp(dir.data()) == nullptr) {
    return absl::InternalError(
        absl::StrCat("mkdtemp ", pattern, ": ", std::strerror(errno)));
  }
  DevCerts certs;
  certs.dir = dir.data();
  const CommandOutput made = RunCommand({DEV_CERTS_SCRIPT, certs.dir});
  absl::Status status =
      made.exit_code == 0
          ? ReadAll(certs)
          : absl::InternalError(
                absl::StrCat(DEV_CERTS_SCRIPT, " exited with ", made.exit_code,
                             " (is openssl installed?): ", made.output));
  if (!status.ok()) {
    RemoveDevCerts(certs);
    return status;
  }
  return certs;
}

void RemoveDevCerts(const DevCerts& certs) {
  std::error_code ignored;
  std::filesystem::remove_all(certs.dir, ignored);
}

}  // namespace inventory::test_support
