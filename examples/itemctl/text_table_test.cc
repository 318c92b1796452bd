#include "examples/itemctl/text_table.h"

#include "gtest/gtest.h"

namespace inventory::itemctl {
namespace {

using Align = TextTable::Align;

TEST(TextTableTest, AlignsColumnsWithoutTrailingSpaces) {
  TextTable table({{"ID"}, {"QTY", Align::kRight}, {"NAME"}});
  table.AddRow({"a", "5", "Blue widget"});
  table.AddRow({"long-id", "12345", ""});
  EXPECT_EQ(table.Render(),
            "ID         QTY  NAME\n"
            "a            5  Blue widget\n"
            "long-id  12345\n");
}

TEST(TextTableTest, HeaderOnlyWhenEmpty) {
  TextTable table({{"ID"}, {"NAME"}});
  EXPECT_EQ(table.rows(), 0u);
  EXPECT_EQ(table.Render(), "ID  NAME\n");
}

TEST(TextTableTest, WidthCountsCharactersNotBytes) {
  TextTable table({{"NAME"}, {"X"}});
  table.AddRow({"Crème", "1"});
  table.AddRow({"abcdef", "2"});
  EXPECT_EQ(table.Render(),
            "NAME    X\n"
            "Crème   1\n"
            "abcdef  2\n");
}

TEST(TextTableTest, MissingCellsAreEmptyExtraCellsDropped) {
  TextTable table({{"A"}, {"B"}});
  table.AddRow({"1"});
  table.AddRow({"2", "3", "4"});
  EXPECT_EQ(table.Render(), "A  B\n1\n2  3\n");
}

TEST(DisplayWidthTest, FallsBackToBytesForInvalidUtf8) {
  EXPECT_EQ(DisplayWidth("é"), 1u);
  EXPECT_EQ(DisplayWidth("\xff\xfe"), 2u);
}

}  // namespace
}  // namespace inventory::itemctl
