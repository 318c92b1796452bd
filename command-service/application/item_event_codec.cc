#include "command-service/application/item_event_codec.h"

#include "absl/strings/str_cat.h"
#include "common/api/event_codec.h"
#include "common/base/overloaded.h"
#include "common/base/status_macros.h"

namespace inventory {

void SetPayload(const ItemEvent& event, inventory::v1::Event* out) {
  std::visit(Overloaded{
                 [&](const ItemCreated& e) {
                   auto* p = out->mutable_item_created();
                   p->set_item_id(e.item_id);
                   p->set_sku(e.sku);
                   p->set_name(e.name);
                 },
                 [&](const ItemRenamed& e) {
                   auto* p = out->mutable_item_renamed();
                   p->set_item_id(e.item_id);
                   p->set_name(e.name);
                 },
                 [&](const ItemsCheckedIn& e) {
                   auto* p = out->mutable_items_checked_in();
                   p->set_item_id(e.item_id);
                   p->set_quantity(e.quantity);
                 },
                 [&](const ItemsRemoved& e) {
                   auto* p = out->mutable_items_removed();
                   p->set_item_id(e.item_id);
                   p->set_quantity(e.quantity);
                 },
                 [&](const ItemDeactivated& e) {
                   out->mutable_item_deactivated()->set_item_id(e.item_id);
                 },
                 [&](const ItemReactivated& e) {
                   out->mutable_item_reactivated()->set_item_id(e.item_id);
                 },
             },
             event);
}

absl::StatusOr<ItemEvent> ItemEventFromProto(const inventory::v1::Event& e) {
  using inventory::v1::Event;
  switch (e.payload_case()) {
    case Event::kItemCreated:
      return ItemEvent(ItemCreated{e.item_created().item_id(),
                                   e.item_created().sku(),
                                   e.item_created().name()});
    case Event::kItemRenamed:
      return ItemEvent(
          ItemRenamed{e.item_renamed().item_id(), e.item_renamed().name()});
    case Event::kItemsCheckedIn:
      return ItemEvent(ItemsCheckedIn{e.items_checked_in().item_id(),
                                      e.items_checked_in().quantity()});
    case Event::kItemsRemoved:
      return ItemEvent(ItemsRemoved{e.items_removed().item_id(),
                                    e.items_removed().quantity()});
    case Event::kItemDeactivated:
      return ItemEvent(ItemDeactivated{e.item_deactivated().item_id()});
    case Event::kItemReactivated:
      return ItemEvent(ItemReactivated{e.item_reactivated().item_id()});
    case Event::PAYLOAD_NOT_SET:
      break;
  }
  return NotDecodable(e.global_position(), "has no payload");
}

absl::StatusOr<EventData> ToEventData(const ItemEvent& event,
                                      const EventMetadata& metadata) {
  inventory::v1::Event proto;
  SetPayload(event, &proto);
  INVENTORY_ASSIGN_OR_RETURN(EventData data, ToEventData(proto));
  data.metadata = metadata;
  return data;
}

absl::StatusOr<ItemEvent> ItemEventFromRecorded(const RecordedEvent& event) {
  INVENTORY_ASSIGN_OR_RETURN(inventory::v1::Event proto,
                             DecodeEventOrDataLoss(event));
  return ItemEventFromProto(proto);
}

}  // namespace inventory
