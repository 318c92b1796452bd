#include "common/base/log.h"

#include <string>
#include <vector>

#include "absl/time/time.h"
#include "common/base/log_capture.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace inventory {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::MatchesRegex;
using ::testing::Not;

TEST(EscapeForLogTest, KeepsPrintableAscii) {
  EXPECT_EQ(EscapeForLog("/inventory.v1.CommandService/CreateItem"),
            "/inventory.v1.CommandService/CreateItem");
  EXPECT_EQ(EscapeForLog(""), "");
}

TEST(EscapeForLogTest, ShowsEveryOtherByteAsHex) {
  EXPECT_EQ(EscapeForLog(std::string("a\nb\rc\td\0e", 9)),
            R"(a\x0ab\x0dc\x09d\x00e)");
  EXPECT_EQ(EscapeForLog("\x7f\x80\xff"), R"(\x7f\x80\xff)");
  EXPECT_EQ(EscapeForLog("caf\xc3\xa9"), R"(caf\xc3\xa9)");
}

TEST(EscapeForLogTest, EscapesBackslashSoAnEscapeCannotBeForged) {
  // A client sending the four characters \x0a must not look like a
  // client sending a newline.
  EXPECT_EQ(EscapeForLog(R"(\x0a)"), R"(\\x0a)");
  EXPECT_NE(EscapeForLog(R"(\x0a)"), EscapeForLog("\n"));
}

TEST(EscapeForLogTest, NoTerminalEscapeSequenceSurvives) {
  const std::string escaped = EscapeForLog(
      "\x1b[31mred\x1b[0m\x9b"
      "2J\n2026-01-01T00:00:00Z INFO ");
  EXPECT_THAT(escaped, Not(HasSubstr("\x1b")));
  EXPECT_THAT(escaped, Not(HasSubstr("\n")));
  EXPECT_EQ(escaped,
            R"(\x1b[31mred\x1b[0m\x9b2J\x0a2026-01-01T00:00:00Z INFO )");
}

TEST(EscapeForLogTest, CutsLongTextAndSaysHowMuch) {
  const std::string text(250, 'a');
  EXPECT_EQ(EscapeForLog(text), std::string(200, 'a') + "...[50 bytes cut]");
  EXPECT_EQ(EscapeForLog(text, 250), text);
  EXPECT_EQ(EscapeForLog("abc\n", 3), "abc...[1 bytes cut]");
  // The limit counts the client's bytes, not the escaped ones.
  EXPECT_EQ(EscapeForLog(std::string(3, '\n'), 2),
            R"(\x0a\x0a...[1 bytes cut])");
}

TEST(LogTest, EveryLineIsOneLineWithoutControlBytes) {
  ::testing::internal::CaptureStderr();
  Log(LogLevel::kWarning, "first\nsecond\x1b[2J\x07 end\n");
  const std::string written = ::testing::internal::GetCapturedStderr();
  EXPECT_THAT(written, HasSubstr(R"( WARN  first second\x1b[2J\x07 end)"));
  EXPECT_EQ(written.find('\n'), written.size() - 1) << written;
  EXPECT_THAT(written, Not(HasSubstr("\x1b")));
}

TEST(LogCaptureTest, SeesEachLineAsWrittenWhileItExists) {
  LogWarning("before the capture");
  std::vector<std::string> lines;
  {
    LogCapture capture;
    LogInfo("one ", 1);
    LogError("two\nlines");
    EXPECT_EQ(capture.Count("one 1"), 1);
    EXPECT_EQ(capture.Count("before"), 0);
    EXPECT_TRUE(capture.WaitFor("two lines", absl::ZeroDuration()));
    EXPECT_FALSE(capture.WaitFor("three", absl::Milliseconds(1)));
    EXPECT_FALSE(capture.WaitFor("one", absl::Milliseconds(1), /*count=*/2));
    lines = capture.Lines();
  }
  EXPECT_THAT(lines, ElementsAre(MatchesRegex("[-0-9T:.]+Z INFO  one 1"),
                                 MatchesRegex("[-0-9T:.]+Z ERROR two lines")));
  // Removed with the capture: logging goes on without it.
  LogInfo("after the capture");
}

}  // namespace
}  // namespace inventory
