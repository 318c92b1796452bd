// Quantity: a number of units moved by one command (a value object).
#ifndef INVENTORY_COMMAND_SERVICE_DOMAIN_QUANTITY_H_
#define INVENTORY_COMMAND_SERVICE_DOMAIN_QUANTITY_H_

#include <cstdint>

#include "absl/status/statusor.h"

namespace inventory {

// 1 to 1,000,000 units. Immutable; valid by construction.
class Quantity {
 public:
  static constexpr int64_t kMin = 1;
  static constexpr int64_t kMax = 1'000'000;

  // INVALID_ARGUMENT (field "quantity") when `value` is out of range.
  static absl::StatusOr<Quantity> Create(int64_t value);

  int64_t value() const { return value_; }

  friend bool operator==(const Quantity& a, const Quantity& b) {
    return a.value_ == b.value_;
  }

 private:
  explicit Quantity(int64_t value) : value_(value) {}
  int64_t value_;
};

}  // namespace inventory

#endif  // INVENTORY_COMMAND_SERVICE_DOMAIN_QUANTITY_H_
