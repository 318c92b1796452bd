#include "command-service/server/command_service.h"

#include <string>

#include "command-service/server/command_requests.h"
#include "common/base/error_reason.h"
#include "common/base/field_violation.h"
#include "common/base/log_rate_limiter.h"
#include "common/base/status_macros.h"
#include "common/rpc/grpc_status.h"

namespace inventory {
namespace {

constexpr const char* kCorrelationHeader = "x-correlation-id";
constexpr size_t kMaxCorrelationId = 128;

// The correlation id a client sent in the call's metadata, if any.
absl::StatusOr<std::string> CorrelationIdOf(grpc::ServerContext* context) {
  const auto& metadata = context->client_metadata();
  auto it = metadata.find(kCorrelationHeader);
  if (it == metadata.end()) return std::string();
  std::string value(it->second.data(), it->second.size());
  bool printable = true;
  for (char c : value) printable = printable && c >= 0x20 && c <= 0x7e;
  if (value.size() > kMaxCorrelationId || !printable) {
    return InvalidField(kCorrelationHeader,
                        "must be at most 128 printable ASCII characters");
  }
  return value;
}

}  // namespace

CommandService::CommandService(ItemCommandHandler* handler)
    : RawRequestService(inventory::v1::CommandService::service_full_name()),
      handler_(handler) {
  DecodeUnary("CreateItem", &Service::CreateItem);
  DecodeUnary("RenameItem", &Service::RenameItem);
  DecodeUnary("CheckInItems", &Service::CheckInItems);
  DecodeUnary("RemoveItems", &Service::RemoveItems);
  DecodeUnary("DeactivateItem", &Service::DeactivateItem);
  DecodeUnary("ReactivateItem", &Service::ReactivateItem);
}

template <typename Request, typename Response>
grpc::Status CommandService::Handle(const char* method,
                                    grpc::ServerContext* context,
                                    const Request& request,
                                    Response* response) {
  auto run = [&]() -> absl::StatusOr<CommandResult> {
    if (context->IsCancelled()) {
      return absl::CancelledError("call cancelled or deadline exceeded");
    }
    INVENTORY_ASSIGN_OR_RETURN(std::string correlation_id,
                               CorrelationIdOf(context));
    INVENTORY_ASSIGN_OR_RETURN(CommandEnvelope envelope,
                               ToEnvelope(request, std::move(correlation_id)));
    return handler_->Handle(envelope);
  };
  absl::StatusOr<CommandResult> result = run();
  if (!result.ok()) {
    LogFailedCall(method, result.status());
    return ToGrpcStatus(result.status());
  }
  response->set_item_id(result->item_id);
  response->set_version(result->version);
  response->set_global_position(result->global_position);
  response->set_replayed(result->replayed);
  return grpc::Status::OK;
}

grpc::Status CommandService::CreateItem(
    grpc::ServerContext* context,
    const inventory::v1::CreateItemRequest* request,
    inventory::v1::CreateItemResponse* response) {
  return Handle("CreateItem", context, *request, response);
}

grpc::Status CommandService::RenameItem(
    grpc::ServerContext* context,
    const inventory::v1::RenameItemRequest* request,
    inventory::v1::RenameItemResponse* response) {
  return Handle("RenameItem", context, *request, response);
}

grpc::Status CommandService::CheckInItems(
    grpc::ServerContext* context,
    const inventory::v1::CheckInItemsRequest* request,
    inventory::v1::CheckInItemsResponse* response) {
  return Handle("CheckInItems", context, *request, response);
}

grpc::Status CommandService::RemoveItems(
    grpc::ServerContext* context,
    const inventory::v1::RemoveItemsRequest* request,
    inventory::v1::RemoveItemsResponse* response) {
  return Handle("RemoveItems", context, *request, response);
}

grpc::Status CommandService::DeactivateItem(
    grpc::ServerContext* context,
    const inventory::v1::DeactivateItemRequest* request,
    inventory::v1::DeactivateItemResponse* response) {
  return Handle("DeactivateItem", context, *request, response);
}

grpc::Status CommandService::ReactivateItem(
    grpc::ServerContext* context,
    const inventory::v1::ReactivateItemRequest* request,
    inventory::v1::ReactivateItemResponse* response) {
  return Handle("ReactivateItem", context, *request, response);
}

}  // namespace inventory
