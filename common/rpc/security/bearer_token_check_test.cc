#include "common/rpc/security/bearer_token_check.h"

#include "absl/strings/str_cat.h"
#include "common/base/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace inventory {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kWriter[] = "writer-0123456789abcdef";
constexpr char kReader[] = "reader-0123456789abcdef";

BearerTokenCheck MakeCheck(std::string writer = kWriter,
                           std::string reader = kReader) {
  AccessPolicy policy;
  policy.open_services = {"grpc.health.v1.Health"};
  policy.read_services = {"inventory.v1.QueryService"};
  return BearerTokenCheck(std::move(writer), std::move(reader), policy);
}

std::string Bearer(absl::string_view token) {
  return absl::StrCat("Bearer ", token);
}

constexpr char kCommand[] = "/inventory.v1.CommandService/CreateItem";
constexpr char kQuery[] = "/inventory.v1.QueryService/GetItem";
constexpr char kHealth[] = "/grpc.health.v1.Health/Check";

TEST(ConstantTimeEqualsTest, ComparesWholeStrings) {
  EXPECT_TRUE(ConstantTimeEquals("abc", "abc"));
  EXPECT_TRUE(ConstantTimeEquals("", ""));
  EXPECT_FALSE(ConstantTimeEquals("abc", "abd"));
  EXPECT_FALSE(ConstantTimeEquals("abc", "ab"));
  EXPECT_FALSE(ConstantTimeEquals("abc", "abcd"));
  EXPECT_FALSE(ConstantTimeEquals("abc", ""));
  EXPECT_FALSE(ConstantTimeEquals("", "a"));
  // A given string padded with zeros is still not the expected one.
  EXPECT_FALSE(ConstantTimeEquals(absl::string_view("ab\0", 3), "ab"));
}

TEST(BearerTokenCheckTest, OpenServicesNeedNoToken) {
  EXPECT_THAT(MakeCheck().Check(kHealth, std::nullopt), IsOk());
  EXPECT_THAT(MakeCheck().Check(kHealth, "Bearer wrong"), IsOk());
}

TEST(BearerTokenCheckTest, MissingTokenIsUnauthenticated) {
  for (const char* method : {kCommand, kQuery, "/unknown.Service/Call"}) {
    const absl::Status status = MakeCheck().Check(method, std::nullopt);
    EXPECT_THAT(status, StatusIs(absl::StatusCode::kUnauthenticated)) << method;
    EXPECT_THAT(status.message(), HasSubstr("authorization: Bearer"));
  }
}

TEST(BearerTokenCheckTest, WrongOrMalformedTokenIsUnauthenticated) {
  const std::string near_miss =
      std::string(kWriter).substr(0, sizeof(kWriter) - 2) + "x";
  for (const std::string& header :
       {Bearer("wrong"), Bearer(near_miss), Bearer(""), std::string(kWriter),
        absl::StrCat("Basic ", kWriter), absl::StrCat("Bearer", kWriter),
        Bearer(absl::StrCat(kWriter, "x")), std::string("")}) {
    const absl::Status status = MakeCheck().Check(kQuery, header);
    EXPECT_THAT(status, StatusIs(absl::StatusCode::kUnauthenticated)) << header;
    EXPECT_THAT(status.message(), Not(HasSubstr(kWriter)));
  }
}

TEST(BearerTokenCheckTest, WriterTokenMayCallEverything) {
  for (const char* method : {kCommand, kQuery, kHealth}) {
    EXPECT_THAT(MakeCheck().Check(method, Bearer(kWriter)), IsOk()) << method;
  }
  // The scheme is case-insensitive (RFC 6750 uses "Bearer").
  EXPECT_THAT(MakeCheck().Check(kCommand, absl::StrCat("bearer ", kWriter)),
              IsOk());
}

TEST(BearerTokenCheckTest, ReaderTokenMayOnlyRead) {
  EXPECT_THAT(MakeCheck().Check(kQuery, Bearer(kReader)), IsOk());
  const absl::Status command = MakeCheck().Check(kCommand, Bearer(kReader));
  EXPECT_THAT(command, StatusIs(absl::StatusCode::kPermissionDenied));
  EXPECT_THAT(command.message(), HasSubstr("inventory.v1.CommandService"));
  EXPECT_THAT(command.message(), Not(HasSubstr(kReader)));
  // A service the policy does not list takes the writer token.
  EXPECT_THAT(MakeCheck().Check("/new.v1.AdminService/Drop", Bearer(kReader)),
              StatusIs(absl::StatusCode::kPermissionDenied));
}

TEST(BearerTokenCheckTest, AnUnsetTokenMatchesNothing) {
  const BearerTokenCheck writer_only = MakeCheck(kWriter, "");
  EXPECT_THAT(writer_only.Check(kQuery, "Bearer "),
              StatusIs(absl::StatusCode::kUnauthenticated));
  EXPECT_THAT(writer_only.Check(kQuery, Bearer(kWriter)), IsOk());
  const BearerTokenCheck reader_only = MakeCheck("", kReader);
  EXPECT_THAT(reader_only.Check(kCommand, "Bearer "),
              StatusIs(absl::StatusCode::kUnauthenticated));
  EXPECT_THAT(reader_only.Check(kCommand, Bearer(kReader)),
              StatusIs(absl::StatusCode::kPermissionDenied));
}

}  // namespace
}  // namespace inventory
