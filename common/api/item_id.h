// ItemId: the identity of an inventory item (a value object).
#ifndef INVENTORY_COMMON_API_ITEM_ID_H_
#define INVENTORY_COMMON_API_ITEM_ID_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace inventory {

// 1 to 64 characters of [A-Za-z0-9_-]. Immutable; valid by construction.
class ItemId {
 public:
  static constexpr size_t kMaxLength = 64;

  // INVALID_ARGUMENT (field "item_id") when `value` breaks the rule above.
  static absl::StatusOr<ItemId> Create(absl::string_view value);

  const std::string& value() const { return value_; }
  // The id of the item's event stream: "item-<id>".
  std::string StreamId() const;

  friend bool operator==(const ItemId& a, const ItemId& b) {
    return a.value_ == b.value_;
  }

 private:
  explicit ItemId(std::string value) : value_(std::move(value)) {}
  std::string value_;
};

// The prefix of every item stream id.
inline constexpr absl::string_view kItemStreamPrefix = "item-";

}  // namespace inventory

#endif  // INVENTORY_COMMON_API_ITEM_ID_H_
