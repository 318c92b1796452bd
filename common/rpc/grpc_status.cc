#include "common/rpc/grpc_status.h"

#include <map>
#include <optional>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/base/error_reason.h"
#include "common/base/field_violation.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"

namespace inventory {
namespace {

// Like Any::PackFrom(), but with map entries (ErrorInfo's metadata) in key
// order: the same refusal always has the same bytes, which clients and
// documentation may compare.
void PackDeterministically(const google::protobuf::Message& message,
                           google::protobuf::Any* any) {
  std::string value;
  {
    google::protobuf::io::StringOutputStream stream(&value);
    google::protobuf::io::CodedOutputStream out(&stream);
    out.SetSerializationDeterministic(true);
    message.SerializeToCodedStream(&out);
  }
  any->set_type_url(absl::StrCat("type.googleapis.com/",
                                 message.GetDescriptor()->full_name()));
  any->set_value(std::move(value));
}

}  // namespace

grpc::Status ToGrpcStatus(const absl::Status& status) {
  if (status.ok()) return grpc::Status::OK;
  const auto code = static_cast<grpc::StatusCode>(status.code());
  const std::string message(status.message());
  google::rpc::Status details;
  if (const std::optional<ErrorReason> reason = ErrorReasonOf(status)) {
    google::rpc::ErrorInfo info;
    info.set_reason(reason->reason);
    info.set_domain(std::string(kErrorDomain));
    for (const auto& [key, value] : reason->metadata) {
      (*info.mutable_metadata())[key] = value;
    }
    PackDeterministically(info, details.add_details());
  }
  if (const std::optional<FieldViolation> violation =
          FieldViolationOf(status)) {
    google::rpc::BadRequest bad_request;
    auto* field_violation = bad_request.add_field_violations();
    field_violation->set_field(violation->field);
    field_violation->set_description(violation->description);
    details.add_details()->PackFrom(bad_request);
  }
  if (details.details_size() == 0) return grpc::Status(code, message);
  details.set_code(static_cast<int>(code));
  details.set_message(message);
  return grpc::Status(code, message, details.SerializeAsString());
}

absl::Status FromGrpcStatus(const grpc::Status& status) {
  if (status.ok()) return absl::OkStatus();
  const auto code = static_cast<absl::StatusCode>(status.error_code());
  absl::Status result(code, status.error_message());
  google::rpc::Status details;
  if (status.error_details().empty() ||
      !details.ParseFromString(status.error_details())) {
    return result;
  }
  google::rpc::BadRequest bad_request;
  google::rpc::ErrorInfo info;
  std::optional<ErrorReason> reason;
  for (const google::protobuf::Any& detail : details.details()) {
    if (code == absl::StatusCode::kInvalidArgument &&
        detail.UnpackTo(&bad_request) &&
        bad_request.field_violations_size() > 0) {
      result = InvalidField(bad_request.field_violations(0).field(),
                            bad_request.field_violations(0).description());
    } else if (detail.UnpackTo(&info) && info.domain() == kErrorDomain) {
      reason = ErrorReason{info.reason(),
                           std::map<std::string, std::string>(
                               info.metadata().begin(), info.metadata().end())};
    }
  }
  if (!reason.has_value()) return result;
  return WithReason(std::move(result), reason->reason, reason->metadata);
}

}  // namespace inventory
