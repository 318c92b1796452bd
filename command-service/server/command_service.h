// CommandService: the gRPC face of the write side
// (inventory.v1.CommandService). A thin adapter: request -> validated
// command (command_requests.h) -> ItemCommandHandler -> response, with one
// status conversion (grpc_status.h). No business logic lives here.
// Requests are decoded by RawRequestService, so a string that is not valid
// UTF-8 is INVALID_ARGUMENT naming the field, like any malformed field.
#ifndef INVENTORY_COMMAND_SERVICE_SERVER_COMMAND_SERVICE_H_
#define INVENTORY_COMMAND_SERVICE_SERVER_COMMAND_SERVICE_H_

#include "absl/status/statusor.h"
#include "command-service/application/item_command_handler.h"
#include "common/rpc/raw_request_service.h"
#include "inventory/v1/command_service.grpc.pb.h"

namespace inventory {

// Thread-safe if the handler is.
class CommandService final
    : public RawRequestService<inventory::v1::CommandService::Service> {
 public:
  // `handler` must outlive the service.
  explicit CommandService(ItemCommandHandler* handler);

  grpc::Status CreateItem(grpc::ServerContext* context,
                          const inventory::v1::CreateItemRequest* request,
                          inventory::v1::CreateItemResponse* response) override;
  grpc::Status RenameItem(grpc::ServerContext* context,
                          const inventory::v1::RenameItemRequest* request,
                          inventory::v1::RenameItemResponse* response) override;
  grpc::Status CheckInItems(
      grpc::ServerContext* context,
      const inventory::v1::CheckInItemsRequest* request,
      inventory::v1::CheckInItemsResponse* response) override;
  grpc::Status RemoveItems(
      grpc::ServerContext* context,
      const inventory::v1::RemoveItemsRequest* request,
      inventory::v1::RemoveItemsResponse* response) override;
  grpc::Status DeactivateItem(
      grpc::ServerContext* context,
      const inventory::v1::DeactivateItemRequest* request,
      inventory::v1::DeactivateItemResponse* response) override;
  grpc::Status ReactivateItem(
      grpc::ServerContext* context,
      const inventory::v1::ReactivateItemRequest* request,
      inventory::v1::ReactivateItemResponse* response) override;

 private:
  // Validates, handles, fills `response`, logs a failure.
  template <typename Request, typename Response>
  grpc::Status Handle(const char* method, grpc::ServerContext* context,
                      const Request& request, Response* response);

  ItemCommandHandler* const handler_;
};

}  // namespace inventory

#endif  // INVENTORY_COMMAND_SERVICE_SERVER_COMMAND_SERVICE_H_
