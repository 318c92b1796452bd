// ItemName: the display name of an item (a value object).
#ifndef INVENTORY_COMMAND_SERVICE_DOMAIN_ITEM_NAME_H_
#define INVENTORY_COMMAND_SERVICE_DOMAIN_ITEM_NAME_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace inventory {

// Valid UTF-8 without control characters, 1 to 200 characters (code
// points, not bytes) after surrounding ASCII whitespace is trimmed.
// Immutable; valid by construction; holds the trimmed text.
class ItemName {
 public:
  static constexpr size_t kMaxCharacters = 200;

  // INVALID_ARGUMENT (field "name") when `value` breaks the rule above.
  static absl::StatusOr<ItemName> Create(absl::string_view value);

  const std::string& value() const { return value_; }

  friend bool operator==(const ItemName& a, const ItemName& b) {
    return a.value_ == b.value_;
  }

 private:
  explicit ItemName(std::string value) : value_(std::move(value)) {}
  std::string value_;
};

}  // namespace inventory

#endif  // INVENTORY_COMMAND_SERVICE_DOMAIN_ITEM_NAME_H_
