// InventoryClient: itemctl's connection to both services, with
// read-your-writes built in.
//
// Every command that succeeds moves last_position() to the global position
// of its event; every query sends last_position() as min_position, so the
// read side answers only once it has applied that command (or fails with
// DEADLINE_EXCEEDED when it cannot within the timeout).
//
// Errors are the services' statuses converted with FromGrpcStatus(), so an
// INVALID_ARGUMENT names its field (FieldViolationOf()). Not thread-safe:
// one shell, one client.
#ifndef INVENTORY_EXAMPLES_ITEMCTL_INVENTORY_CLIENT_H_
#define INVENTORY_EXAMPLES_ITEMCTL_INVENTORY_CLIENT_H_

#include <grpcpp/grpcpp.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/rpc/security/security_config.h"
#include "examples/itemctl/command_result.h"
#include "inventory/v1/command_service.grpc.pb.h"
#include "inventory/v1/event_stream_service.grpc.pb.h"
#include "inventory/v1/query_service.grpc.pb.h"

namespace inventory::itemctl {

struct InventoryClientOptions {
  std::string command_address = "127.0.0.1:50051";  // host:port
  std::string query_address = "127.0.0.1:50052";    // host:port
  // Deadline of each unary call (each page of a paged query). Streams
  // (watch, events) have none: they end when the caller stops them.
  absl::Duration timeout = absl::Seconds(10);
  // The last_position() to start from: lets a one-shot invocation read the
  // write of an earlier one (whose output printed the position).
  int64_t min_position = 0;
  // TLS (the CA of both services' certificates) and the bearer token sent
  // with every call; default plaintext, no token.
  ChannelSecurity security;
};

class InventoryClient {
 public:
  explicit InventoryClient(const InventoryClientOptions& options);

  // The write side. OK: the command was recorded (or replayed).
  absl::StatusOr<CommandResult> CreateItem(
      const v1::CreateItemRequest& request);
  absl::StatusOr<CommandResult> RenameItem(
      const v1::RenameItemRequest& request);
  absl::StatusOr<CommandResult> CheckInItems(
      const v1::CheckInItemsRequest& request);
  absl::StatusOr<CommandResult> RemoveItems(
      const v1::RemoveItemsRequest& request);
  absl::StatusOr<CommandResult> DeactivateItem(
      const v1::DeactivateItemRequest& request);
  absl::StatusOr<CommandResult> ReactivateItem(
      const v1::ReactivateItemRequest& request);

  // The read side; min_position is set here.
  absl::StatusOr<v1::GetItemResponse> GetItem(v1::GetItemRequest request);
  // Every page, concatenated.
  absl::StatusOr<std::vector<v1::Item>> ListItems(v1::ListItemsRequest request);
  absl::StatusOr<std::vector<v1::Event>> GetItemHistory(
      const std::string& item_id);
  absl::StatusOr<v1::GetInventoryStatsResponse> GetInventoryStats(
      v1::GetInventoryStatsRequest request);

  // Streams. `on_message` is called for every message; returning false
  // stops the stream, and the call returns OK. Otherwise the call returns
  // when the stream ends: the server's status, or CANCELLED when `context`
  // was cancelled (context->TryCancel() from another thread).
  absl::Status WatchItem(
      const std::string& item_id, grpc::ClientContext* context,
      const std::function<bool(const v1::WatchItemResponse&)>& on_message);
  absl::Status Subscribe(
      const v1::SubscribeRequest& request, grpc::ClientContext* context,
      const std::function<bool(const v1::SubscribeResponse&)>& on_message);

  // The global position of this client's last successful command; 0 before
  // the first.
  int64_t last_position() const { return last_position_; }

 private:
  template <typename Request, typename Response>
  using CommandMethod = grpc::Status (v1::CommandService::Stub::*)(
      grpc::ClientContext*, const Request&, Response*);

  template <typename Request, typename Response>
  absl::StatusOr<CommandResult> Command(CommandMethod<Request, Response> method,
                                        const Request& request);

  // A context whose deadline is now + timeout.
  std::unique_ptr<grpc::ClientContext> UnaryContext() const;

  absl::Duration timeout_;
  std::unique_ptr<v1::CommandService::Stub> commands_;
  std::unique_ptr<v1::EventStreamService::Stub> events_;
  std::unique_ptr<v1::QueryService::Stub> queries_;
  int64_t last_position_ = 0;
};

}  // namespace inventory::itemctl

#endif  // INVENTORY_EXAMPLES_ITEMCTL_INVENTORY_CLIENT_H_
