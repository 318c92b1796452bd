#include "examples/itemctl/subcommands.h"

#include <algorithm>
#include <cstdint>
#include <functional>
#include <map>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/base/status_macros.h"
#include "examples/itemctl/cancel_on_interrupt.h"
#include "examples/itemctl/error_line.h"
#include "examples/itemctl/response_text.h"

namespace inventory::itemctl {
namespace {

using Handler = std::function<absl::Status(const Invocation&, InventoryClient&,
                                           std::ostream&)>;

// Sets the options every write command shares.
template <typename Request>
absl::Status SetWriteOptions(const Invocation& invocation, Request& request) {
  INVENTORY_ASSIGN_OR_RETURN(std::optional<int64_t> expected,
                             invocation.IntOption("expect"));
  if (expected.has_value()) request.set_expected_version(*expected);
  request.set_request_id(invocation.Text("request-id").value_or(""));
  return absl::OkStatus();
}

absl::Status Print(const absl::StatusOr<CommandResult>& result,
                   std::ostream& out) {
  if (!result.ok()) return result.status();
  out << CommandResultText(*result);
  return absl::OkStatus();
}

absl::Status Create(const Invocation& in, InventoryClient& client,
                    std::ostream& out) {
  v1::CreateItemRequest request;
  request.set_item_id(in.args[0]);
  request.set_sku(in.args[1]);
  request.set_name(in.args[2]);
  request.set_request_id(in.Text("request-id").value_or(""));
  // CreateItem has no expected_version: an item is created at most once.
  if (in.Has("expect")) {
    INVENTORY_ASSIGN_OR_RETURN(std::optional<int64_t> expected,
                               in.IntOption("expect"));
    if (*expected != 0) {
      return UsageError("create makes a new item: --expect can only be 0");
    }
  }
  return Print(client.CreateItem(request), out);
}

absl::Status Rename(const Invocation& in, InventoryClient& client,
                    std::ostream& out) {
  v1::RenameItemRequest request;
  request.set_item_id(in.args[0]);
  request.set_name(in.args[1]);
  INVENTORY_RETURN_IF_ERROR(SetWriteOptions(in, request));
  return Print(client.RenameItem(request), out);
}

absl::Status CheckIn(const Invocation& in, InventoryClient& client,
                     std::ostream& out) {
  v1::CheckInItemsRequest request;
  request.set_item_id(in.args[0]);
  INVENTORY_ASSIGN_OR_RETURN(int64_t quantity, in.IntArg(1, "<qty>"));
  request.set_quantity(quantity);
  INVENTORY_RETURN_IF_ERROR(SetWriteOptions(in, request));
  return Print(client.CheckInItems(request), out);
}

absl::Status Remove(const Invocation& in, InventoryClient& client,
                    std::ostream& out) {
  v1::RemoveItemsRequest request;
  request.set_item_id(in.args[0]);
  INVENTORY_ASSIGN_OR_RETURN(int64_t quantity, in.IntArg(1, "<qty>"));
  request.set_quantity(quantity);
  INVENTORY_RETURN_IF_ERROR(SetWriteOptions(in, request));
  return Print(client.RemoveItems(request), out);
}

absl::Status Deactivate(const Invocation& in, InventoryClient& client,
                        std::ostream& out) {
  v1::DeactivateItemRequest request;
  request.set_item_id(in.args[0]);
  INVENTORY_RETURN_IF_ERROR(SetWriteOptions(in, request));
  return Print(client.DeactivateItem(request), out);
}

absl::Status Reactivate(const Invocation& in, InventoryClient& client,
                        std::ostream& out) {
  v1::ReactivateItemRequest request;
  request.set_item_id(in.args[0]);
  INVENTORY_RETURN_IF_ERROR(SetWriteOptions(in, request));
  return Print(client.ReactivateItem(request), out);
}

absl::Status Show(const Invocation& in, InventoryClient& client,
                  std::ostream& out) {
  v1::GetItemRequest request;
  request.set_item_id(in.args[0]);
  INVENTORY_ASSIGN_OR_RETURN(std::optional<int64_t> as_of,
                             in.IntOption("as-of"));
  if (as_of.has_value()) request.set_as_of_version(*as_of);
  INVENTORY_ASSIGN_OR_RETURN(v1::GetItemResponse response,
                             client.GetItem(request));
  out << ItemText(response.item());
  return absl::OkStatus();
}

absl::Status List(const Invocation& in, InventoryClient& client,
                  std::ostream& out) {
  v1::ListItemsRequest request;
  INVENTORY_ASSIGN_OR_RETURN(std::optional<bool> active,
                             in.BoolOption("active"));
  if (active.has_value()) request.set_active(*active);
  request.set_name_contains(in.Text("name").value_or(""));
  request.set_sku_prefix(in.Text("sku").value_or(""));
  INVENTORY_ASSIGN_OR_RETURN(std::optional<int64_t> page_size,
                             in.IntOption("page-size"));
  if (page_size.has_value()) {
    request.set_page_size(static_cast<int32_t>(
        std::clamp<int64_t>(*page_size, INT32_MIN, INT32_MAX)));
  }
  INVENTORY_ASSIGN_OR_RETURN(std::vector<v1::Item> items,
                             client.ListItems(request));
  out << ItemsTable(items);
  return absl::OkStatus();
}

absl::Status History(const Invocation& in, InventoryClient& client,
                     std::ostream& out) {
  INVENTORY_ASSIGN_OR_RETURN(std::vector<v1::Event> events,
                             client.GetItemHistory(in.args[0]));
  out << HistoryTable(events);
  return absl::OkStatus();
}

absl::Status Stats(const Invocation& in, InventoryClient& client,
                   std::ostream& out) {
  v1::GetInventoryStatsRequest request;
  INVENTORY_ASSIGN_OR_RETURN(std::optional<int64_t> low, in.IntOption("low"));
  request.set_low_stock_threshold(low.value_or(0));
  INVENTORY_ASSIGN_OR_RETURN(v1::GetInventoryStatsResponse stats,
                             client.GetInventoryStats(request));
  out << StatsText(stats, request.low_stock_threshold());
  return absl::OkStatus();
}

// A stream that ended because the user pressed Ctrl-C ended well.
absl::Status UnlessInterrupted(const CancelOnInterrupt& guard,
                               absl::Status status) {
  return guard.interrupted() ? absl::OkStatus() : status;
}

absl::Status Watch(const Invocation& in, InventoryClient& client,
                   std::ostream& out) {
  grpc::ClientContext context;
  CancelOnInterrupt guard(&context);
  return UnlessInterrupted(
      guard, client.WatchItem(in.args[0], &context,
                              [&out](const v1::WatchItemResponse& update) {
                                out << WatchText(update) << std::flush;
                                return true;
                              }));
}

absl::StatusOr<v1::SubscribeRequest> SubscribeRequestOf(const Invocation& in) {
  v1::SubscribeRequest request;
  INVENTORY_ASSIGN_OR_RETURN(std::optional<int64_t> after,
                             in.IntOption("after"));
  request.set_after_position(after.value_or(0));
  for (absl::string_view type :
       absl::StrSplit(in.Text("type").value_or(""), ',', absl::SkipEmpty())) {
    // "ItemCreated" is short for "inventory.v1.ItemCreated".
    request.mutable_filter()->add_event_types(
        absl::StrContains(type, '.') ? std::string(type)
                                     : absl::StrCat("inventory.v1.", type));
  }
  request.mutable_filter()->set_stream_id_prefix(
      in.Text("prefix").value_or(""));
  return request;
}

absl::Status Events(const Invocation& in, InventoryClient& client,
                    std::ostream& out) {
  INVENTORY_ASSIGN_OR_RETURN(v1::SubscribeRequest request,
                             SubscribeRequestOf(in));
  const bool follow = in.Has("follow");
  grpc::ClientContext context;
  CancelOnInterrupt guard(&context);
  auto on_message = [&](const v1::SubscribeResponse& message) {
    if (message.has_event()) {
      out << EventText(message.event()) << std::flush;
    } else if (message.has_caught_up()) {
      out << "(caught up at position " << message.caught_up().head_position()
          << (follow ? "; following, Ctrl-C to stop)\n" : ")\n") << std::flush;
      return follow;
    }
    return true;  // heartbeats say nothing new
  };
  return UnlessInterrupted(guard,
                           client.Subscribe(request, &context, on_message));
}

const std::map<std::string, Handler>& Handlers() {
  static const auto* handlers = new std::map<std::string, Handler>{
      {"create", Create},
      {"rename", Rename},
      {"checkin", CheckIn},
      {"remove", Remove},
      {"deactivate", Deactivate},
      {"reactivate", Reactivate},
      {"show", Show},
      {"list", List},
      {"history", History},
      {"stats", Stats},
      {"watch", Watch},
      {"events", Events},
  };
  return *handlers;
}

}  // namespace

absl::Status RunSubcommand(const Invocation& invocation,
                           InventoryClient& client, std::ostream& out) {
  const auto it = Handlers().find(invocation.command->name);
  if (it == Handlers().end()) {
    return absl::InternalError(
        absl::StrCat("no handler for ", invocation.command->name));
  }
  return it->second(invocation, client, out);
}

}  // namespace inventory::itemctl
