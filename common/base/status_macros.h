// Early-return helpers for absl::Status and absl::StatusOr (Abseil 20220623
// ships none).
#ifndef INVENTORY_COMMON_BASE_STATUS_MACROS_H_
#define INVENTORY_COMMON_BASE_STATUS_MACROS_H_

#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

// Evaluates `expr` (an absl::Status) and returns it from the enclosing
// function when it is not OK.
#define INVENTORY_RETURN_IF_ERROR(expr)                    \
  do {                                                     \
    ::absl::Status inventory_status_ = (expr);             \
    if (!inventory_status_.ok()) return inventory_status_; \
  } while (false)

#define INVENTORY_CONCAT_INNER_(a, b) a##b
#define INVENTORY_CONCAT_(a, b) INVENTORY_CONCAT_INNER_(a, b)

// Evaluates `rexpr` (an absl::StatusOr<T>); returns its status from the
// enclosing function when it is not OK, otherwise moves its value into
// `lhs`, which may be a declaration (`auto x`) or an existing variable.
#define INVENTORY_ASSIGN_OR_RETURN(lhs, rexpr) \
  INVENTORY_ASSIGN_OR_RETURN_IMPL_(            \
      INVENTORY_CONCAT_(inventory_statusor_, __LINE__), lhs, rexpr)

#define INVENTORY_ASSIGN_OR_RETURN_IMPL_(statusor, lhs, rexpr) \
  auto statusor = (rexpr);                                     \
  if (!statusor.ok()) return statusor.status();                \
  lhs = std::move(statusor).value()

#endif  // INVENTORY_COMMON_BASE_STATUS_MACROS_H_
