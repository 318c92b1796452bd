// Translation of inventory.v1 command requests into domain commands.
// Building the value objects is the validation: a malformed field becomes
// INVALID_ARGUMENT naming it (field_violation.h).
#ifndef INVENTORY_COMMAND_SERVICE_SERVER_COMMAND_REQUESTS_H_
#define INVENTORY_COMMAND_SERVICE_SERVER_COMMAND_REQUESTS_H_

#include <string>

#include "absl/status/statusor.h"
#include "command-service/application/item_command_handler.h"
#include "inventory/v1/command_service.pb.h"

namespace inventory {

// `correlation_id` comes from the call's metadata (x-correlation-id).
absl::StatusOr<CommandEnvelope> ToEnvelope(
    const inventory::v1::CreateItemRequest& request,
    std::string correlation_id);
absl::StatusOr<CommandEnvelope> ToEnvelope(
    const inventory::v1::RenameItemRequest& request,
    std::string correlation_id);
absl::StatusOr<CommandEnvelope> ToEnvelope(
    const inventory::v1::CheckInItemsRequest& request,
    std::string correlation_id);
absl::StatusOr<CommandEnvelope> ToEnvelope(
    const inventory::v1::RemoveItemsRequest& request,
    std::string correlation_id);
absl::StatusOr<CommandEnvelope> ToEnvelope(
    const inventory::v1::DeactivateItemRequest& request,
    std::string correlation_id);
absl::StatusOr<CommandEnvelope> ToEnvelope(
    const inventory::v1::ReactivateItemRequest& request,
    std::string correlation_id);

}  // namespace inventory

#endif  // INVENTORY_COMMAND_SERVICE_SERVER_COMMAND_REQUESTS_H_
