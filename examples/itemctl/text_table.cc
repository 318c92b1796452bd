#include "examples/itemctl/text_table.h"

#include <algorithm>

#include "common/base/utf8.h"

namespace inventory::itemctl {

TextTable::TextTable(std::vector<Column> columns)
    : columns_(std::move(columns)) {}

void TextTable::AddRow(std::vector<std::string> cells) {
  cells.resize(columns_.size());
  rows_.push_back(std::move(cells));
}

std::string TextTable::Render() const {
  std::vector<size_t> widths;
  for (const Column& column : columns_) {
    widths.push_back(DisplayWidth(column.header));
  }
  for (const auto& row : rows_) {
    for (size_t c = 0; c < row.size(); ++c) {
      widths[c] = std::max(widths[c], DisplayWidth(row[c]));
    }
  }
  auto render_line = [&](const std::vector<std::string>& cells) {
    std::string line;
    for (size_t c = 0; c < cells.size(); ++c) {
      if (c > 0) line += "  ";
      const std::string padding(widths[c] - DisplayWidth(cells[c]), ' ');
      if (columns_[c].align == Align::kRight) {
        line += padding + cells[c];
      } else {
        line += cells[c] + padding;
      }
    }
    line.erase(line.find_last_not_of(' ') + 1);
    return line + "\n";
  };
  std::vector<std::string> headers;
  for (const Column& column : columns_) headers.push_back(column.header);
  std::string text = render_line(headers);
  for (const auto& row : rows_) text += render_line(row);
  return text;
}

size_t DisplayWidth(const std::string& text) {
  const std::optional<Utf8Text> decoded = DecodeUtf8(text);
  return decoded.has_value() ? decoded->code_points : text.size();
}

}  // namespace inventory::itemctl
