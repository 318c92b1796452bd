#include "query-service/read_model/item_projection.h"

#include <limits>

namespace inventory {
namespace {

using inventory::v1::Event;

int64_t ClampedAdd(int64_t a, int64_t b) {
  int64_t sum;
  if (__builtin_add_overflow(a, b, &sum)) {
    return b > 0 ? std::numeric_limits<int64_t>::max() : 0;
  }
  return sum < 0 ? 0 : sum;
}

}  // namespace

std::string ItemIdOf(const Event& event) {
  switch (event.payload_case()) {
    case Event::kItemCreated:
      return event.item_created().item_id();
    case Event::kItemRenamed:
      return event.item_renamed().item_id();
    case Event::kItemsCheckedIn:
      return event.items_checked_in().item_id();
    case Event::kItemsRemoved:
      return event.items_removed().item_id();
    case Event::kItemDeactivated:
      return event.item_deactivated().item_id();
    case Event::kItemReactivated:
      return event.item_reactivated().item_id();
    case Event::PAYLOAD_NOT_SET:
      break;
  }
  return "";
}

void ApplyToItem(const Event& event, inventory::v1::Item* item) {
  switch (event.payload_case()) {
    case Event::kItemCreated:
      item->set_item_id(event.item_created().item_id());
      item->set_sku(event.item_created().sku());
      item->set_name(event.item_created().name());
      item->set_quantity_on_hand(0);
      item->set_active(true);
      *item->mutable_created_at() = event.recorded_at();
      break;
    case Event::kItemRenamed:
      item->set_name(event.item_renamed().name());
      break;
    case Event::kItemsCheckedIn:
      item->set_quantity_on_hand(ClampedAdd(
          item->quantity_on_hand(), event.items_checked_in().quantity()));
      break;
    case Event::kItemsRemoved: {
      const int64_t removed = event.items_removed().quantity();
      item->set_quantity_on_hand(
          removed < 0 ? item->quantity_on_hand()
                      : ClampedAdd(item->quantity_on_hand(), -removed));
      break;
    }
    case Event::kItemDeactivated:
      item->set_active(false);
      break;
    case Event::kItemReactivated:
      item->set_active(true);
      break;
    case Event::PAYLOAD_NOT_SET:
      return;
  }
  item->set_version(event.stream_version());
  *item->mutable_updated_at() = event.recorded_at();
}

}  // namespace inventory
