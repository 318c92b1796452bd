#include "query-service/server/query_requests.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "common/api/item_id.h"
#include "common/base/field_violation.h"
#include "common/base/status_macros.h"

namespace inventory {
namespace {

// The id as the request gave it, once ItemId accepts it.
absl::StatusOr<std::string> ValidItemId(const std::string& item_id) {
  INVENTORY_RETURN_IF_ERROR(ItemId::Create(item_id).status());
  return item_id;
}

absl::StatusOr<int64_t> MinPosition(int64_t min_position) {
  if (min_position < 0) {
    return InvalidField("min_position", "must not be negative");
  }
  return min_position;
}

absl::StatusOr<size_t> PageSize(int32_t requested) {
  if (requested == 0) return kDefaultPageSize;
  if (requested < 0 || requested > kMaxPageSize) {
    return InvalidField("page_size",
                        absl::StrCat("must be between 1 and ", kMaxPageSize,
                                     " (0 means ", kDefaultPageSize, ")"));
  }
  return static_cast<size_t>(requested);
}

absl::StatusOr<std::string> PageToken(const std::string& token) {
  if (token.size() > kMaxPageToken) {
    return InvalidField("page_token", "is not a token this service issued");
  }
  return token;
}

}  // namespace

absl::StatusOr<GetItemQuery> ToQuery(
    const inventory::v1::GetItemRequest& request) {
  GetItemQuery query;
  INVENTORY_ASSIGN_OR_RETURN(query.item_id, ValidItemId(request.item_id()));
  if (request.has_as_of_version()) {
    if (request.as_of_version() < 1) {
      return InvalidField("as_of_version", "must be at least 1");
    }
    query.as_of_version = request.as_of_version();
  }
  INVENTORY_ASSIGN_OR_RETURN(query.min_position,
                             MinPosition(request.min_position()));
  return query;
}

absl::StatusOr<ListItemsQuery> ToQuery(
    const inventory::v1::ListItemsRequest& request) {
  ListItemsQuery query;
  INVENTORY_ASSIGN_OR_RETURN(query.page_size, PageSize(request.page_size()));
  INVENTORY_ASSIGN_OR_RETURN(query.page_token, PageToken(request.page_token()));
  if (request.name_contains().size() > kMaxNameFilter) {
    return InvalidField(
        "name_contains",
        absl::StrCat("must be at most ", kMaxNameFilter, " bytes"));
  }
  if (request.sku_prefix().size() > kMaxSkuPrefix) {
    return InvalidField("sku_prefix", absl::StrCat("must be at most ",
                                                   kMaxSkuPrefix, " bytes"));
  }
  INVENTORY_ASSIGN_OR_RETURN(query.min_position,
                             MinPosition(request.min_position()));
  if (request.has_active()) query.filter.active = request.active();
  query.filter.name_contains = request.name_contains();
  query.filter.sku_prefix = request.sku_prefix();
  return query;
}

absl::StatusOr<GetItemHistoryQuery> ToQuery(
    const inventory::v1::GetItemHistoryRequest& request) {
  GetItemHistoryQuery query;
  INVENTORY_ASSIGN_OR_RETURN(query.item_id, ValidItemId(request.item_id()));
  INVENTORY_ASSIGN_OR_RETURN(query.page_size, PageSize(request.page_size()));
  INVENTORY_ASSIGN_OR_RETURN(query.page_token, PageToken(request.page_token()));
  INVENTORY_ASSIGN_OR_RETURN(query.min_position,
                             MinPosition(request.min_position()));
  return query;
}

absl::StatusOr<GetInventoryStatsQuery> ToQuery(
    const inventory::v1::GetInventoryStatsRequest& request) {
  if (request.low_stock_threshold() < 0) {
    return InvalidField("low_stock_threshold", "must not be negative");
  }
  GetInventoryStatsQuery query;
  query.low_stock_threshold = request.low_stock_threshold();
  INVENTORY_ASSIGN_OR_RETURN(query.min_position,
                             MinPosition(request.min_position()));
  return query;
}

absl::StatusOr<WatchItemQuery> ToQuery(
    const inventory::v1::WatchItemRequest& request) {
  WatchItemQuery query;
  INVENTORY_ASSIGN_OR_RETURN(query.item_id, ValidItemId(request.item_id()));
  INVENTORY_ASSIGN_OR_RETURN(query.min_position,
                             MinPosition(request.min_position()));
  return query;
}

}  // namespace inventory
