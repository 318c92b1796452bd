#include "common/grpc_status.h"

#include <string>

#include "common/field_violation.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"

namespace inventory {

grpc::Status ToGrpcStatus(const absl::Status& status) {
  if (status.ok()) return grpc::Status::OK;
  const auto code = static_cast<grpc::StatusCode>(status.code());
  const std::string message(status.message());
  const std::optional<FieldViolation> violation = FieldViolationOf(status);
  if (!violation.has_value()) return grpc::Status(code, message);

  google::rpc::BadRequest bad_request;
  auto* field_violation = bad_request.add_field_violations();
  field_violation->set_field(violation->field);
  field_violation->set_description(violation->description);
  google::rpc::Status details;
  details.set_code(static_cast<int>(code));
  details.set_message(message);
  details.add_details()->PackFrom(bad_request);
  return grpc::Status(code, message, details.SerializeAsString());
}

absl::Status FromGrpcStatus(const grpc::Status& status) {
  if (status.ok()) return absl::OkStatus();
  const auto code = static_cast<absl::StatusCode>(status.error_code());
  google::rpc::Status details;
  google::rpc::BadRequest bad_request;
  if (code == absl::StatusCode::kInvalidArgument &&
      !status.error_details().empty() &&
      details.ParseFromString(status.error_details()) &&
      details.details_size() > 0 && details.details(0).UnpackTo(&bad_request) &&
      bad_request.field_violations_size() > 0) {
    return InvalidField(bad_request.field_violations(0).field(),
                        bad_request.field_violations(0).description());
  }
  return absl::Status(code, status.error_message());
}

}  // namespace inventory
