#include "common/rpc/grpc_status.h"

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "common/base/error_reason.h"
#include "common/base/field_violation.h"
#include "common/base/status_matchers.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "gtest/gtest.h"

namespace inventory {
namespace {

google::rpc::Status DetailsOf(const grpc::Status& status) {
  google::rpc::Status details;
  EXPECT_TRUE(details.ParseFromString(status.error_details()));
  return details;
}

TEST(ToGrpcStatusTest, ReasonBecomesErrorInfo) {
  const grpc::Status status = ToGrpcStatus(WithReason(
      absl::FailedPreconditionError("cannot remove 9 units: only 5 on hand"),
      reason::kInsufficientStock,
      {{"requested_quantity", "9"}, {"quantity_on_hand", "5"}}));
  EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(status.error_message(), "cannot remove 9 units: only 5 on hand");
  const google::rpc::Status details = DetailsOf(status);
  EXPECT_EQ(details.code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(details.message(), status.error_message());
  ASSERT_EQ(details.details_size(), 1);
  google::rpc::ErrorInfo info;
  ASSERT_TRUE(details.details(0).UnpackTo(&info));
  EXPECT_EQ(info.reason(), "INSUFFICIENT_STOCK");
  EXPECT_EQ(info.domain(), "inventory.v1");
  const std::map<std::string, std::string> metadata(info.metadata().begin(),
                                                    info.metadata().end());
  EXPECT_EQ(metadata,
            (std::map<std::string, std::string>{{"requested_quantity", "9"},
                                                {"quantity_on_hand", "5"}}));
}

TEST(ToGrpcStatusTest, MetadataIsSerializedInKeyOrder) {
  // A map's iteration order may differ from run to run; the bytes of a
  // refusal must not.
  std::map<std::string, std::string> metadata;
  for (int i = 0; i < 20; ++i) {
    metadata[absl::StrCat("key_", i)] = absl::StrCat(i);
  }
  const grpc::Status status = ToGrpcStatus(
      WithReason(absl::AbortedError("x"), "SOME_REASON", metadata));
  const google::rpc::Status details = DetailsOf(status);
  ASSERT_EQ(details.details_size(), 1);
  EXPECT_EQ(details.details(0).type_url(),
            "type.googleapis.com/google.rpc.ErrorInfo");
  // Field 3 entries, each {1: key, 2: value}, appear in key order.
  std::string expected;
  for (const auto& [key, value] : metadata) {
    google::rpc::ErrorInfo one;
    (*one.mutable_metadata())[key] = value;
    expected += one.SerializeAsString();
  }
  google::rpc::ErrorInfo head;
  head.set_reason("SOME_REASON");
  head.set_domain("inventory.v1");
  EXPECT_EQ(details.details(0).value(), head.SerializeAsString() + expected);
}

TEST(ToGrpcStatusTest, InvalidFieldCarriesErrorInfoThenBadRequest) {
  const grpc::Status status =
      ToGrpcStatus(InvalidField("sku", "must be 3 to 32 characters"));
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(status.error_message(), "sku: must be 3 to 32 characters");
  const google::rpc::Status details = DetailsOf(status);
  ASSERT_EQ(details.details_size(), 2);
  google::rpc::ErrorInfo info;
  ASSERT_TRUE(details.details(0).UnpackTo(&info));
  EXPECT_EQ(info.reason(), "INVALID_FIELD");
  EXPECT_EQ(info.domain(), "inventory.v1");
  EXPECT_TRUE(info.metadata().empty());
  google::rpc::BadRequest bad_request;
  ASSERT_TRUE(details.details(1).UnpackTo(&bad_request));
  ASSERT_EQ(bad_request.field_violations_size(), 1);
  EXPECT_EQ(bad_request.field_violations(0).field(), "sku");
  EXPECT_EQ(bad_request.field_violations(0).description(),
            "must be 3 to 32 characters");
}

TEST(ToGrpcStatusTest, NoReasonNoDetails) {
  const grpc::Status status = ToGrpcStatus(absl::InternalError("boom"));
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INTERNAL);
  EXPECT_EQ(status.error_message(), "boom");
  EXPECT_TRUE(status.error_details().empty());
  EXPECT_TRUE(ToGrpcStatus(absl::OkStatus()).ok());
}

TEST(GrpcStatusRoundTripTest, CodeMessageReasonAndFieldSurvive) {
  const std::vector<absl::Status> statuses = {
      absl::OkStatus(),
      absl::InternalError("boom"),
      absl::InvalidArgumentError("request: not a valid message"),
      InvalidField("quantity", "must be between 1 and 1000000"),
      WithReason(absl::NotFoundError("item not found"), reason::kItemNotFound),
      WithReason(absl::AbortedError("item is at version 3, expected 2"),
                 reason::kVersionConflict,
                 {{"expected_version", "2"}, {"actual_version", "3"}}),
      WithReason(absl::UnavailableError("outcome unknown"),
                 reason::kOutcomeUnknown),
      WithReason(absl::OutOfRangeError("after_position 9 is past the head 4"),
                 reason::kLogPositionOutOfRange,
                 {{"requested_position", "9"}, {"head_position", "4"}}),
  };
  for (const absl::Status& status : statuses) {
    SCOPED_TRACE(status.ToString());
    const absl::Status back = FromGrpcStatus(ToGrpcStatus(status));
    EXPECT_EQ(back.code(), status.code());
    EXPECT_EQ(back.message(), status.message());
    EXPECT_EQ(ErrorReasonOf(back), ErrorReasonOf(status));
    const std::optional<FieldViolation> violation = FieldViolationOf(status);
    const std::optional<FieldViolation> restored = FieldViolationOf(back);
    ASSERT_EQ(restored.has_value(), violation.has_value());
    if (violation.has_value()) {
      EXPECT_EQ(restored->field, violation->field);
      EXPECT_EQ(restored->description, violation->description);
    }
  }
}

TEST(FromGrpcStatusTest, FindsErrorInfoAfterOtherDetails) {
  google::rpc::Status details;
  details.set_code(grpc::StatusCode::ABORTED);
  details.set_message("conflict");
  google::rpc::BadRequest unrelated;  // not INVALID_ARGUMENT: ignored
  unrelated.add_field_violations()->set_field("x");
  details.add_details()->PackFrom(unrelated);
  google::rpc::ErrorInfo info;
  info.set_reason("VERSION_CONFLICT");
  info.set_domain("inventory.v1");
  (*info.mutable_metadata())["actual_version"] = "7";
  details.add_details()->PackFrom(info);
  const absl::Status status = FromGrpcStatus(grpc::Status(
      grpc::StatusCode::ABORTED, "conflict", details.SerializeAsString()));
  EXPECT_THAT(status, StatusIs(absl::StatusCode::kAborted));
  EXPECT_FALSE(FieldViolationOf(status).has_value());
  EXPECT_EQ(ErrorReasonOf(status),
            (ErrorReason{"VERSION_CONFLICT", {{"actual_version", "7"}}}));
}

TEST(FromGrpcStatusTest, IgnoresOtherDomainsAndUnreadableDetails) {
  google::rpc::Status details;
  google::rpc::ErrorInfo info;
  info.set_reason("RATE_LIMIT_EXCEEDED");
  info.set_domain("proxy.example");
  details.add_details()->PackFrom(info);
  const absl::Status foreign = FromGrpcStatus(grpc::Status(
      grpc::StatusCode::UNAVAILABLE, "busy", details.SerializeAsString()));
  EXPECT_THAT(foreign, StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_EQ(foreign.message(), "busy");
  EXPECT_FALSE(ErrorReasonOf(foreign).has_value());

  const absl::Status garbage = FromGrpcStatus(grpc::Status(
      grpc::StatusCode::NOT_FOUND, "gone", std::string("\xff\xff\xff", 3)));
  EXPECT_THAT(garbage, StatusIs(absl::StatusCode::kNotFound));
  EXPECT_EQ(garbage.message(), "gone");
  EXPECT_FALSE(ErrorReasonOf(garbage).has_value());
}

}  // namespace
}  // namespace inventory
