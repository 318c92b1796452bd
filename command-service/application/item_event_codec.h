// Converts the domain's ItemEvent to and from the inventory.v1.Event
// payload (and, through common/api/event_codec.h, to and from the stored form).
#ifndef INVENTORY_COMMAND_SERVICE_APPLICATION_ITEM_EVENT_CODEC_H_
#define INVENTORY_COMMAND_SERVICE_APPLICATION_ITEM_EVENT_CODEC_H_

#include "absl/status/statusor.h"
#include "command-service/domain/item_events.h"
#include "common/eventstore/event_store.h"
#include "inventory/v1/events.pb.h"

namespace inventory {

// Sets the payload of `out` to `event` (other fields are left alone).
void SetPayload(const ItemEvent& event, inventory::v1::Event* out);

// The domain event in the payload of `event`; DATA_LOSS when none is set.
absl::StatusOr<ItemEvent> ItemEventFromProto(const inventory::v1::Event& event);

// The stored form of `event`, with `metadata`.
absl::StatusOr<EventData> ToEventData(const ItemEvent& event,
                                      const EventMetadata& metadata);

// The domain event a recorded event holds; DATA_LOSS when it holds none.
absl::StatusOr<ItemEvent> ItemEventFromRecorded(const RecordedEvent& event);

}  // namespace inventory

#endif  // INVENTORY_COMMAND_SERVICE_APPLICATION_ITEM_EVENT_CODEC_H_
