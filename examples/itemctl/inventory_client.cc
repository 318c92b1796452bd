#include "examples/itemctl/inventory_client.h"

#include <algorithm>

#include "common/rpc/grpc_status.h"
#include "common/rpc/security/grpc_credentials.h"

namespace inventory::itemctl {
namespace {

std::shared_ptr<grpc::Channel> ChannelTo(const std::string& address,
                                         const ChannelSecurity& security) {
  return CreateChannelWith(address, security);
}

// Reads `stream` into `on_message` until it ends or `on_message` says
// stop; see InventoryClient::WatchItem.
template <typename Message>
absl::Status Drain(grpc::ClientReader<Message>& stream,
                   grpc::ClientContext* context,
                   const std::function<bool(const Message&)>& on_message) {
  Message message;
  while (stream.Read(&message)) {
    if (!on_message(message)) {
      context->TryCancel();
      while (stream.Read(&message)) {
      }
      (void)stream.Finish();
      return absl::OkStatus();
    }
  }
  return FromGrpcStatus(stream.Finish());
}

}  // namespace

InventoryClient::InventoryClient(const InventoryClientOptions& options)
    : timeout_(options.timeout), last_position_(options.min_position) {
  auto command_channel = ChannelTo(options.command_address, options.security);
  commands_ = v1::CommandService::NewStub(command_channel);
  events_ = v1::EventStreamService::NewStub(command_channel);
  queries_ = v1::QueryService::NewStub(
      ChannelTo(options.query_address, options.security));
}

std::unique_ptr<grpc::ClientContext> InventoryClient::UnaryContext() const {
  auto context = std::make_unique<grpc::ClientContext>();
  context->set_deadline(absl::ToChronoTime(absl::Now() + timeout_));
  return context;
}

template <typename Request, typename Response>
absl::StatusOr<CommandResult> InventoryClient::Command(
    CommandMethod<Request, Response> method, const Request& request) {
  Response response;
  const grpc::Status status =
      (commands_.get()->*method)(UnaryContext().get(), request, &response);
  if (!status.ok()) return FromGrpcStatus(status);
  last_position_ = std::max(last_position_, response.global_position());
  return CommandResult{response.item_id(), response.version(),
                       response.global_position(), response.replayed()};
}

absl::StatusOr<CommandResult> InventoryClient::CreateItem(
    const v1::CreateItemRequest& request) {
  return Command(&v1::CommandService::Stub::CreateItem, request);
}

absl::StatusOr<CommandResult> InventoryClient::RenameItem(
    const v1::RenameItemRequest& request) {
  return Command(&v1::CommandService::Stub::RenameItem, request);
}

absl::StatusOr<CommandResult> InventoryClient::CheckInItems(
    const v1::CheckInItemsRequest& request) {
  return Command(&v1::CommandService::Stub::CheckInItems, request);
}

absl::StatusOr<CommandResult> InventoryClient::RemoveItems(
    const v1::RemoveItemsRequest& request) {
  return Command(&v1::CommandService::Stub::RemoveItems, request);
}

absl::StatusOr<CommandResult> InventoryClient::DeactivateItem(
    const v1::DeactivateItemRequest& request) {
  return Command(&v1::CommandService::Stub::DeactivateItem, request);
}

absl::StatusOr<CommandResult> InventoryClient::ReactivateItem(
    const v1::ReactivateItemRequest& request) {
  return Command(&v1::CommandService::Stub::ReactivateItem, request);
}

absl::StatusOr<v1::GetItemResponse> InventoryClient::GetItem(
    v1::GetItemRequest request) {
  request.set_min_position(last_position_);
  v1::GetItemResponse response;
  const grpc::Status status =
      queries_->GetItem(UnaryContext().get(), request, &response);
  if (!status.ok()) return FromGrpcStatus(status);
  return response;
}

absl::StatusOr<std::vector<v1::Item>> InventoryClient::ListItems(
    v1::ListItemsRequest request) {
  request.set_min_position(last_position_);
  std::vector<v1::Item> items;
  do {
    v1::ListItemsResponse response;
    const grpc::Status status =
        queries_->ListItems(UnaryContext().get(), request, &response);
    if (!status.ok()) return FromGrpcStatus(status);
    items.insert(items.end(), response.items().begin(), response.items().end());
    request.set_page_token(response.next_page_token());
  } while (!request.page_token().empty());
  return items;
}

absl::StatusOr<std::vector<v1::Event>> InventoryClient::GetItemHistory(
    const std::string& item_id) {
  v1::GetItemHistoryRequest request;
  request.set_item_id(item_id);
  request.set_min_position(last_position_);
  std::vector<v1::Event> events;
  do {
    v1::GetItemHistoryResponse response;
    const grpc::Status status =
        queries_->GetItemHistory(UnaryContext().get(), request, &response);
    if (!status.ok()) return FromGrpcStatus(status);
    events.insert(events.end(), response.events().begin(),
                  response.events().end());
    request.set_page_token(response.next_page_token());
  } while (!request.page_token().empty());
  return events;
}

absl::StatusOr<v1::GetInventoryStatsResponse>
InventoryClient::GetInventoryStats(v1::GetInventoryStatsRequest request) {
  request.set_min_position(last_position_);
  v1::GetInventoryStatsResponse response;
  const grpc::Status status =
      queries_->GetInventoryStats(UnaryContext().get(), request, &response);
  if (!status.ok()) return FromGrpcStatus(status);
  return response;
}

absl::Status InventoryClient::WatchItem(
    const std::string& item_id, grpc::ClientContext* context,
    const std::function<bool(const v1::WatchItemResponse&)>& on_message) {
  v1::WatchItemRequest request;
  request.set_item_id(item_id);
  request.set_min_position(last_position_);
  auto stream = queries_->WatchItem(context, request);
  return Drain(*stream, context, on_message);
}

absl::Status InventoryClient::Subscribe(
    const v1::SubscribeRequest& request, grpc::ClientContext* context,
    const std::function<bool(const v1::SubscribeResponse&)>& on_message) {
  auto stream = events_->Subscribe(context, request);
  return Drain(*stream, context, on_message);
}

}  // namespace inventory::itemctl
