#include "examples/itemctl/response_text.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "absl/time/time.h"
#include "examples/itemctl/text_table.h"

namespace inventory::itemctl {
namespace {

using v1::Event;
using v1::Item;
using Align = TextTable::Align;

constexpr absl::string_view kEventTypePrefix = "inventory.v1.";

std::string YesNo(bool value) { return value ? "yes" : "no"; }

std::string Quoted(const std::string& text) {
  return absl::StrCat("\"", text, "\"");
}

}  // namespace

std::string CommandResultText(const CommandResult& result) {
  return absl::StrCat(
      "ok: item ", result.item_id, " version ", result.version,
      " (global position ", result.global_position, ")",
      result.replayed ? " (replayed: nothing new recorded)" : "", "\n");
}

std::string ItemText(const Item& item) {
  return absl::StrCat("item:     ", item.item_id(),                      //
                      "\nsku:      ", item.sku(),                        //
                      "\nname:     ", item.name(),                       //
                      "\non hand:  ", item.quantity_on_hand(),           //
                      "\nactive:   ", YesNo(item.active()),              //
                      "\nversion:  ", item.version(),                    //
                      "\ncreated:  ", TimestampText(item.created_at()),  //
                      "\nupdated:  ", TimestampText(item.updated_at()), "\n");
}

std::string WatchText(const v1::WatchItemResponse& update) {
  const Item& item = update.item();
  return absl::StrCat(item.item_id(), " version ", item.version(), ": sku ",
                      item.sku(), ", name ", Quoted(item.name()), ", ",
                      item.quantity_on_hand(), " on hand, ",
                      item.active() ? "active" : "deactivated", " (position ",
                      update.position(), ")\n");
}

std::string ItemsTable(const std::vector<Item>& items) {
  TextTable table({{"ID"},
                   {"SKU"},
                   {"NAME"},
                   {"ON HAND", Align::kRight},
                   {"ACTIVE"},
                   {"VERSION", Align::kRight}});
  for (const Item& item : items) {
    table.AddRow({item.item_id(), item.sku(), item.name(),
                  absl::StrCat(item.quantity_on_hand()), YesNo(item.active()),
                  absl::StrCat(item.version())});
  }
  return absl::StrCat(table.Render(), "(", items.size(),
                      items.size() == 1 ? " item)\n" : " items)\n");
}

std::string HistoryTable(const std::vector<Event>& events) {
  TextTable table({{"VERSION", Align::kRight},
                   {"POSITION", Align::kRight},
                   {"TYPE"},
                   {"DETAILS"},
                   {"RECORDED AT"}});
  for (const Event& event : events) {
    table.AddRow({absl::StrCat(event.stream_version()),
                  absl::StrCat(event.global_position()),
                  ShortEventType(event.event_type()), EventDetails(event),
                  TimestampText(event.recorded_at())});
  }
  return table.Render();
}

std::string StatsText(const v1::GetInventoryStatsResponse& stats,
                      int64_t low_threshold) {
  std::string text = absl::StrCat(
      "items:          ", stats.item_count(), " (", stats.active_item_count(),
      " active)\nunits on hand:  ", stats.total_quantity_on_hand(), "\n");
  if (low_threshold > 0) {
    absl::StrAppend(&text, "low stock (<", low_threshold,
                    "): ", stats.low_stock_item_count());
    if (stats.low_stock_item_ids_size() > 0) {
      absl::StrAppend(&text, ": ",
                      absl::StrJoin(stats.low_stock_item_ids(), ", "));
    }
    absl::StrAppend(&text, "\n");
  }
  return text;
}

std::string EventText(const Event& event) {
  std::string text = absl::StrCat(
      "#", event.global_position(), " ", event.stream_id(), " v",
      event.stream_version(), " ", ShortEventType(event.event_type()));
  const std::string details = EventDetails(event);
  if (!details.empty()) absl::StrAppend(&text, " ", details);
  absl::StrAppend(&text, " at ", TimestampText(event.recorded_at()), "\n");
  return text;
}

std::string ShortEventType(const std::string& event_type) {
  absl::string_view type = event_type;
  absl::ConsumePrefix(&type, kEventTypePrefix);
  return std::string(type);
}

std::string EventDetails(const Event& event) {
  switch (event.payload_case()) {
    case Event::kItemCreated:
      return absl::StrCat("sku=", event.item_created().sku(),
                          " name=", Quoted(event.item_created().name()));
    case Event::kItemRenamed:
      return absl::StrCat("name=", Quoted(event.item_renamed().name()));
    case Event::kItemsCheckedIn:
      return absl::StrCat("quantity=", event.items_checked_in().quantity());
    case Event::kItemsRemoved:
      return absl::StrCat("quantity=", event.items_removed().quantity());
    case Event::kItemDeactivated:
    case Event::kItemReactivated:
    case Event::PAYLOAD_NOT_SET:
      return "";
  }
  return "";
}

std::string TimestampText(const google::protobuf::Timestamp& timestamp) {
  if (timestamp.seconds() == 0 && timestamp.nanos() == 0) return "-";
  const absl::Time time = absl::FromUnixSeconds(timestamp.seconds()) +
                          absl::Nanoseconds(timestamp.nanos());
  return absl::FormatTime("%Y-%m-%d %H:%M:%S UTC", time, absl::UTCTimeZone());
}

}  // namespace inventory::itemctl
