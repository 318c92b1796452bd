// Decoding of requests that arrive as raw bytes (raw_request_service.h).
//
// Protobuf's own parser refuses a proto3 string field that is not valid
// UTF-8, and gRPC then answers INTERNAL without saying which field was
// wrong. Decoding here checks the strings first, so the client learns
// which field to fix: INVALID_ARGUMENT with a field violation
// (field_violation.h), like every other malformed field.
#ifndef INVENTORY_COMMON_RPC_REQUEST_DECODING_H_
#define INVENTORY_COMMON_RPC_REQUEST_DECODING_H_

#include <grpcpp/support/byte_buffer.h>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/message.h"

namespace inventory {

// Walks `wire` (a serialized message of type `descriptor`) and returns
// InvalidField(<path>, "must be valid UTF-8") for the first string field,
// at any depth, whose bytes are not strictly valid UTF-8 (utf8.h). The
// path names nested fields with dots, e.g. "filter.stream_id_prefix".
// OK when every string is valid, and also when `wire` is not well-formed
// protobuf: that is for the parser to refuse.
absl::Status CheckStringFieldsAreUtf8(
    const google::protobuf::Descriptor& descriptor, absl::string_view wire);

// Parses `wire` into `request` (cleared first). INVALID_ARGUMENT naming
// the field when a string is not valid UTF-8 (see above); INVALID_ARGUMENT
// without a field ("request: not a valid <type> message") when the bytes
// are not a well-formed message of that type.
absl::Status DecodeRequest(absl::string_view wire,
                           google::protobuf::Message* request);

// The same for a request as gRPC delivers it.
absl::Status DecodeRequest(const grpc::ByteBuffer& raw,
                           google::protobuf::Message* request);

}  // namespace inventory

#endif  // INVENTORY_COMMON_RPC_REQUEST_DECODING_H_
