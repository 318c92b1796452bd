#include "common/security_config.h"

#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <string>

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
  ASSERT_TRUE(token.ok()) << token.status();
  EXPECT_EQ(*token, kToken);
}

TEST_F(SecurityConfigTest, TokenFromTheEnvironmentOrNone) {
  auto token = LoadToken("", kToken, "name");
  ASSERT_TRUE(token.ok()) << token.status();
  EXPECT_EQ(*token, kToken);
  auto none = LoadToken("", "", "name");
  ASSERT_TRUE(none.ok()) << none.status();
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
    EXPECT_EQ(token.status().code(), absl::StatusCode::kInvalidArgument);
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
  ASSERT_TRUE(security.ok()) << security.status();
  EXPECT_EQ(security->certificate_chain, kCertificate);
  EXPECT_EQ(security->private_key, kKey);
  EXPECT_EQ(security->writer_token, kToken);
  EXPECT_EQ(security->reader_token, kOtherToken);
  EXPECT_EQ(Describe(*security), "tls=on writer_token=set reader_token=set");
}

TEST_F(SecurityConfigTest, DefaultIsPlaintextWithoutTokens) {
  auto security = LoadServerSecurity({});
  ASSERT_TRUE(security.ok()) << security.status();
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
  ASSERT_TRUE(plaintext.ok()) << plaintext.status();
  EXPECT_FALSE(plaintext->tls());
  EXPECT_EQ(Describe(*plaintext, "command_service_"),
            "command_service_tls=off command_service_token=unset");

  sources.token_env = kToken;
  EXPECT_THAT(LoadChannelSecurity(sources).status().message(),
              HasSubstr("set --command_service_ca_file"));

  sources.ca_file = File("ca.pem", kCertificate);
  sources.server_name = "inventory.example";
  auto tls = LoadChannelSecurity(sources);
  ASSERT_TRUE(tls.ok()) << tls.status();
  EXPECT_EQ(tls->root_certificates, kCertificate);
  EXPECT_EQ(tls->server_name, "inventory.example");
  EXPECT_EQ(tls->token, kToken);
  EXPECT_EQ(Describe(*tls, ""), "tls=on token=set");

  sources.token_env = "short";
  EXPECT_THAT(
      LoadChannelSecurity(sources).status().message(),
      HasSubstr("--command_service_token_file / COMMAND_SERVICE_TOKEN"));
}

}  // namespace
}  // namespace inventory
