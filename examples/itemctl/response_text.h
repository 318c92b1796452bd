// How the services' answers read on a terminal. Pure functions of the
// response messages; every returned text ends in '\n'.
#ifndef INVENTORY_EXAMPLES_ITEMCTL_RESPONSE_TEXT_H_
#define INVENTORY_EXAMPLES_ITEMCTL_RESPONSE_TEXT_H_

#include <cstdint>
#include <string>
#include <vector>

#include "examples/itemctl/command_result.h"
#include "google/protobuf/timestamp.pb.h"
#include "inventory/v1/events.pb.h"
#include "inventory/v1/query_service.pb.h"

namespace inventory::itemctl {

// "ok: item w-1 version 2 (global position 7)"; a replayed answer says so.
std::string CommandResultText(const CommandResult& result);

// The item as "key: value" lines (show).
std::string ItemText(const v1::Item& item);

// One line per change of a watched item.
std::string WatchText(const v1::WatchItemResponse& update);

// ID, SKU, NAME, ON HAND, ACTIVE, VERSION (list).
std::string ItemsTable(const std::vector<v1::Item>& items);

// VERSION, POSITION, TYPE, DETAILS, RECORDED AT (history).
std::string HistoryTable(const std::vector<v1::Event>& events);

// Totals; the low-stock line only when `low_threshold` > 0.
std::string StatsText(const v1::GetInventoryStatsResponse& stats,
                      int64_t low_threshold);

// One line per event of the log (events).
std::string EventText(const v1::Event& event);

// "ItemsCheckedIn" for "inventory.v1.ItemsCheckedIn".
std::string ShortEventType(const std::string& event_type);

// The payload's fields: `sku=W-1 name="Blue widget"`, `quantity=5`, ...
std::string EventDetails(const v1::Event& event);

// "2024-05-01 12:00:00 UTC"; "-" when unset.
std::string TimestampText(const google::protobuf::Timestamp& timestamp);

}  // namespace inventory::itemctl

#endif  // INVENTORY_EXAMPLES_ITEMCTL_RESPONSE_TEXT_H_
