// The shared fixture of InventoryReadModel's unit tests
// (inventory_read_model_*_test.cc): a builder of well-formed event logs and
// helpers to apply events and to follow listings page by page.
#ifndef INVENTORY_QUERY_SERVICE_READ_MODEL_INVENTORY_READ_MODEL_TEST_FIXTURE_H_
#define INVENTORY_QUERY_SERVICE_READ_MODEL_INVENTORY_READ_MODEL_TEST_FIXTURE_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "common/base/field_violation.h"
#include "common/base/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "inventory/v1/events.pb.h"
#include "inventory/v1/query_service.pb.h"
#include "query-service/read_model/inventory_read_model.h"

namespace inventory::read_model_test {

using inventory::v1::Event;
using inventory::v1::Item;

inline constexpr int64_t kBaseSeconds = 1700000000;

// Builds the events of a well-formed log: global positions 1, 2, 3, ...,
// stream versions 1, 2, 3, ... per item, recorded_at one second apart.
class EventLog {
 public:
  Event Create(const std::string& id, const std::string& sku,
               const std::string& name) {
    Event event = Next(id);
    event.set_event_type("inventory.v1.ItemCreated");
    event.mutable_item_created()->set_item_id(id);
    event.mutable_item_created()->set_sku(sku);
    event.mutable_item_created()->set_name(name);
    return event;
  }
  Event Rename(const std::string& id, const std::string& name) {
    Event event = Next(id);
    event.set_event_type("inventory.v1.ItemRenamed");
    event.mutable_item_renamed()->set_item_id(id);
    event.mutable_item_renamed()->set_name(name);
    return event;
  }
  Event CheckIn(const std::string& id, int64_t quantity) {
    Event event = Next(id);
    event.set_event_type("inventory.v1.ItemsCheckedIn");
    event.mutable_items_checked_in()->set_item_id(id);
    event.mutable_items_checked_in()->set_quantity(quantity);
    return event;
  }
  Event Remove(const std::string& id, int64_t quantity) {
    Event event = Next(id);
    event.set_event_type("inventory.v1.ItemsRemoved");
    event.mutable_items_removed()->set_item_id(id);
    event.mutable_items_removed()->set_quantity(quantity);
    return event;
  }
  Event Deactivate(const std::string& id) {
    Event event = Next(id);
    event.set_event_type("inventory.v1.ItemDeactivated");
    event.mutable_item_deactivated()->set_item_id(id);
    return event;
  }
  Event Reactivate(const std::string& id) {
    Event event = Next(id);
    event.set_event_type("inventory.v1.ItemReactivated");
    event.mutable_item_reactivated()->set_item_id(id);
    return event;
  }
  // An event of a type this read side does not know (no payload set).
  Event Unknown() {
    Event event;
    event.set_global_position(++position_);
    event.set_stream_id("other-stream");
    event.set_stream_version(1);
    event.set_event_type("inventory.v1.SomethingNew");
    *event.mutable_recorded_at() = RecordedAt(position_);
    return event;
  }

  int64_t position() const { return position_; }

  static google::protobuf::Timestamp RecordedAt(int64_t position) {
    google::protobuf::Timestamp at;
    at.set_seconds(kBaseSeconds + position);
    at.set_nanos(static_cast<int32_t>(position * 1000));
    return at;
  }

 private:
  Event Next(const std::string& id) {
    Event event;
    event.set_global_position(++position_);
    event.set_stream_id("item-" + id);
    event.set_stream_version(++versions_[id]);
    event.set_event_id(absl::StrCat("event-", position_));
    *event.mutable_recorded_at() = RecordedAt(position_);
    event.mutable_metadata()->set_request_id(absl::StrCat("req-", position_));
    return event;
  }

  int64_t position_ = 0;
  std::map<std::string, int64_t> versions_;
};

inline void ApplyOk(InventoryReadModel& model, const Event& event) {
  const absl::Status status = model.Apply(event);
  ASSERT_THAT(status, IsOk()) << " applying " << event.DebugString();
}

inline Item CurrentItem(const InventoryReadModel& model,
                        const std::string& id) {
  absl::StatusOr<ItemAtPosition> found = model.GetItem(id);
  EXPECT_THAT(found, IsOk());
  return found.ok() ? found->item : Item();
}

inline std::vector<std::string> IdsOf(const std::vector<Item>& items) {
  std::vector<std::string> ids;
  for (const Item& item : items) ids.push_back(item.item_id());
  return ids;
}

// Every page of a listing, followed from the first to the last; fails the
// test on an error or an endless listing.
inline std::vector<std::vector<std::string>> AllPages(
    const InventoryReadModel& model, const ItemFilter& filter,
    size_t page_size) {
  std::vector<std::vector<std::string>> pages;
  std::string token;
  do {
    absl::StatusOr<ItemPage> page = model.ListItems(filter, page_size, token);
    EXPECT_THAT(page, IsOk());
    if (!page.ok() || pages.size() > 10000) break;
    EXPECT_LE(page->items.size(), page_size);
    pages.push_back(IdsOf(page->items));
    token = page->next_page_token;
  } while (!token.empty());
  return pages;
}

inline std::vector<std::string> Flatten(
    const std::vector<std::vector<std::string>>& pages) {
  std::vector<std::string> all;
  for (const auto& page : pages)
    all.insert(all.end(), page.begin(), page.end());
  return all;
}

inline std::vector<std::string> ListAll(const InventoryReadModel& model,
                                        const ItemFilter& filter) {
  return Flatten(AllPages(model, filter, 1000));
}

inline ItemFilter Active(bool active) {
  ItemFilter filter;
  filter.active = active;
  return filter;
}
inline ItemFilter NameContains(const std::string& text) {
  ItemFilter filter;
  filter.name_contains = text;
  return filter;
}
inline ItemFilter SkuPrefix(const std::string& prefix) {
  ItemFilter filter;
  filter.sku_prefix = prefix;
  return filter;
}

inline void ExpectInvalidPageToken(const absl::Status& status) {
  EXPECT_THAT(status, StatusIs(absl::StatusCode::kInvalidArgument));
  const std::optional<FieldViolation> violation = FieldViolationOf(status);
  ASSERT_TRUE(violation.has_value()) << status;
  EXPECT_EQ(violation->field, "page_token");
}

}  // namespace inventory::read_model_test

#endif  // INVENTORY_QUERY_SERVICE_READ_MODEL_INVENTORY_READ_MODEL_TEST_FIXTURE_H_
