#include "command-service/domain/item.h"

#include <limits>
#include <variant>

#include "absl/strings/str_cat.h"
#include "common/base/error_reason.h"
#include "common/base/overloaded.h"

namespace inventory {
namespace {

constexpr int64_t kMaxStock = std::numeric_limits<int64_t>::max();

using Events = std::vector<ItemEvent>;

absl::Status ItemNotFound() {
  return WithReason(absl::NotFoundError("item not found"),
                    reason::kItemNotFound);
}

absl::Status MustBeActive(const ItemState& state, absl::string_view action) {
  if (!state.exists) return ItemNotFound();
  if (!state.active) {
    return WithReason(absl::FailedPreconditionError(absl::StrCat(
                          "cannot ", action, " a deactivated item")),
                      reason::kItemInactive);
  }
  return absl::OkStatus();
}

absl::StatusOr<Events> DecideCreate(const ItemState& state,
                                    const CreateItem& c) {
  if (state.exists) {
    return WithReason(absl::AlreadyExistsError("item already exists"),
                      reason::kItemAlreadyExists);
  }
  return Events{ItemCreated{c.item_id.value(), c.sku.value(), c.name.value()}};
}

absl::StatusOr<Events> DecideRename(const ItemState& state,
                                    const RenameItem& c) {
  if (auto s = MustBeActive(state, "rename"); !s.ok()) return s;
  if (state.name == c.name.value()) {
    return WithReason(
        absl::FailedPreconditionError("item already has this name"),
        reason::kSameName);
  }
  return Events{ItemRenamed{c.item_id.value(), c.name.value()}};
}

absl::StatusOr<Events> DecideCheckIn(const ItemState& state,
                                     const CheckInItems& c) {
  if (auto s = MustBeActive(state, "check in"); !s.ok()) return s;
  if (state.quantity_on_hand > kMaxStock - c.quantity.value()) {
    return WithReason(
        absl::FailedPreconditionError(
            "checking in this quantity would overflow the stock counter"),
        reason::kQuantityOverflow);
  }
  return Events{ItemsCheckedIn{c.item_id.value(), c.quantity.value()}};
}

absl::StatusOr<Events> DecideRemove(const ItemState& state,
                                    const RemoveItems& c) {
  if (auto s = MustBeActive(state, "remove stock from"); !s.ok()) return s;
  if (c.quantity.value() > state.quantity_on_hand) {
    return WithReason(
        absl::FailedPreconditionError(
            absl::StrCat("cannot remove ", c.quantity.value(), " units: only ",
                         state.quantity_on_hand, " on hand")),
        reason::kInsufficientStock,
        {{"requested_quantity", absl::StrCat(c.quantity.value())},
         {"quantity_on_hand", absl::StrCat(state.quantity_on_hand)}});
  }
  return Events{ItemsRemoved{c.item_id.value(), c.quantity.value()}};
}

absl::StatusOr<Events> DecideDeactivate(const ItemState& state,
                                        const DeactivateItem& c) {
  if (auto s = MustBeActive(state, "deactivate"); !s.ok()) return s;
  return Events{ItemDeactivated{c.item_id.value()}};
}

absl::StatusOr<Events> DecideReactivate(const ItemState& state,
                                        const ReactivateItem& c) {
  if (!state.exists) return ItemNotFound();
  if (state.active) {
    return WithReason(absl::FailedPreconditionError("item is already active"),
                      reason::kItemAlreadyActive);
  }
  return Events{ItemReactivated{c.item_id.value()}};
}

int64_t ClampedAdd(int64_t a, int64_t b) {
  int64_t sum;
  if (__builtin_add_overflow(a, b, &sum)) return b > 0 ? kMaxStock : 0;
  return sum < 0 ? 0 : sum;
}

}  // namespace

const ItemId& TargetOf(const ItemCommand& command) {
  return std::visit([](const auto& c) -> const ItemId& { return c.item_id; },
                    command);
}

absl::StatusOr<std::vector<ItemEvent>> Decide(const ItemState& state,
                                              const ItemCommand& command) {
  return std::visit(
      Overloaded{
          [&](const CreateItem& c) { return DecideCreate(state, c); },
          [&](const RenameItem& c) { return DecideRename(state, c); },
          [&](const CheckInItems& c) { return DecideCheckIn(state, c); },
          [&](const RemoveItems& c) { return DecideRemove(state, c); },
          [&](const DeactivateItem& c) { return DecideDeactivate(state, c); },
          [&](const ReactivateItem& c) { return DecideReactivate(state, c); },
      },
      command);
}

ItemState Evolve(ItemState state, const ItemEvent& event) {
  std::visit(Overloaded{
                 [&](const ItemCreated& e) {
                   state.exists = true;
                   state.active = true;
                   state.sku = e.sku;
                   state.name = e.name;
                   state.quantity_on_hand = 0;
                 },
                 [&](const ItemRenamed& e) { state.name = e.name; },
                 [&](const ItemsCheckedIn& e) {
                   state.quantity_on_hand =
                       ClampedAdd(state.quantity_on_hand, e.quantity);
                 },
                 [&](const ItemsRemoved& e) {
                   state.quantity_on_hand = ClampedAdd(
                       state.quantity_on_hand,
                       e.quantity == std::numeric_limits<int64_t>::min()
                           ? kMaxStock
                           : -e.quantity);
                 },
                 [&](const ItemDeactivated&) { state.active = false; },
                 [&](const ItemReactivated&) { state.active = true; },
             },
             event);
  ++state.version;
  return state;
}

ItemState Replay(ItemState state, const std::vector<ItemEvent>& events) {
  for (const ItemEvent& event : events) state = Evolve(std::move(state), event);
  return state;
}

}  // namespace inventory
