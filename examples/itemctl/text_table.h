// A plain-text table with aligned columns, for terminals:
//
//   ID      SKU    NAME          ON HAND  ACTIVE  VERSION
//   w-1     W-1    Blue widget         5  yes           2
//
// Column widths count characters (UTF-8 code points), not bytes, so names
// such as "Crème" line up. Columns are separated by two spaces; lines carry
// no trailing spaces.
#ifndef INVENTORY_EXAMPLES_ITEMCTL_TEXT_TABLE_H_
#define INVENTORY_EXAMPLES_ITEMCTL_TEXT_TABLE_H_

#include <string>
#include <vector>

namespace inventory::itemctl {

class TextTable {
 public:
  enum class Align { kLeft, kRight };
  struct Column {
    std::string header;
    Align align = Align::kLeft;
  };

  explicit TextTable(std::vector<Column> columns);

  // Adds a row; missing cells are empty, extra cells are dropped.
  void AddRow(std::vector<std::string> cells);

  size_t rows() const { return rows_.size(); }

  // The header line and one line per row, each ending in '\n'.
  std::string Render() const;

 private:
  std::vector<Column> columns_;
  std::vector<std::vector<std::string>> rows_;
};

// Characters in `text` when it is valid UTF-8; its bytes otherwise.
size_t DisplayWidth(const std::string& text);

}  // namespace inventory::itemctl

#endif  // INVENTORY_EXAMPLES_ITEMCTL_TEXT_TABLE_H_
