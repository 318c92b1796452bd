// Translation of inventory.v1 query requests into validated queries, the
// read side's counterpart of command_requests.h. Each function checks every
// field the service reads, in the order the service has always checked
// them, and returns the first problem as INVALID_ARGUMENT naming the field
// (field_violation.h); an item id is checked as the write side checks it
// (ItemId), so a query never looks for an id no command could create.
//
// Only the request itself is checked here: whether the read model has
// reached min_position, and whether the item exists, is for the service.
#ifndef INVENTORY_QUERY_SERVICE_SERVER_QUERY_REQUESTS_H_
#define INVENTORY_QUERY_SERVICE_SERVER_QUERY_REQUESTS_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "inventory/v1/query_service.pb.h"
#include "query-service/read_model/inventory_read_model.h"

namespace inventory {

// Page sizes of ListItems and GetItemHistory: a request's page_size 0
// means kDefaultPageSize; more than kMaxPageSize is INVALID_ARGUMENT.
inline constexpr int kDefaultPageSize = 100;
inline constexpr int kMaxPageSize = 1000;
// Longest ListItems filters, and longest page token (the service issues
// none longer), in bytes.
inline constexpr size_t kMaxNameFilter = 200;
inline constexpr size_t kMaxSkuPrefix = 32;
inline constexpr size_t kMaxPageToken = 1024;

// In every query, min_position is at least 0 (0: no wait).
struct GetItemQuery {
  std::string item_id;                   // a valid ItemId
  std::optional<int64_t> as_of_version;  // at least 1 when set
  int64_t min_position = 0;
};
struct ListItemsQuery {
  ItemFilter filter;
  size_t page_size = kDefaultPageSize;  // 1 to kMaxPageSize
  std::string page_token;               // "": the first page
  int64_t min_position = 0;
};
struct GetItemHistoryQuery {
  std::string item_id;
  size_t page_size = kDefaultPageSize;
  std::string page_token;
  int64_t min_position = 0;
};
struct GetInventoryStatsQuery {
  int64_t low_stock_threshold = 0;  // not negative
  int64_t min_position = 0;
};
struct WatchItemQuery {
  std::string item_id;
  int64_t min_position = 0;
};

absl::StatusOr<GetItemQuery> ToQuery(
    const inventory::v1::GetItemRequest& request);
absl::StatusOr<ListItemsQuery> ToQuery(
    const inventory::v1::ListItemsRequest& request);
absl::StatusOr<GetItemHistoryQuery> ToQuery(
    const inventory::v1::GetItemHistoryRequest& request);
absl::StatusOr<GetInventoryStatsQuery> ToQuery(
    const inventory::v1::GetInventoryStatsRequest& request);
absl::StatusOr<WatchItemQuery> ToQuery(
    const inventory::v1::WatchItemRequest& request);

}  // namespace inventory

#endif  // INVENTORY_QUERY_SERVICE_SERVER_QUERY_REQUESTS_H_
