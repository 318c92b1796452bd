#include "query-service/server/query_service.h"

#include <algorithm>
#include <optional>
#include <string>

#include "absl/strings/str_cat.h"
#include "common/base/error_reason.h"
#include "common/base/log.h"
#include "common/base/log_rate_limiter.h"
#include "common/base/status_macros.h"
#include "common/rpc/grpc_server.h"
#include "common/rpc/grpc_status.h"
#include "query-service/server/query_requests.h"

namespace inventory {
namespace {

constexpr absl::Duration kWatchPollInterval = absl::Milliseconds(200);
constexpr absl::Duration kCancelCheckInterval = absl::Milliseconds(200);

// UNAVAILABLE when the model is stopped at an event it cannot project
// (inventory_read_model.h) below `min_position`: waiting would not help
// until the query-service is upgraded.
absl::Status StoppedBelow(const InventoryReadModel& model,
                          int64_t min_position) {
  const std::optional<ProjectionStop> stop = model.stop();
  if (!stop.has_value() || stop->global_position > min_position) {
    return absl::OkStatus();
  }
  const int64_t position = stop->global_position - 1;
  return WithReason(
      absl::UnavailableError(absl::StrCat(
          "read model stopped at position ", position,
          ": it cannot project the event at position ", stop->global_position,
          " (type \"", stop->event_type, "\"); min_position ", min_position,
          " cannot be reached until the query-service is upgraded")),
      reason::kMinPositionNotReached,
      {{"min_position", absl::StrCat(min_position)},
       {"position", absl::StrCat(position)}});
}

// The read model answers NOT_FOUND both for an unknown item and for a
// version the item does not have (as_of_version); the reasons tell them
// apart. Other statuses (and ones that have a reason) pass unchanged.
absl::Status WithNotFoundReason(const InventoryReadModel& model,
                                const std::string& item_id,
                                std::optional<int64_t> as_of_version,
                                absl::Status status) {
  if (status.code() != absl::StatusCode::kNotFound ||
      ErrorReasonOf(status).has_value()) {
    return status;
  }
  if (as_of_version.has_value()) {
    absl::StatusOr<ItemAtPosition> latest = model.GetItem(item_id);
    if (latest.ok()) {
      return WithReason(
          std::move(status), reason::kItemVersionNotFound,
          {{"requested_version", absl::StrCat(*as_of_version)},
           {"latest_version", absl::StrCat(latest->item.version())}});
    }
  }
  return WithReason(std::move(status), reason::kItemNotFound);
}

// Logs a failed call and converts its status.
grpc::Status Finish(const char* method, const absl::Status& status) {
  if (!status.ok()) LogFailedCall(method, status);
  return ToGrpcStatus(status);
}

}  // namespace

QueryService::QueryService(const InventoryReadModel* model, Options options)
    : RawRequestService(inventory::v1::QueryService::service_full_name()),
      model_(model),
      options_(options),
      waiting_(options.max_waiting_queries, "queries waiting for min_position",
               reason::kTooManyWaitingQueries),
      watchers_(options.max_watchers, "open WatchItem streams",
                reason::kTooManyWatchers, options.max_watchers_per_client) {
  if (options.write_timeout < absl::InfiniteDuration()) {
    DropStalledStreamsAfter(options.write_timeout);
  }
  DecodeUnary("GetItem", &Service::GetItem);
  DecodeUnary("ListItems", &Service::ListItems);
  DecodeUnary("GetItemHistory", &Service::GetItemHistory);
  DecodeUnary("GetInventoryStats", &Service::GetInventoryStats);
  DecodeServerStream<inventory::v1::WatchItemRequest,
                     inventory::v1::WatchItemResponse>(
      "WatchItem", [this](grpc::ServerContext* context,
                          const inventory::v1::WatchItemRequest& request,
                          const Send<inventory::v1::WatchItemResponse>& send) {
        return ServeWatchItem(context, request, send);
      });
}

absl::Status QueryService::AwaitPosition(grpc::ServerContext* context,
                                         int64_t min_position) {
  if (min_position == 0 || model_->position() >= min_position) {
    return absl::OkStatus();
  }
  INVENTORY_RETURN_IF_ERROR(StoppedBelow(*model_, min_position));
  INVENTORY_ASSIGN_OR_RETURN(const ConcurrencyLimit::Slot slot,
                             waiting_.TryAcquire());
  const absl::Time call_deadline = absl::FromChrono(context->deadline());
  const absl::Time deadline =
      std::min(call_deadline, absl::Now() + options_.max_wait);
  // Waits in slices, so that a cancelled call frees its thread promptly.
  while (!model_->WaitForPosition(
      min_position, std::min(deadline, absl::Now() + kCancelCheckInterval))) {
    if (context->IsCancelled()) return absl::CancelledError("call cancelled");
    INVENTORY_RETURN_IF_ERROR(StoppedBelow(*model_, min_position));
    if (absl::Now() >= deadline) break;
  }
  if (model_->position() >= min_position) return absl::OkStatus();
  const int64_t position = model_->position();
  return WithReason(
      absl::DeadlineExceededError(absl::StrCat(
          "read model at position ", position, " has not reached min_position ",
          min_position, " in time")),
      reason::kMinPositionNotReached,
      {{"min_position", absl::StrCat(min_position)},
       {"position", absl::StrCat(position)}});
}

grpc::Status QueryService::GetItem(grpc::ServerContext* context,
                                   const inventory::v1::GetItemRequest* request,
                                   inventory::v1::GetItemResponse* response) {
  auto run = [&]() -> absl::Status {
    INVENTORY_ASSIGN_OR_RETURN(const GetItemQuery query, ToQuery(*request));
    INVENTORY_RETURN_IF_ERROR(AwaitPosition(context, query.min_position));
    absl::StatusOr<ItemAtPosition> found =
        model_->GetItem(query.item_id, query.as_of_version);
    if (!found.ok()) {
      return WithNotFoundReason(*model_, query.item_id, query.as_of_version,
                                found.status());
    }
    *response->mutable_item() = std::move(found->item);
    response->set_position(found->position);
    return absl::OkStatus();
  };
  return Finish("GetItem", run());
}

grpc::Status QueryService::ListItems(
    grpc::ServerContext* context,
    const inventory::v1::ListItemsRequest* request,
    inventory::v1::ListItemsResponse* response) {
  auto run = [&]() -> absl::Status {
    INVENTORY_ASSIGN_OR_RETURN(const ListItemsQuery query, ToQuery(*request));
    INVENTORY_RETURN_IF_ERROR(AwaitPosition(context, query.min_position));
    INVENTORY_ASSIGN_OR_RETURN(
        ItemPage page,
        model_->ListItems(query.filter, query.page_size, query.page_token,
                          static_cast<size_t>(options_.list_scan_limit)));
    for (auto& item : page.items) *response->add_items() = std::move(item);
    response->set_next_page_token(page.next_page_token);
    response->set_position(page.position);
    return absl::OkStatus();
  };
  return Finish("ListItems", run());
}

grpc::Status QueryService::GetItemHistory(
    grpc::ServerContext* context,
    const inventory::v1::GetItemHistoryRequest* request,
    inventory::v1::GetItemHistoryResponse* response) {
  auto run = [&]() -> absl::Status {
    INVENTORY_ASSIGN_OR_RETURN(const GetItemHistoryQuery query,
                               ToQuery(*request));
    INVENTORY_RETURN_IF_ERROR(AwaitPosition(context, query.min_position));
    absl::StatusOr<HistoryPage> page = model_->GetItemHistory(
        query.item_id, query.page_size, query.page_token);
    if (!page.ok()) {
      return WithNotFoundReason(*model_, query.item_id, std::nullopt,
                                page.status());
    }
    for (auto& event : page->events) {
      *response->add_events() = std::move(event);
    }
    response->set_next_page_token(page->next_page_token);
    response->set_position(page->position);
    return absl::OkStatus();
  };
  return Finish("GetItemHistory", run());
}

grpc::Status QueryService::GetInventoryStats(
    grpc::ServerContext* context,
    const inventory::v1::GetInventoryStatsRequest* request,
    inventory::v1::GetInventoryStatsResponse* response) {
  auto run = [&]() -> absl::Status {
    INVENTORY_ASSIGN_OR_RETURN(const GetInventoryStatsQuery query,
                               ToQuery(*request));
    INVENTORY_RETURN_IF_ERROR(AwaitPosition(context, query.min_position));
    InventoryStats stats = model_->GetStats(query.low_stock_threshold);
    response->set_item_count(stats.item_count);
    response->set_active_item_count(stats.active_item_count);
    response->set_total_quantity_on_hand(stats.total_quantity_on_hand);
    response->set_low_stock_item_count(stats.low_stock_item_count);
    for (auto& id : stats.low_stock_item_ids) {
      response->add_low_stock_item_ids(std::move(id));
    }
    response->set_position(stats.position);
    return absl::OkStatus();
  };
  return Finish("GetInventoryStats", run());
}

grpc::Status QueryService::ServeWatchItem(
    grpc::ServerContext* context,
    const inventory::v1::WatchItemRequest& request,
    const Send<inventory::v1::WatchItemResponse>& send) {
  auto run = [&]() -> absl::Status {
    INVENTORY_ASSIGN_OR_RETURN(const WatchItemQuery query, ToQuery(request));
    INVENTORY_ASSIGN_OR_RETURN(
        const ConcurrencyLimit::Slot slot,
        watchers_.TryAcquire(ClientAddress(context->peer())));
    INVENTORY_RETURN_IF_ERROR(AwaitPosition(context, query.min_position));
    // A rebuilt model (generation changed) starts the item's versions over:
    // the watch ends rather than wait for a version it has seen already.
    const int64_t generation = model_->generation();
    absl::StatusOr<ItemAtPosition> first = model_->GetItem(query.item_id);
    if (!first.ok()) {
      return WithNotFoundReason(*model_, query.item_id, std::nullopt,
                                first.status());
    }
    ItemAtPosition current = *std::move(first);
    inventory::v1::WatchItemResponse message;
    for (;;) {
      *message.mutable_item() = current.item;
      message.set_position(current.position);
      if (!send(message)) return absl::CancelledError("client gone");
      const int64_t seen = current.item.version();
      for (;;) {
        if (shutting_down_) {
          return WithReason(absl::UnavailableError("server is shutting down"),
                            reason::kShuttingDown);
        }
        if (context->IsCancelled()) return absl::CancelledError("cancelled");
        if (model_->generation() != generation) {
          return WithReason(
              absl::UnavailableError(
                  "the read model is being rebuilt from the event log; watch "
                  "again"),
              reason::kReadModelRebuilt);
        }
        std::optional<ItemAtPosition> changed = model_->WaitForItemChange(
            query.item_id, seen, absl::Now() + kWatchPollInterval);
        if (changed.has_value()) {
          current = std::move(*changed);
          break;
        }
      }
    }
  };
  const absl::Status status = run();
  return status.code() == absl::StatusCode::kCancelled
             ? ToGrpcStatus(status)
             : Finish("WatchItem", status);
}

}  // namespace inventory
