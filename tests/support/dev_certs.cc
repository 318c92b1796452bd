#include "tests/support/dev_certs.h"

#include <stdlib.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <system_error>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "tests/support/service_process.h"

namespace inventory::test_support {
namespace {

absl::Status ReadFile(const std::string& path, std::string* text) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read ", path));
  std::stringstream content;
  content << in.rdbuf();
  *text = content.str();
  return absl::OkStatus();
}

absl::Status ReadToken(const std::string& path, std::string* token) {
  if (absl::Status read = ReadFile(path, token); !read.ok()) return read;
  while (!token->empty() && token->back() == '\n') token->pop_back();
  return absl::OkStatus();
}

absl::Status ReadAll(DevCerts& certs) {
  for (absl::Status read :
       {ReadFile(certs.Path("ca.pem"), &certs.ca),
        ReadFile(certs.Path("server.pem"), &certs.server_certificate),
        ReadFile(certs.Path("server.key"), &certs.server_key),
        ReadToken(certs.Path("writer.token"), &certs.writer_token),
        ReadToken(certs.Path("reader.token"), &certs.reader_token)}) {
    if (!read.ok()) return read;
  }
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
