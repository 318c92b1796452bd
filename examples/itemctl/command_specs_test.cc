#include "examples/itemctl/command_specs.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace inventory::itemctl {
namespace {

using ::testing::HasSubstr;

TEST(CommandSpecsTest, HelpListsEveryCommandWithItsSummary) {
  const std::string help = HelpText();
  for (const CommandSpec& spec : AllCommands()) {
    EXPECT_THAT(help, HasSubstr(spec.name)) << spec.name;
    if (spec.name != "exit") {
      EXPECT_THAT(help, HasSubstr(spec.summary));
    }
  }
  EXPECT_THAT(help, HasSubstr("  checkin <id> <qty>"));
}

TEST(CommandSpecsTest, WriteCommandsTakeExpectAndRequestId) {
  for (const char* name :
       {"create", "rename", "checkin", "remove", "deactivate", "reactivate"}) {
    const CommandSpec* spec = FindCommand(name);
    ASSERT_NE(spec, nullptr) << name;
    EXPECT_THAT(Synopsis(*spec),
                HasSubstr("[--expect=<version>] [--request-id=<id>]"));
  }
  EXPECT_EQ(Synopsis(*FindCommand("show")), "show <id> [--as-of=<version>]");
  EXPECT_EQ(FindCommand("nope"), nullptr);
}

}  // namespace
}  // namespace inventory::itemctl
