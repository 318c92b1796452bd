#include "common/rpc/security/security_config.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "common/base/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace inventory {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kToken[] = "0123456789abcdef0123";
constexpr char kOtherToken[] = "fedcba9876543210fedc";
constexpr char kCertificate[] =
    "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
constexpr char kKey[] =
    "-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n";

class SecurityConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char dir[] = "/tmp/security-config-test-XXXXXX";
    ASSERT_NE(mkdtemp(dir), nullptr);
    dir_ = dir;
  }
  void TearDown() override {
    for (const std::string& file : files_) unlink(file.c_str());
    rmdir(dir_.c_str());
  }

  // A file in the test's folder holding `contents`; returns its path.
  std::string File(const std::string& name, const std::string& contents) {
    const std::string path = dir_ + "/" + name;
    std::ofstream(path) << contents;
    files_.push_back(path);
    return path;
  }

  ServerSecuritySources Tls() {
    ServerSecuritySources sources;
    sources.certificate_file = File("cert.pem", kCertificate);
    sources.private_key_file = File("key.pem", kKey);
    return sources;
  }

  std::string dir_;
  std::vector<std::string> files_;
};

TEST_F(SecurityConfigTest, TokenFromFileDropsSurroundingWhitespace) {
  auto token = LoadToken(File("t", std::string(kToken) + "\n"), "", "name");
  ASSERT_THAT(token, IsOk());
  EXPECT_EQ(*token, kToken);
}

TEST_F(SecurityConfigTest, TokenFromTheEnvironmentOrNone) {
  auto token = LoadToken("", kToken, "name");
  ASSERT_THAT(token, IsOk());
  EXPECT_EQ(*token, kToken);
  auto none = LoadToken("", "", "name");
  ASSERT_THAT(none, IsOk());
  EXPECT_EQ(*none, "");
}

TEST_F(SecurityConfigTest, BadTokensAreRefusedWithoutShowingThem) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {File("short", "abc\n"), "at least 16"},
      {File("space", "0123456789 abcdefgh"), "visible ASCII"},
      {File("empty", "\n"), "is empty"},
      {dir_ + "/missing", "cannot read"},
  };
  for (const auto& [file, error] : cases) {
    auto token = LoadToken(file, "", "--writer_token_file / WRITER_TOKEN");
    EXPECT_THAT(token, StatusIs(absl::StatusCode::kInvalidArgument));
    EXPECT_THAT(token.status().message(), HasSubstr(error)) << file;
    EXPECT_THAT(token.status().message(), HasSubstr("--writer_token_file"));
    EXPECT_THAT(token.status().message(), Not(HasSubstr("0123456789")));
  }
  auto both = LoadToken(File("t", kToken), kToken, "name");
  EXPECT_THAT(both.status().message(), HasSubstr("not both"));
}

TEST_F(SecurityConfigTest, ServerSecurityLoadsCertificateKeyAndTokens) {
  ServerSecuritySources sources = Tls();
  sources.writer_token_file = File("writer", kToken);
  sources.reader_token_env = kOtherToken;
  auto security = LoadServerSecurity(sources);
  ASSERT_THAT(security, IsOk());
  EXPECT_EQ(security->certificate_chain, kCertificate);
  EXPECT_EQ(security->private_key, kKey);
  EXPECT_EQ(security->writer_token, kToken);
  EXPECT_EQ(security->reader_token, kOtherToken);
  EXPECT_EQ(Describe(*security), "tls=on writer_token=set reader_token=set");
}

TEST_F(SecurityConfigTest, DefaultIsPlaintextWithoutTokens) {
  auto security = LoadServerSecurity({});
  ASSERT_THAT(security, IsOk());
  EXPECT_FALSE(security->tls());
  EXPECT_FALSE(security->tokens());
  EXPECT_EQ(Describe(*security),
            "tls=off writer_token=unset reader_token=unset");
}

TEST_F(SecurityConfigTest, ServerSettingsThatDoNotFitAreRefused) {
  ServerSecuritySources no_key = Tls();
  no_key.private_key_file.clear();
  EXPECT_THAT(LoadServerSecurity(no_key).status().message(),
              HasSubstr("both --tls_cert_file and --tls_key_file"));

  ServerSecuritySources not_pem = Tls();
  not_pem.certificate_file = File("not.pem", "hello");
  EXPECT_THAT(LoadServerSecurity(not_pem).status().message(),
              HasSubstr("no PEM CERTIFICATE"));
  ServerSecuritySources key_for_cert = Tls();
  key_for_cert.certificate_file = key_for_cert.private_key_file;
  EXPECT_THAT(LoadServerSecurity(key_for_cert).status().message(),
              HasSubstr("--tls_cert_file"));

  ServerSecuritySources plaintext_tokens;
  plaintext_tokens.writer_token_env = kToken;
  EXPECT_THAT(LoadServerSecurity(plaintext_tokens).status().message(),
              HasSubstr("bearer tokens need TLS"));

  ServerSecuritySources same = Tls();
  same.writer_token_env = kToken;
  same.reader_token_env = kToken;
  EXPECT_THAT(LoadServerSecurity(same).status().message(),
              HasSubstr("must differ"));
}

TEST_F(SecurityConfigTest, ChannelSecurity) {
  ChannelSecuritySources sources;
  sources.flag_prefix = "command_service";
  auto plaintext = LoadChannelSecurity(sources);
  ASSERT_THAT(plaintext, IsOk());
  EXPECT_FALSE(plaintext->tls());
  EXPECT_EQ(Describe(*plaintext, "command_service_"),
            "command_service_tls=off command_service_token=unset");

  sources.token_env = kToken;
  EXPECT_THAT(LoadChannelSecurity(sources).status().message(),
              HasSubstr("set --command_service_ca_file"));

  sources.ca_file = File("ca.pem", kCertificate);
  sources.server_name = "inventory.example";
  auto tls = LoadChannelSecurity(sources);
  ASSERT_THAT(tls, IsOk());
  EXPECT_EQ(tls->root_certificates, kCertificate);
  EXPECT_EQ(tls->server_name, "inventory.example");
  EXPECT_EQ(tls->token, kToken);
  EXPECT_EQ(Describe(*tls, ""), "tls=on token=set");

  sources.token_env = "short";
  EXPECT_THAT(
      LoadChannelSecurity(sources).status().message(),
      HasSubstr("--command_service_token_file / COMMAND_SERVICE_TOKEN"));
}

TEST_F(SecurityConfigTest, OnlyFilesPrivateToTheirOwnerPass) {
  const std::string path = File("secret", kToken);
  for (const mode_t mode : {0600, 0400, 0700}) {
    ASSERT_EQ(chmod(path.c_str(), mode), 0);
    EXPECT_THAT(CheckOnlyOwnerMayRead(path, "--x_file"), IsOk()) << mode;
  }
  // Missing: reading it reports that, not this check.
  EXPECT_THAT(CheckOnlyOwnerMayRead(dir_ + "/missing", "--x_file"), IsOk());
}

TEST_F(SecurityConfigTest, FilesOthersMayReadOrChangeAreNamedWithTheFix) {
  const std::string path = File("secret", kToken);
  const struct {
    mode_t mode;
    const char* shown;
    const char* access;
  } cases[] = {{0644, "0644", "read"},
               {0640, "0640", "read"},
               {0604, "0604", "read"},
               {0444, "0444", "read"},
               {0620, "0620", "changed"}};
  for (const auto& c : cases) {
    ASSERT_EQ(chmod(path.c_str(), c.mode), 0);
    const absl::Status status = CheckOnlyOwnerMayRead(path, "--x_file");
    EXPECT_THAT(status, StatusIs(absl::StatusCode::kFailedPrecondition))
        << c.shown;
    EXPECT_EQ(status.message(),
              absl::StrCat("--x_file ", path, " may be ", c.access,
                           " by users other than its owner (mode ", c.shown,
                           "): make it private to the service's user with "
                           "`chmod 600 ",
                           path, "`"));
  }
}

TEST_F(SecurityConfigTest, SharedKeyAndTokenFilesAreLoadedWithAWarning) {
  ServerSecuritySources sources = Tls();
  sources.writer_token_file = File("writer", kToken);
  sources.reader_token_file = File("reader", kOtherToken);
  ASSERT_EQ(chmod(sources.certificate_file.c_str(), 0644), 0);
  ASSERT_EQ(chmod(sources.private_key_file.c_str(), 0644), 0);
  ASSERT_EQ(chmod(sources.writer_token_file.c_str(), 0640), 0);
  ASSERT_EQ(chmod(sources.reader_token_file.c_str(), 0600), 0);

  ::testing::internal::CaptureStderr();
  auto security = LoadServerSecurity(sources);
  const std::string log = ::testing::internal::GetCapturedStderr();
  ASSERT_THAT(security, IsOk());
  EXPECT_THAT(
      log, HasSubstr(absl::StrCat("--tls_key_file ", sources.private_key_file,
                                  " may be read by users other than "
                                  "its owner (mode 0644)")));
  EXPECT_THAT(log, HasSubstr(absl::StrCat(sources.writer_token_file,
                                          " may be read by users other than "
                                          "its owner (mode 0640)")));
  // The certificate is public; the private reader token is fine.
  EXPECT_THAT(log, Not(HasSubstr(sources.certificate_file)));
  EXPECT_THAT(log, Not(HasSubstr(sources.reader_token_file)));
}

TEST_F(SecurityConfigTest, PrivateFilesLoadWithoutAWarning) {
  ServerSecuritySources sources = Tls();
  sources.writer_token_file = File("writer", kToken);
  for (const std::string* file :
       {&sources.private_key_file, &sources.writer_token_file}) {
    ASSERT_EQ(chmod(file->c_str(), 0600), 0);
  }
  ::testing::internal::CaptureStderr();
  auto security = LoadServerSecurity(sources);
  const std::string log = ::testing::internal::GetCapturedStderr();
  ASSERT_THAT(security, IsOk());
  EXPECT_EQ(log, "");
}

}  // namespace
}  // namespace inventory
