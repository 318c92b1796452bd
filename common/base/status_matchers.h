// GoogleTest matchers for absl::Status and absl::StatusOr<T> (Abseil
// 20220623 ships none), for tests only:
//
//   EXPECT_THAT(store.Append(request), IsOk());
//   EXPECT_THAT(store.ReadAll(-1, 10),
//   StatusIs(absl::StatusCode::kOutOfRange)); EXPECT_THAT(Parse("x"),
//   StatusIs(absl::StatusCode::kInvalidArgument,
//                                    HasSubstr("sku")));
//   EXPECT_THAT(store.HeadPosition(), IsOkAndHolds(3));
//   EXPECT_THAT(status, HasReason("VERSION_CONFLICT"));
//
// On a mismatch each prints the whole status (code, message, reason).
#ifndef INVENTORY_COMMON_BASE_STATUS_MATCHERS_H_
#define INVENTORY_COMMON_BASE_STATUS_MATCHERS_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/base/error_reason.h"
#include "gmock/gmock.h"

namespace inventory {
namespace testing_internal {

inline const absl::Status& StatusOf(const absl::Status& status) {
  return status;
}
template <typename T>
const absl::Status& StatusOf(const absl::StatusOr<T>& status_or) {
  return status_or.status();
}

}  // namespace testing_internal

// The status (of a Status or StatusOr) is OK.
MATCHER(IsOk, "is OK") {
  const absl::Status& status = testing_internal::StatusOf(arg);
  if (!status.ok()) *result_listener << "whose status is " << status;
  return status.ok();
}

// The status has code `code` (an absl::StatusCode).
MATCHER_P(StatusIs, code,
          absl::StrCat("has code ", absl::StatusCodeToString(code))) {
  const absl::Status& status = testing_internal::StatusOf(arg);
  *result_listener << "whose status is " << status;
  return status.code() == code;
}

// The status has code `code` and a message matching `message_matcher`.
MATCHER_P2(StatusIs, code, message_matcher,
           absl::StrCat("has code ", absl::StatusCodeToString(code),
                        " and a message that ",
                        ::testing::DescribeMatcher<std::string>(message_matcher,
                                                                negation))) {
  const absl::Status& status = testing_internal::StatusOf(arg);
  *result_listener << "whose status is " << status;
  return status.code() == code &&
         ::testing::Matches(message_matcher)(std::string(status.message()));
}

// The StatusOr is OK and its value matches `value_matcher`.
MATCHER_P(IsOkAndHolds, value_matcher,
          absl::StrCat(negation ? "is not" : "is",
                       " OK with a value that matches")) {
  if (!arg.ok()) {
    *result_listener << "whose status is " << arg.status();
    return false;
  }
  return ::testing::ExplainMatchResult(value_matcher, *arg, result_listener);
}

// The status carries google.rpc.ErrorInfo reason `reason` (error_reason.h).
MATCHER_P(HasReason, reason, absl::StrCat("has reason ", reason)) {
  const absl::Status& status = testing_internal::StatusOf(arg);
  *result_listener << "whose status is " << StatusForLog(status);
  const std::optional<ErrorReason> found = ErrorReasonOf(status);
  return found.has_value() && found->reason == reason;
}

}  // namespace inventory

#endif  // INVENTORY_COMMON_BASE_STATUS_MATCHERS_H_
