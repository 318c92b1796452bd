// Certificates and tokens for the tests of TLS and bearer tokens, made at
// test time by scripts/dev-certs.sh (the openssl CLI) in a temporary
// folder of their own: a private CA, a server certificate it signed (for
// localhost and 127.0.0.1), and a writer and a reader token.
//
//   absl::StatusOr<DevCerts> certs = MakeDevCerts("security-test");
//   ... certs->ca, certs->Path("server.key") ...
//   RemoveDevCerts(*certs);
#ifndef INVENTORY_TESTS_SUPPORT_DEV_CERTS_H_
#define INVENTORY_TESTS_SUPPORT_DEV_CERTS_H_

#include <string>

#include "absl/status/statusor.h"

namespace inventory::test_support {

// What scripts/dev-certs.sh made in `dir`, and the files' contents as
// they were read once made.
struct DevCerts {
  std::string dir;                 // "/tmp/inventory-<name>-XXXXXX", made
  std::string ca;                  // ca.pem: what clients trust
  std::string server_certificate;  // server.pem
  std::string server_key;          // server.key
  std::string writer_token;        // writer.token, without its newline
  std::string reader_token;        // reader.token, without its newline

  // The file `name` in `dir` (e.g. "ca.pem", "reader.token").
  std::string Path(const std::string& name) const;
};

// Makes a new folder "/tmp/inventory-<name>-XXXXXX", runs
// scripts/dev-certs.sh into it and reads what it made. An error names
// what failed (with the script's output when it failed); the folder is
// then removed. Otherwise the folder stays until RemoveDevCerts: the
// services may be given its files' paths.
absl::StatusOr<DevCerts> MakeDevCerts(const std::string& name);

// Removes `certs.dir` and everything in it.
void RemoveDevCerts(const DevCerts& certs);

}  // namespace inventory::test_support

#endif  // INVENTORY_TESTS_SUPPORT_DEV_CERTS_H_
