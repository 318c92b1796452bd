// itemctl (examples/itemctl) as users run it: the binary against a real
// command-service (events in memory) and query-service, in one-shot mode
// and in interactive mode fed a script through a pipe.
#include <memory>
#include <regex>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/inventory_system.h"
#include "tests/support/service_process.h"

namespace inventory {
namespace {

using test_support::CommandOutput;
using test_support::RunCommand;
using test_support::RunCommandWithInput;
using ::testing::ContainsRegex;
using ::testing::HasSubstr;
using ::testing::Not;

class ItemctlTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    // No postgres: events in memory, even if DATABASE_URL is set.
    test_support::InventorySystemOptions options;
    options.command_binary = COMMAND_SERVICE_BINARY;
    options.query_binary = QUERY_SERVICE_BINARY;
    auto system = test_support::InventorySystem::Start(options);
    ASSERT_TRUE(system.ok()) << system.status();
    system_ = system->release();
  }

  static void TearDownTestSuite() {
    delete system_;
    system_ = nullptr;
  }

  void SetUp() override { ASSERT_NE(system_, nullptr); }

  // itemctl's argv with both services' addresses, then `args`.
  static std::vector<std::string> Argv(const std::vector<std::string>& args) {
    std::vector<std::string> argv = {
        ITEMCTL_BINARY, absl::StrCat("--command=", system_->command_address()),
        absl::StrCat("--query=", system_->query().address())};
    argv.insert(argv.end(), args.begin(), args.end());
    return argv;
  }

  static CommandOutput Itemctl(const std::vector<std::string>& args) {
    return RunCommand(Argv(args));
  }

  static test_support::InventorySystem* system_;
};

test_support::InventorySystem* ItemctlTest::system_ = nullptr;

// The global position in "ok: item ... (global position N)".
int64_t GlobalPosition(const std::string& output) {
  static const std::regex kPosition(R"(\(global position (\d+)\))");
  std::smatch match;
  int64_t position = 0;
  if (std::regex_search(output, match, kPosition)) {
    EXPECT_TRUE(absl::SimpleAtoi(match[1].str(), &position));
  }
  return position;
}

TEST_F(ItemctlTest, OneShotCommandsQueriesAndErrors) {
  CommandOutput created = Itemctl({"create", "widget-1", "W-1", "Blue widget"});
  EXPECT_EQ(created.exit_code, 0) << created.output;
  EXPECT_THAT(created.output, ContainsRegex(R"(^ok: item widget-1 version 1 )"
                                            R"(\(global position [0-9]+\))"
                                            "\n$"));

  CommandOutput checked_in =
      Itemctl({"checkin", "widget-1", "5", "--expect=1", "--request-id=c-1"});
  EXPECT_EQ(checked_in.exit_code, 0) << checked_in.output;
  EXPECT_THAT(checked_in.output, HasSubstr("ok: item widget-1 version 2"));
  const int64_t position = GlobalPosition(checked_in.output);
  ASSERT_GT(position, GlobalPosition(created.output)) << checked_in.output;

  // Another process: read-your-writes through --min_position.
  CommandOutput shown = RunCommand(
      Argv({absl::StrCat("--min_position=", position), "show", "widget-1"}));
  EXPECT_EQ(shown.exit_code, 0) << shown.output;
  EXPECT_THAT(shown.output, HasSubstr("item:     widget-1\n"));
  EXPECT_THAT(shown.output, HasSubstr("name:     Blue widget\n"));
  EXPECT_THAT(shown.output, HasSubstr("on hand:  5\n"));
  EXPECT_THAT(shown.output, HasSubstr("version:  2\n"));

  CommandOutput too_many = Itemctl({"remove", "widget-1", "10"});
  EXPECT_EQ(too_many.exit_code, 1);
  EXPECT_EQ(too_many.output,
            "error: FAILED_PRECONDITION (INSUFFICIENT_STOCK): cannot remove 10 "
            "units: only 5 on hand\n");

  CommandOutput invalid = Itemctl({"create", "widget-2", "lower", "Thing"});
  EXPECT_EQ(invalid.exit_code, 1);
  EXPECT_THAT(invalid.output,
              ContainsRegex(
                  R"(^error: INVALID_ARGUMENT \(INVALID_FIELD\): field sku: .+)"
                  "\n$"));

  CommandOutput stale = Itemctl({"checkin", "widget-1", "1", "--expect=1"});
  EXPECT_EQ(stale.exit_code, 1);
  EXPECT_EQ(stale.output,
            "error: ABORTED (VERSION_CONFLICT): item is at version 2, expected "
            "1\n");

  CommandOutput usage = Itemctl({"checkin", "widget-1"});
  EXPECT_EQ(usage.exit_code, 1);
  EXPECT_THAT(usage.output, HasSubstr("error: usage: checkin <id> <qty>"));
}

TEST_F(ItemctlTest, InteractiveScriptFromAPipe) {
  const std::string script =
      "help\n"
      "create gadget-1 G-1 \"Big  gadget\"\n"
      "checkin gadget-1 7\n"
      "show gadget-1\n"
      "list --sku=G-\n"
      "history gadget-1\n"
      "stats --low=10\n"
      "events --prefix=item-gadget-\n"
      "remove gadget-1 100\n"
      "rename gadget-1\n"
      "\n"
      "deactivate gadget-1\n"
      "list --active=false --name=GADGET\n";
  CommandOutput run = RunCommandWithInput(Argv({}), script);
  ASSERT_EQ(run.exit_code, 0) << run.output;
  const std::string& out = run.output;
  SCOPED_TRACE(out);

  // No prompts when stdin is not a terminal: the output is the results.
  EXPECT_THAT(out, Not(HasSubstr("itemctl>")));
  // help lists every command.
  for (const char* command :
       {"create", "rename", "checkin", "remove", "deactivate", "reactivate",
        "show", "list", "history", "stats", "watch", "events", "quit"}) {
    EXPECT_THAT(out, HasSubstr(absl::StrCat("\n  ", command))) << command;
  }
  EXPECT_THAT(out, HasSubstr("ok: item gadget-1 version 1 (global position"));
  EXPECT_THAT(out, HasSubstr("ok: item gadget-1 version 2 (global position"));
  // show right after checkin sees it (read-your-writes in one shell).
  EXPECT_THAT(out, HasSubstr("name:     Big  gadget\non hand:  7\n"));
  // list: an aligned table.
  EXPECT_THAT(out, HasSubstr("ID        SKU  NAME         ON HAND  ACTIVE  "
                             "VERSION\n"
                             "gadget-1  G-1  Big  gadget        7  yes     "
                             "      2\n"
                             "(1 item)\n"));
  // history: one row per event.
  EXPECT_THAT(out, HasSubstr("VERSION  POSITION  TYPE            DETAILS"));
  EXPECT_THAT(out, ContainsRegex("\n"
                                 R"( +1 +[0-9]+  ItemCreated +sku=G-1 )"
                                 R"(name="Big  gadget"  [0-9-]+ [0-9:]+ UTC)"));
  EXPECT_THAT(out, ContainsRegex("\n"
                                 R"( +2 +[0-9]+  ItemsCheckedIn +)"
                                 R"(quantity=7 +[0-9-]+ [0-9:]+ UTC)"));
  // stats: gadget-1 has fewer than 10.
  EXPECT_THAT(out, ContainsRegex(R"(low stock \(<10\): [0-9]+: .*gadget-1)"));
  // events: the filtered log, then the end of the catch-up.
  EXPECT_THAT(out, ContainsRegex(R"(#[0-9]+ item-gadget-1 v1 ItemCreated )"
                                 R"(sku=G-1 name="Big  gadget" at )"));
  EXPECT_THAT(out, ContainsRegex(R"(#[0-9]+ item-gadget-1 v2 ItemsCheckedIn )"
                                 "quantity=7 at [^\n]*\n"
                                 R"(\(caught up at position [0-9]+\))"
                                 "\n"));
  // Errors do not end the shell, and appear in order with the results.
  EXPECT_THAT(out, ContainsRegex(
                       R"(\(caught up at position [0-9]+\))"
                       "\n"
                       R"(error: FAILED_PRECONDITION \(INSUFFICIENT_STOCK\): )"
                       "cannot remove 100 units: only 7 on hand\n"
                       "error: usage: rename <id> <name...> "
                       R"(\[--expect=<version>\] \[--request-id=<id>\])"
                       "\n"
                       "ok: item gadget-1 version 3 "));
  EXPECT_THAT(out, HasSubstr("gadget-1  G-1  Big  gadget        7  no      "
                             "      3\n(1 item)\n"));
}

TEST_F(ItemctlTest, QuitEndsTheShellAndEndOfInputExitsZero) {
  CommandOutput quit =
      RunCommandWithInput(Argv({}), "stats\nquit\ncreate late L-1 Late\n");
  EXPECT_EQ(quit.exit_code, 0) << quit.output;
  EXPECT_THAT(quit.output, HasSubstr("units on hand:"));
  EXPECT_THAT(quit.output, Not(HasSubstr("late")));

  CommandOutput empty = RunCommandWithInput(Argv({}), "");
  EXPECT_EQ(empty.exit_code, 0);
  EXPECT_EQ(empty.output, "");

  CommandOutput unknown = RunCommandWithInput(Argv({}), "frobnicate\n");
  EXPECT_EQ(unknown.exit_code, 0);
  EXPECT_EQ(unknown.output,
            "error: unknown command \"frobnicate\"; type help for the list\n");
}

// --help is itemctl's usage and its own flags, nothing from the libraries
// it links (no "Flags from <file>:" headers, no Abseil flags). The flags
// given before it are parsed: their values show as "currently".
TEST(ItemctlHelpTest, ListsOnlyItemctlsOwnFlags) {
  const CommandOutput help =
      RunCommand({ITEMCTL_BINARY, "--timeout=3s", "--help"});
  EXPECT_THAT(help.output, HasSubstr("Usage: itemctl"));
  for (const char* flag :
       {"--command (", "--query (", "--timeout (", "--ca_file (",
        "--token_file (", "--min_position ("}) {
    EXPECT_THAT(help.output, HasSubstr(flag));
  }
  EXPECT_THAT(help.output, HasSubstr("currently: 3s"));
  for (const char* noise :
       {"Flags from", "--flagfile", "--helpfull", "--fromenv", "--tryfromenv",
        "--undefok", "--version", "--only_check_args", "Try --helpfull"}) {
    EXPECT_THAT(help.output, Not(HasSubstr(noise)));
  }
  // Each flag line is "    --name (...": the form the docs tests read.
  const std::regex kFlagLine(R"((^|\n)    --(\w+) \()");
  int flags = 0;
  for (auto it = std::sregex_iterator(help.output.begin(), help.output.end(),
                                      kFlagLine);
       it != std::sregex_iterator(); ++it) {
    ++flags;
  }
  EXPECT_EQ(flags, 6) << help.output;
}

}  // namespace
}  // namespace inventory
