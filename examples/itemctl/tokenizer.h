// Splits one line of the interactive shell into words, the way a POSIX
// shell would for the simple cases users type:
//
//   create w-1 W-1 "Blue widget"   ->  create | w-1 | W-1 | Blue widget
//
// Words are separated by spaces and tabs. Double quotes group a word
// (spaces kept, "" is an empty word) and may join with unquoted text
// (a"b c" -> `ab c`). Inside double quotes a backslash escapes `"` and `\`;
// any other backslash is kept as is. Single quotes are ordinary characters,
// so a name like Bob's needs no quoting.
#ifndef INVENTORY_EXAMPLES_ITEMCTL_TOKENIZER_H_
#define INVENTORY_EXAMPLES_ITEMCTL_TOKENIZER_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace inventory::itemctl {

// The words of `line`; empty for a blank line. A usage error
// (error_line.h) when a double quote is not closed.
absl::StatusOr<std::vector<std::string>> SplitWords(absl::string_view line);

}  // namespace inventory::itemctl

#endif  // INVENTORY_EXAMPLES_ITEMCTL_TOKENIZER_H_
