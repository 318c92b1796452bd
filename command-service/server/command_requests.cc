#include "command-service/server/command_requests.h"

#include <optional>
#include <utility>

#include "common/base/status_macros.h"

namespace inventory {
namespace {

// Fills what every command request carries. Requests without
// expected_version (CreateItemRequest) use the overload below.
template <typename Request>
CommandEnvelope Envelope(ItemCommand command, const Request& request,
                         std::string correlation_id) {
  return CommandEnvelope{
      std::move(command),
      request.has_expected_version()
          ? std::optional<int64_t>(request.expected_version())
          : std::nullopt,
      request.request_id(), std::move(correlation_id)};
}

}  // namespace

absl::StatusOr<CommandEnvelope> ToEnvelope(
    const inventory::v1::CreateItemRequest& request,
    std::string correlation_id) {
  INVENTORY_ASSIGN_OR_RETURN(ItemId id, ItemId::Create(request.item_id()));
  INVENTORY_ASSIGN_OR_RETURN(Sku sku, Sku::Create(request.sku()));
  INVENTORY_ASSIGN_OR_RETURN(ItemName name, ItemName::Create(request.name()));
  return CommandEnvelope{
      CreateItem{std::move(id), std::move(sku), std::move(name)}, std::nullopt,
      request.request_id(), std::move(correlation_id)};
}

absl::StatusOr<CommandEnvelope> ToEnvelope(
    const inventory::v1::RenameItemRequest& request,
    std::string correlation_id) {
  INVENTORY_ASSIGN_OR_RETURN(ItemId id, ItemId::Create(request.item_id()));
  INVENTORY_ASSIGN_OR_RETURN(ItemName name, ItemName::Create(request.name()));
  return Envelope(RenameItem{std::move(id), std::move(name)}, request,
                  std::move(correlation_id));
}

absl::StatusOr<CommandEnvelope> ToEnvelope(
    const inventory::v1::CheckInItemsRequest& request,
    std::string correlation_id) {
  INVENTORY_ASSIGN_OR_RETURN(ItemId id, ItemId::Create(request.item_id()));
  INVENTORY_ASSIGN_OR_RETURN(Quantity quantity,
                             Quantity::Create(request.quantity()));
  return Envelope(CheckInItems{std::move(id), quantity}, request,
                  std::move(correlation_id));
}

absl::StatusOr<CommandEnvelope> ToEnvelope(
    const inventory::v1::RemoveItemsRequest& request,
    std::string correlation_id) {
  INVENTORY_ASSIGN_OR_RETURN(ItemId id, ItemId::Create(request.item_id()));
  INVENTORY_ASSIGN_OR_RETURN(Quantity quantity,
                             Quantity::Create(request.quantity()));
  return Envelope(RemoveItems{std::move(id), quantity}, request,
                  std::move(correlation_id));
}

absl::StatusOr<CommandEnvelope> ToEnvelope(
    const inventory::v1::DeactivateItemRequest& request,
    std::string correlation_id) {
  INVENTORY_ASSIGN_OR_RETURN(ItemId id, ItemId::Create(request.item_id()));
  return Envelope(DeactivateItem{std::move(id)}, request,
                  std::move(correlation_id));
}

absl::StatusOr<CommandEnvelope> ToEnvelope(
    const inventory::v1::ReactivateItemRequest& request,
    std::string correlation_id) {
  INVENTORY_ASSIGN_OR_RETURN(ItemId id, ItemId::Create(request.item_id()));
  return Envelope(ReactivateItem{std::move(id)}, request,
                  std::move(correlation_id));
}

}  // namespace inventory
