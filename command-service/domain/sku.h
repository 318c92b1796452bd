// Sku: a stock-keeping unit code (a value object).
#ifndef INVENTORY_COMMAND_SERVICE_DOMAIN_SKU_H_
#define INVENTORY_COMMAND_SERVICE_DOMAIN_SKU_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace inventory {

// 3 to 32 characters of uppercase A-Z, digits and '-'. Immutable; valid by
// construction. Lowercase input is rejected rather than silently changed.
class Sku {
 public:
  static constexpr size_t kMinLength = 3;
  static constexpr size_t kMaxLength = 32;

  // INVALID_ARGUMENT (field "sku") when `value` breaks the rule above.
  static absl::StatusOr<Sku> Create(absl::string_view value);

  const std::string& value() const { return value_; }

  friend bool operator==(const Sku& a, const Sku& b) {
    return a.value_ == b.value_;
  }

 private:
  explicit Sku(std::string value) : value_(std::move(value)) {}
  std::string value_;
};

}  // namespace inventory

#endif  // INVENTORY_COMMAND_SERVICE_DOMAIN_SKU_H_
