// QueryService: the gRPC face of the read side (inventory.v1.QueryService),
// answering from the InventoryReadModel.
//
// Read-your-writes: a request's min_position makes the call wait until the
// read model has applied that position. The wait ends at the call's
// deadline, or after Options::max_wait when the call has none; if the
// position is not reached by then the call fails with DEADLINE_EXCEEDED
// ("read model at position X has not reached min_position Y"), and the
// client may simply retry. When the read model is stopped at an event it
// cannot project, at or below min_position, the call is UNAVAILABLE at
// once, naming the position and event type: it would never be reached.
// A WatchItem stream ends with UNAVAILABLE when the read model is rebuilt.
//
// Limits: calls waiting for their min_position and open WatchItem streams
// each hold a gRPC thread, so each kind has a cap (Options); a call beyond
// it is RESOURCE_EXHAUSTED at once. A ListItems call checks at most
// Options::list_scan_limit items, so a filter that matches little costs a
// bounded amount per call: its page may then be short, even empty, with a
// next_page_token. Requests are decoded by RawRequestService, so a string
// that is not valid UTF-8 is INVALID_ARGUMENT naming the field; their
// fields are then checked by query_requests.h, before any wait.
#ifndef INVENTORY_QUERY_SERVICE_SERVER_QUERY_SERVICE_H_
#define INVENTORY_QUERY_SERVICE_SERVER_QUERY_SERVICE_H_

#include <atomic>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "common/rpc/concurrency_limit.h"
#include "common/rpc/raw_request_service.h"
#include "inventory/v1/query_service.grpc.pb.h"
#include "query-service/read_model/inventory_read_model.h"

namespace inventory {

// Thread-safe.
class QueryService final
    : public RawRequestService<inventory::v1::QueryService::Service> {
 public:
  struct Options {
    // Longest min_position wait for a call without deadline.
    absl::Duration max_wait = absl::Seconds(30);
    // Calls waiting for their min_position at once.
    int64_t max_waiting_queries = 128;
    // WatchItem streams open at once, and from one client address (0: no
    // cap per client).
    int64_t max_watchers = 128;
    int64_t max_watchers_per_client = 32;
    // A watcher that reads nothing for this long while a message waits for
    // it is dropped, and its slot and thread come free.
    absl::Duration write_timeout = absl::Seconds(30);
    // Items one ListItems call may check against its filter; at least 1.
    // A call that reaches it before its page is full returns what it found
    // with a next_page_token that continues the scan (inventory_read_model.h).
    int64_t list_scan_limit =
        static_cast<int64_t>(InventoryReadModel::kDefaultListScanLimit);
  };

  // `model` must outlive the service.
  QueryService(const InventoryReadModel* model, Options options);

  grpc::Status GetItem(grpc::ServerContext* context,
                       const inventory::v1::GetItemRequest* request,
                       inventory::v1::GetItemResponse* response) override;
  grpc::Status ListItems(grpc::ServerContext* context,
                         const inventory::v1::ListItemsRequest* request,
                         inventory::v1::ListItemsResponse* response) override;
  grpc::Status GetItemHistory(
      grpc::ServerContext* context,
      const inventory::v1::GetItemHistoryRequest* request,
      inventory::v1::GetItemHistoryResponse* response) override;
  grpc::Status GetInventoryStats(
      grpc::ServerContext* context,
      const inventory::v1::GetInventoryStatsRequest* request,
      inventory::v1::GetInventoryStatsResponse* response) override;
  // Ends WatchItem streams (UNAVAILABLE) so the server can stop.
  void BeginShutdown() { shutting_down_ = true; }

  // Calls waiting for their min_position now, and open WatchItem streams.
  int64_t waiting_queries() const { return waiting_.in_use(); }
  int64_t watchers() const { return watchers_.in_use(); }

 private:
  // WatchItem: the item now, then after every change; `send` returns false
  // once the client is gone.
  grpc::Status ServeWatchItem(
      grpc::ServerContext* context,
      const inventory::v1::WatchItemRequest& request,
      const Send<inventory::v1::WatchItemResponse>& send);

  // Waits for min_position (not negative: query_requests.h) within the
  // call's deadline (or max_wait).
  // RESOURCE_EXHAUSTED when it would have to wait and max_waiting_queries
  // calls are waiting already.
  absl::Status AwaitPosition(grpc::ServerContext* context,
                             int64_t min_position);

  const InventoryReadModel* const model_;
  const Options options_;
  ConcurrencyLimit waiting_;
  ConcurrencyLimit watchers_;
  std::atomic<bool> shutting_down_{false};
};

}  // namespace inventory

#endif  // INVENTORY_QUERY_SERVICE_SERVER_QUERY_SERVICE_H_
