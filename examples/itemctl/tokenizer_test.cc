#include "examples/itemctl/tokenizer.h"

#include "examples/itemctl/error_line.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace inventory::itemctl {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

std::vector<std::string> Split(absl::string_view line) {
  absl::StatusOr<std::vector<std::string>> words = SplitWords(line);
  EXPECT_TRUE(words.ok()) << words.status();
  return words.value_or(std::vector<std::string>{});
}

TEST(SplitWordsTest, SplitsOnSpacesAndTabs) {
  EXPECT_THAT(Split("checkin  w-1\t5 "), ElementsAre("checkin", "w-1", "5"));
}

TEST(SplitWordsTest, BlankLineHasNoWords) {
  EXPECT_THAT(Split(""), IsEmpty());
  EXPECT_THAT(Split(" \t \r\n"), IsEmpty());
}

TEST(SplitWordsTest, DoubleQuotesKeepSpaces) {
  EXPECT_THAT(Split(R"(create w-1 W-1 "Blue  widget")"),
              ElementsAre("create", "w-1", "W-1", "Blue  widget"));
}

TEST(SplitWordsTest, EmptyQuotesAreAnEmptyWord) {
  EXPECT_THAT(Split(R"(rename w-1 "")"), ElementsAre("rename", "w-1", ""));
}

TEST(SplitWordsTest, QuotesJoinWithAdjacentText) {
  EXPECT_THAT(Split(R"(--name="big box"es x)"),
              ElementsAre("--name=big boxes", "x"));
}

TEST(SplitWordsTest, BackslashEscapesQuoteAndBackslashInsideQuotes) {
  EXPECT_THAT(Split(R"("say \"hi\" \\ \n")"), ElementsAre(R"(say "hi" \ \n)"));
}

TEST(SplitWordsTest, SingleQuotesAreOrdinary) {
  EXPECT_THAT(Split("rename w-1 Bob's box"),
              ElementsAre("rename", "w-1", "Bob's", "box"));
}

TEST(SplitWordsTest, KeepsUtf8) {
  EXPECT_THAT(Split("rename w-1 \"Crème brûlée\""),
              ElementsAre("rename", "w-1", "Crème brûlée"));
}

TEST(SplitWordsTest, UnterminatedQuoteIsAUsageError) {
  absl::StatusOr<std::vector<std::string>> words =
      SplitWords(R"(create w-1 W-1 "Blue)");
  ASSERT_FALSE(words.ok());
  EXPECT_TRUE(IsUsageError(words.status()));
  EXPECT_EQ(ErrorLine(words.status()), "error: unterminated double quote");
}

}  // namespace
}  // namespace inventory::itemctl
