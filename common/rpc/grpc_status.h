// The one place where absl::Status and grpc::Status meet.
//
// Codes map one to one (both follow google.rpc.Code). A status with a
// reason (error_reason.h; every InvalidField() status has INVALID_FIELD)
// carries a google.rpc.ErrorInfo (domain "inventory.v1", the reason and its
// metadata); an INVALID_ARGUMENT made by InvalidField() (field_violation.h)
// also carries a google.rpc.BadRequest naming the field. Both go in one
// google.rpc.Status, ErrorInfo first, in the standard
// "grpc-status-details-bin" trailer that grpcurl and client libraries
// decode.
#ifndef INVENTORY_COMMON_RPC_GRPC_STATUS_H_
#define INVENTORY_COMMON_RPC_GRPC_STATUS_H_

#include <grpcpp/support/status.h>

#include "absl/status/status.h"

namespace inventory {

grpc::Status ToGrpcStatus(const absl::Status& status);

// The reverse, for clients of our services. BadRequest details become the
// InvalidField() payload again and an ErrorInfo of domain "inventory.v1"
// the WithReason() payload (ErrorInfo of other domains is ignored).
absl::Status FromGrpcStatus(const grpc::Status& status);

}  // namespace inventory

#endif  // INVENTORY_COMMON_RPC_GRPC_STATUS_H_
