#include "examples/itemctl/invocation.h"

#include "examples/itemctl/error_line.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace inventory::itemctl {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Optional;
using ::testing::Pair;
using ::testing::UnorderedElementsAre;

// The error line a failed parse prints.
std::string ParseError(const std::vector<std::string>& words) {
  absl::StatusOr<Invocation> invocation = ParseInvocation(words);
  if (invocation.ok()) return "(parsed)";
  EXPECT_TRUE(IsUsageError(invocation.status()));
  return ErrorLine(invocation.status());
}

TEST(ParseInvocationTest, PositionalArgumentsAndOptionsInAnyOrder) {
  auto invocation = ParseInvocation(
      {"checkin", "--expect=2", "w-1", "5", "--request-id", "r-1"});
  ASSERT_TRUE(invocation.ok()) << invocation.status();
  EXPECT_EQ(invocation->command->name, "checkin");
  EXPECT_THAT(invocation->args, ElementsAre("w-1", "5"));
  EXPECT_THAT(
      invocation->options,
      UnorderedElementsAre(Pair("expect", "2"), Pair("request-id", "r-1")));
}

TEST(ParseInvocationTest, JoinsTheRemainingWordsIntoTheName) {
  auto invocation =
      ParseInvocation({"create", "w-1", "W-1", "Blue", "widget", "--expect=0"});
  ASSERT_TRUE(invocation.ok()) << invocation.status();
  EXPECT_THAT(invocation->args, ElementsAre("w-1", "W-1", "Blue widget"));
  EXPECT_TRUE(invocation->Has("expect"));
}

TEST(ParseInvocationTest, DoubleDashEndsOptions) {
  auto invocation = ParseInvocation({"rename", "w-1", "--", "--odd", "name"});
  ASSERT_TRUE(invocation.ok()) << invocation.status();
  EXPECT_THAT(invocation->args, ElementsAre("w-1", "--odd name"));
}

TEST(ParseInvocationTest, FlagOptionTakesNoValue) {
  auto invocation = ParseInvocation({"events", "--follow", "--after", "3"});
  ASSERT_TRUE(invocation.ok()) << invocation.status();
  EXPECT_TRUE(invocation->Has("follow"));
  EXPECT_THAT(invocation->IntOption("after").value(), Optional(3));
  EXPECT_EQ(ParseError({"events", "--follow=yes"}),
            "error: --follow takes no value; usage: events [--after=N] "
            "[--type=T,...] [--prefix=P] [--follow]");
}

TEST(ParseInvocationTest, WrongArgumentCountPrintsTheUsage) {
  EXPECT_EQ(ParseError({"checkin", "w-1"}),
            "error: usage: checkin <id> <qty> [--expect=<version>] "
            "[--request-id=<id>]");
  EXPECT_EQ(ParseError({"checkin", "w-1", "5", "6"}),
            "error: usage: checkin <id> <qty> [--expect=<version>] "
            "[--request-id=<id>]");
  EXPECT_EQ(ParseError({"create", "w-1", "W-1"}),
            "error: usage: create <id> <sku> <name...> [--expect=<version>] "
            "[--request-id=<id>]");
  EXPECT_EQ(ParseError({"stats", "extra"}),
            "error: usage: stats [--low=<threshold>]");
}

TEST(ParseInvocationTest, UnknownCommandAndOption) {
  EXPECT_EQ(ParseError({"frobnicate"}),
            "error: unknown command \"frobnicate\"; type help for the list");
  EXPECT_THAT(ParseError({"show", "w-1", "--as_of=1"}),
              HasSubstr("error: unknown option --as_of for show; usage: show "
                        "<id> [--as-of=<version>]"));
  EXPECT_THAT(ParseError({"show", "w-1", "--as-of"}),
              HasSubstr("error: --as-of needs a value"));
}

TEST(InvocationTest, TypedValues) {
  auto invocation =
      ParseInvocation({"list", "--active=false", "--page-size=x"});
  ASSERT_TRUE(invocation.ok()) << invocation.status();
  EXPECT_THAT(invocation->BoolOption("active").value(), Optional(false));
  EXPECT_EQ(invocation->BoolOption("name").value(), std::nullopt);
  EXPECT_EQ(ErrorLine(invocation->IntOption("page-size").status()),
            "error: --page-size must be a whole number, got \"x\"");

  auto bad_bool = ParseInvocation({"list", "--active=maybe"});
  ASSERT_TRUE(bad_bool.ok());
  EXPECT_EQ(ErrorLine(bad_bool->BoolOption("active").status()),
            "error: --active must be true or false, got \"maybe\"");

  auto checkin = ParseInvocation({"checkin", "w-1", "ten"});
  ASSERT_TRUE(checkin.ok());
  EXPECT_EQ(ErrorLine(checkin->IntArg(1, "<qty>").status()),
            "error: <qty> must be a whole number, got \"ten\"");
  auto negative = ParseInvocation({"checkin", "w-1", "-5"});
  ASSERT_TRUE(negative.ok());
  EXPECT_EQ(negative->IntArg(1, "<qty>").value(), -5);
}

TEST(SubcommandStartTest, SkipsItemctlFlagsAndTheirValues) {
  const std::vector<std::string> value_flags = {"command", "query", "timeout"};
  EXPECT_EQ(SubcommandStart({"itemctl"}, value_flags), 1u);
  EXPECT_EQ(SubcommandStart({"itemctl", "show", "--as-of=1"}, value_flags), 1u);
  EXPECT_EQ(SubcommandStart({"itemctl", "--command=h:1", "--timeout", "3s",
                             "-query", "h:2", "show", "w-1"},
                            value_flags),
            6u);
  EXPECT_EQ(SubcommandStart({"itemctl", "--timeout=1s"}, value_flags), 2u);
  EXPECT_EQ(SubcommandStart({"itemctl", "--", "show", "w-1"}, value_flags), 2u);
}

}  // namespace
}  // namespace inventory::itemctl
