// GoogleTest matchers for grpc::Status, the gRPC counterpart of
// common/base/status_matchers.h, for tests only:
//
//   EXPECT_THAT(stub->GetItem(&context, request, &response),
//               GrpcStatusIs(grpc::StatusCode::NOT_FOUND));
//   EXPECT_THAT(status, GrpcStatusIs(grpc::StatusCode::DEADLINE_EXCEEDED,
//                                    HasSubstr("min_position")));
//
// On a mismatch each prints the status's code and message.
#ifndef INVENTORY_TESTS_SUPPORT_GRPC_STATUS_MATCHERS_H_
#define INVENTORY_TESTS_SUPPORT_GRPC_STATUS_MATCHERS_H_

#include <grpcpp/grpcpp.h>

#include <string>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"

namespace inventory::test_support {

// The grpc::Status has code `code` (a grpc::StatusCode).
MATCHER_P(GrpcStatusIs, code,
          absl::StrCat(negation ? "has not" : "has", " gRPC code ",
                       static_cast<int>(code))) {
  *result_listener << "whose status is code " << arg.error_code() << " \""
                   << arg.error_message() << "\"";
  return arg.error_code() == code;
}

// The grpc::Status has code `code` and a message matching
// `message_matcher`.
MATCHER_P2(GrpcStatusIs, code, message_matcher,
           absl::StrCat(negation ? "not (" : "(", "has gRPC code ",
                        static_cast<int>(code), " and a message that ",
                        ::testing::DescribeMatcher<std::string>(message_matcher,
                                                                false),
                        ")")) {
  *result_listener << "whose status is code " << arg.error_code() << " \""
                   << arg.error_message() << "\"";
  return arg.error_code() == code &&
         ::testing::Matches(message_matcher)(arg.error_message());
}

}  // namespace inventory::test_support

#endif  // INVENTORY_TESTS_SUPPORT_GRPC_STATUS_MATCHERS_H_
