#include "common/base/connection_string_redaction.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace inventory {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

struct Case {
  const char* name;
  const char* conninfo;
  const char* redacted;
};

class RedactConnectionStringTest : public ::testing::TestWithParam<Case> {};

TEST_P(RedactConnectionStringTest, MasksEveryPasswordAndKeepsTheRest) {
  EXPECT_EQ(RedactConnectionString(GetParam().conninfo), GetParam().redacted);
}

// Every secret in the table below is spelled with "S3" so that the test
// after it can check that none survives.
INSTANTIATE_TEST_SUITE_P(
    Forms, RedactConnectionStringTest,
    ::testing::Values(
        // URI user info.
        Case{"UserInfo", "postgresql://app:S3cret@db/x",
             "postgresql://app:***@db/x"},
        Case{"ShortScheme", "postgres://app:S3cret@db:5432/x",
             "postgres://app:***@db:5432/x"},
        Case{"UserInfoWithoutPassword", "postgresql://app@db/x",
             "postgresql://app@db/x"},
        Case{"EmptyPassword", "postgresql://app:@db/x",
             "postgresql://app:***@db/x"},
        Case{"PercentEncodedPassword", "postgresql://app:S3%40c%2Fret@db/x",
             "postgresql://app:***@db/x"},
        // libpq looks for '@' up to the first '/', so '?' and ':' may be
        // part of the password.
        Case{"PasswordWithQuestionMarkAndColon",
             "postgresql://app:S3?c:ret@db/x", "postgresql://app:***@db/x"},
        Case{"MultipleHosts",
             "postgresql://app:S3cret@h1:5432,h2:5433,[::1]:5434/x"
             "?target_session_attrs=read-write",
             "postgresql://app:***@h1:5432,h2:5433,[::1]:5434/x"
             "?target_session_attrs=read-write"},
        Case{"NoUserInfo", "postgresql://db/x?sslmode=require",
             "postgresql://db/x?sslmode=require"},
        Case{"AtInTheDatabaseName", "postgresql://db:5432/my@db",
             "postgresql://db:5432/my@db"},
        Case{"OnlyAScheme", "postgresql://", "postgresql://"},
        // URI query parameters.
        Case{"PasswordParameter",
             "postgresql://app@db/x?sslmode=require&password=S3cret",
             "postgresql://app@db/x?sslmode=require&password=***"},
        Case{"PasswordParameterFirst",
             "postgresql://db/x?password=S3cret&sslmode=require",
             "postgresql://db/x?password=***&sslmode=require"},
        Case{"PercentEncodedParameterName",
             "postgresql://db/x?p%61ss%77ord=S3cret%26x",
             "postgresql://db/x?p%61ss%77ord=***"},
        Case{"SslPasswordParameter",
             "postgresql://db/x?sslkey=/k.pem&sslpassword=S3cret",
             "postgresql://db/x?sslkey=/k.pem&sslpassword=***"},
        Case{"EmptyPasswordParameter",
             "postgresql://db/x?password=", "postgresql://db/x?password=***"},
        Case{"BothPlaces", "postgresql://app:S3a@db/x?password=S3b",
             "postgresql://app:***@db/x?password=***"},
        Case{"PasswordAsAnotherParametersValue",
             "postgresql://password@db/password"
             "?application_name=password&passwordless=1",
             "postgresql://password@db/password"
             "?application_name=password&passwordless=1"},
        // Keyword form.
        Case{"Keyword", "host=db user=app password=S3cret dbname=x",
             "host=db user=app password=*** dbname=x"},
        Case{"KeywordLast", "host=db password=S3cret", "host=db password=***"},
        Case{"SpacesAroundEquals", "host=db password = S3cret  port=5432",
             "host=db password = ***  port=5432"},
        Case{"QuotedWithSpaceAndEscapedQuote",
             R"(host=db password='S3 cr\' x' user=app)",
             "host=db password=*** user=app"},
        Case{"BareWithEscapedSpace", R"(password=S3\ cret user=app)",
             "password=*** user=app"},
        Case{"EmptyQuoted", "host=db password='' user=app",
             "host=db password=*** user=app"},
        Case{"UnterminatedQuote", "host=db password='S3 cret",
             "host=db password=***"},
        Case{"KeywordInCapitals", "host=db PASSWORD=S3cret",
             "host=db PASSWORD=***"},
        Case{"SslPasswordKeyword", "sslkey=/k.pem sslpassword=S3cret",
             "sslkey=/k.pem sslpassword=***"},
        Case{"NoPassword", "host=db user=app dbname=x",
             "host=db user=app dbname=x"},
        Case{"Empty", "", ""},
        Case{"MultipleHostsKeyword",
             "host=h1,h2 port=5432,5433 password=S3cret",
             "host=h1,h2 port=5432,5433 password=***"},
        // The word "password" inside other values: left alone, and the
        // real password after it is still found.
        Case{"PasswordInsideAQuotedValue",
             "application_name='x password=y' password=S3cret",
             "application_name='x password=y' password=***"},
        Case{"QuotedValueHidingAFakeQuote",
             R"(application_name='it\'s password=' password=S3cret)",
             R"(application_name='it\'s password=' password=***)"},
        Case{"PasswordAsUserName", "user=password password=S3cret",
             "user=password password=***"}),
    [](const ::testing::TestParamInfo<Case>& info) {
      return std::string(info.param.name);
    });

TEST_P(RedactConnectionStringTest, NoSecretSurvives) {
  EXPECT_THAT(RedactConnectionString(GetParam().conninfo),
              Not(HasSubstr("S3")));
}

}  // namespace
}  // namespace inventory
