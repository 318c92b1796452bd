#include "command-service/domain/item.h"

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "command-service/domain/item_commands.h"
#include "command-service/domain/item_events.h"
#include "command-service/domain/item_name.h"
#include "command-service/domain/quantity.h"
#include "command-service/domain/sku.h"
#include "common/api/item_id.h"
#include "common/base/error_reason.h"
#include "common/base/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace inventory {
namespace {

using ::testing::ElementsAre;
using ::testing::FieldsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using ::testing::VariantWith;

constexpr int64_t kInt64Max = std::numeric_limits<int64_t>::max();
constexpr int64_t kInt64Min = std::numeric_limits<int64_t>::min();

// --- Value objects and commands -------------------------------------------

ItemId Id(absl::string_view value = "item-1") {
  return ItemId::Create(value).value();
}
Sku SkuOf(absl::string_view value = "WID-001") {
  return Sku::Create(value).value();
}
ItemName Name(absl::string_view value = "Blue widget") {
  return ItemName::Create(value).value();
}
Quantity Qty(int64_t value) { return Quantity::Create(value).value(); }

ItemCommand Create(absl::string_view id = "item-1",
                   absl::string_view sku = "WID-001",
                   absl::string_view name = "Blue widget") {
  return CreateItem{Id(id), SkuOf(sku), Name(name)};
}
ItemCommand Rename(absl::string_view name, absl::string_view id = "item-1") {
  return RenameItem{Id(id), Name(name)};
}
ItemCommand CheckIn(int64_t quantity, absl::string_view id = "item-1") {
  return CheckInItems{Id(id), Qty(quantity)};
}
ItemCommand Remove(int64_t quantity, absl::string_view id = "item-1") {
  return RemoveItems{Id(id), Qty(quantity)};
}
ItemCommand Deactivate(absl::string_view id = "item-1") {
  return DeactivateItem{Id(id)};
}
ItemCommand Reactivate(absl::string_view id = "item-1") {
  return ReactivateItem{Id(id)};
}

// One command of each kind except CreateItem, for the rules they share.
std::vector<ItemCommand> NonCreateCommands() {
  return {Rename("Other name"), CheckIn(1), Remove(1), Deactivate(),
          Reactivate()};
}

// --- States -----------------------------------------------------------------

// An active item named "Blue widget" with `on_hand` units, built by replay.
ItemState ActiveItem(int64_t on_hand = 0) {
  std::vector<ItemEvent> events = {
      ItemCreated{"item-1", "WID-001", "Blue widget"}};
  if (on_hand > 0) events.push_back(ItemsCheckedIn{"item-1", on_hand});
  return Replay(ItemState{}, events);
}

ItemState DeactivatedItem(int64_t on_hand = 0) {
  return Evolve(ActiveItem(on_hand), ItemDeactivated{"item-1"});
}

// An active item built directly, for stock levels no replay could reach
// with 1,000,000-unit check-ins in reasonable time.
ItemState ActiveItemWithStock(int64_t on_hand) {
  ItemState state;
  state.exists = true;
  state.active = true;
  state.sku = "WID-001";
  state.name = "Blue widget";
  state.quantity_on_hand = on_hand;
  state.version = 2;
  return state;
}

// A refusal with `code` and `reason` (error_reason.h) and a message.
void ExpectRefusal(const absl::StatusOr<std::vector<ItemEvent>>& result,
                   absl::StatusCode code, absl::string_view reason) {
  EXPECT_THAT(result, StatusIs(code, Not(IsEmpty())));
  EXPECT_THAT(result, HasReason(reason));
}

// --- Decide: CreateItem -----------------------------------------------------

TEST(DecideTest, CreateOnNewItemRecordsItemCreatedWithTheValues) {
  absl::StatusOr<std::vector<ItemEvent>> events =
      Decide(ItemState{}, Create("item-7", "SKU-42", "  Red gadget  "));
  ASSERT_THAT(events, IsOk());
  EXPECT_THAT(*events, ElementsAre(VariantWith<ItemCreated>(
                           FieldsAre("item-7", "SKU-42", "Red gadget"))));
}

TEST(DecideTest, CreateOnExistingItemIsAlreadyExists) {
  ExpectRefusal(Decide(ActiveItem(), Create()),
                absl::StatusCode::kAlreadyExists, reason::kItemAlreadyExists);
  ExpectRefusal(Decide(ActiveItem(5), Create("item-1", "OTHER", "Other")),
                absl::StatusCode::kAlreadyExists, reason::kItemAlreadyExists);
}

TEST(DecideTest, CreateOnDeactivatedItemIsAlreadyExists) {
  ExpectRefusal(Decide(DeactivatedItem(), Create()),
                absl::StatusCode::kAlreadyExists, reason::kItemAlreadyExists);
}

// --- Decide: item does not exist -----------------------------------------

TEST(DecideTest, EveryNonCreateCommandOnMissingItemIsNotFound) {
  for (const ItemCommand& command : NonCreateCommands()) {
    SCOPED_TRACE(testing::Message() << "command index " << command.index());
    ExpectRefusal(Decide(ItemState{}, command), absl::StatusCode::kNotFound,
                  reason::kItemNotFound);
  }
}

TEST(DecideTest, NotFoundWinsOverOtherRules) {
  // A state that does not exist is not found even if other fields look
  // like a deactivated item or an item with that name.
  ItemState state;
  state.exists = false;
  state.active = false;
  state.name = "Other name";
  for (const ItemCommand& command : NonCreateCommands()) {
    SCOPED_TRACE(testing::Message() << "command index " << command.index());
    ExpectRefusal(Decide(state, command), absl::StatusCode::kNotFound,
                  reason::kItemNotFound);
  }
}

// --- Decide: deactivated item -------------------------------------------

TEST(DecideTest, RenameOfDeactivatedItemIsFailedPrecondition) {
  ExpectRefusal(Decide(DeactivatedItem(), Rename("New name")),
                absl::StatusCode::kFailedPrecondition, reason::kItemInactive);
}

TEST(DecideTest, CheckInOnDeactivatedItemIsFailedPrecondition) {
  ExpectRefusal(Decide(DeactivatedItem(), CheckIn(1)),
                absl::StatusCode::kFailedPrecondition, reason::kItemInactive);
}

TEST(DecideTest, RemoveFromDeactivatedItemIsFailedPrecondition) {
  ExpectRefusal(Decide(DeactivatedItem(10), Remove(1)),
                absl::StatusCode::kFailedPrecondition, reason::kItemInactive);
}

TEST(DecideTest, DeactivateDeactivatedItemIsFailedPrecondition) {
  ExpectRefusal(Decide(DeactivatedItem(), Deactivate()),
                absl::StatusCode::kFailedPrecondition, reason::kItemInactive);
}

TEST(DecideTest, DeactivatedMessageNamesTheAction) {
  absl::StatusOr<std::vector<ItemEvent>> events =
      Decide(DeactivatedItem(), Rename("New name"));
  ASSERT_FALSE(events.ok());
  EXPECT_THAT(std::string(events.status().message()), HasSubstr("rename"));
  EXPECT_THAT(std::string(events.status().message()), HasSubstr("deactivated"));
}

// --- Decide: RenameItem -----------------------------------------------------

TEST(DecideTest, RenameRecordsItemRenamed) {
  absl::StatusOr<std::vector<ItemEvent>> events =
      Decide(ActiveItem(), Rename("Green widget"));
  ASSERT_THAT(events, IsOk());
  EXPECT_THAT(*events, ElementsAre(VariantWith<ItemRenamed>(
                           FieldsAre("item-1", "Green widget"))));
}

TEST(DecideTest, RenameToSameNameIsFailedPrecondition) {
  ExpectRefusal(Decide(ActiveItem(), Rename("Blue widget")),
                absl::StatusCode::kFailedPrecondition, reason::kSameName);
}

TEST(DecideTest, RenameToSameNameAfterTrimmingIsFailedPrecondition) {
  ExpectRefusal(Decide(ActiveItem(), Rename("  Blue widget\t")),
                absl::StatusCode::kFailedPrecondition, reason::kSameName);
}

TEST(DecideTest, RenameIsCaseSensitive) {
  absl::StatusOr<std::vector<ItemEvent>> events =
      Decide(ActiveItem(), Rename("blue widget"));
  ASSERT_THAT(events, IsOk());
  EXPECT_THAT(*events, ElementsAre(VariantWith<ItemRenamed>(
                           FieldsAre("item-1", "blue widget"))));
}

// --- Decide: CheckInItems ---------------------------------------------------

TEST(DecideTest, CheckInRecordsItemsCheckedIn) {
  absl::StatusOr<std::vector<ItemEvent>> events =
      Decide(ActiveItem(3), CheckIn(1000000));
  ASSERT_THAT(events, IsOk());
  EXPECT_THAT(
      *events,
      ElementsAre(VariantWith<ItemsCheckedIn>(FieldsAre("item-1", 1000000))));
}

TEST(DecideTest, CheckInRightUpToInt64MaxIsAccepted) {
  absl::StatusOr<std::vector<ItemEvent>> events =
      Decide(ActiveItemWithStock(kInt64Max - 1000000), CheckIn(1000000));
  ASSERT_THAT(events, IsOk());
  EXPECT_THAT(
      *events,
      ElementsAre(VariantWith<ItemsCheckedIn>(FieldsAre("item-1", 1000000))));

  events = Decide(ActiveItemWithStock(kInt64Max - 1), CheckIn(1));
  ASSERT_THAT(events, IsOk());
  EXPECT_THAT(*events,
              ElementsAre(VariantWith<ItemsCheckedIn>(FieldsAre("item-1", 1))));
}

TEST(DecideTest, CheckInPastInt64MaxIsFailedPrecondition) {
  ExpectRefusal(
      Decide(ActiveItemWithStock(kInt64Max - 999999), CheckIn(1000000)),
      absl::StatusCode::kFailedPrecondition, reason::kQuantityOverflow);
  ExpectRefusal(Decide(ActiveItemWithStock(kInt64Max), CheckIn(1)),
                absl::StatusCode::kFailedPrecondition,
                reason::kQuantityOverflow);
  ExpectRefusal(Decide(ActiveItemWithStock(kInt64Max - 1), CheckIn(2)),
                absl::StatusCode::kFailedPrecondition,
                reason::kQuantityOverflow);
}

TEST(DecideTest, CheckInOverflowMessage) {
  absl::StatusOr<std::vector<ItemEvent>> events =
      Decide(ActiveItemWithStock(kInt64Max), CheckIn(1));
  ASSERT_FALSE(events.ok());
  EXPECT_THAT(std::string(events.status().message()), HasSubstr("overflow"));
}

// --- Decide: RemoveItems ----------------------------------------------------

TEST(DecideTest, RemoveRecordsItemsRemoved) {
  absl::StatusOr<std::vector<ItemEvent>> events =
      Decide(ActiveItem(10), Remove(4));
  ASSERT_THAT(events, IsOk());
  EXPECT_THAT(*events,
              ElementsAre(VariantWith<ItemsRemoved>(FieldsAre("item-1", 4))));
}

TEST(DecideTest, RemoveExactlyOnHandIsAccepted) {
  absl::StatusOr<std::vector<ItemEvent>> events =
      Decide(ActiveItem(10), Remove(10));
  ASSERT_THAT(events, IsOk());
  EXPECT_THAT(*events,
              ElementsAre(VariantWith<ItemsRemoved>(FieldsAre("item-1", 10))));
}

TEST(DecideTest, RemoveMoreThanOnHandIsFailedPrecondition) {
  ExpectRefusal(Decide(ActiveItem(10), Remove(11)),
                absl::StatusCode::kFailedPrecondition,
                reason::kInsufficientStock);
  ExpectRefusal(Decide(ActiveItem(0), Remove(1)),
                absl::StatusCode::kFailedPrecondition,
                reason::kInsufficientStock);
}

TEST(DecideTest, RemoveMoreThanOnHandMessageStatesBothNumbers) {
  absl::StatusOr<std::vector<ItemEvent>> events =
      Decide(ActiveItem(3), Remove(5));
  ASSERT_FALSE(events.ok());
  EXPECT_THAT(std::string(events.status().message()), HasSubstr("5"));
  EXPECT_THAT(std::string(events.status().message()), HasSubstr("3"));
  // And so does the reason's metadata, for programs.
  EXPECT_EQ(
      ErrorReasonOf(events.status()),
      (ErrorReason{"INSUFFICIENT_STOCK",
                   {{"requested_quantity", "5"}, {"quantity_on_hand", "3"}}}));
}

TEST(DecideTest, RemoveWithHugeStockIsAccepted) {
  absl::StatusOr<std::vector<ItemEvent>> events =
      Decide(ActiveItemWithStock(kInt64Max), Remove(1000000));
  ASSERT_THAT(events, IsOk());
}

// --- Decide: DeactivateItem / ReactivateItem --------------------------------

TEST(DecideTest, DeactivateActiveItemRecordsItemDeactivated) {
  absl::StatusOr<std::vector<ItemEvent>> events =
      Decide(ActiveItem(5), Deactivate());
  ASSERT_THAT(events, IsOk());
  EXPECT_THAT(*events,
              ElementsAre(VariantWith<ItemDeactivated>(FieldsAre("item-1"))));
}

TEST(DecideTest, ReactivateActiveItemIsFailedPrecondition) {
  ExpectRefusal(Decide(ActiveItem(), Reactivate()),
                absl::StatusCode::kFailedPrecondition,
                reason::kItemAlreadyActive);
}

TEST(DecideTest, ReactivateDeactivatedItemRecordsItemReactivated) {
  absl::StatusOr<std::vector<ItemEvent>> events =
      Decide(DeactivatedItem(), Reactivate());
  ASSERT_THAT(events, IsOk());
  EXPECT_THAT(*events,
              ElementsAre(VariantWith<ItemReactivated>(FieldsAre("item-1"))));
}

// --- Decide: events carry the command's item id ---------------------------

TEST(DecideTest, EventsCarryTheCommandsItemId) {
  ItemState active = ActiveItem(10);
  EXPECT_THAT(Decide(active, Rename("X", "other")).value(),
              ElementsAre(VariantWith<ItemRenamed>(FieldsAre("other", "X"))));
  EXPECT_THAT(Decide(active, CheckIn(2, "other")).value(),
              ElementsAre(VariantWith<ItemsCheckedIn>(FieldsAre("other", 2))));
  EXPECT_THAT(Decide(active, Remove(2, "other")).value(),
              ElementsAre(VariantWith<ItemsRemoved>(FieldsAre("other", 2))));
  EXPECT_THAT(Decide(active, Deactivate("other")).value(),
              ElementsAre(VariantWith<ItemDeactivated>(FieldsAre("other"))));
  EXPECT_THAT(Decide(DeactivatedItem(), Reactivate("other")).value(),
              ElementsAre(VariantWith<ItemReactivated>(FieldsAre("other"))));
}

// --- TargetOf ---------------------------------------------------------------

TEST(TargetOfTest, ReturnsTheItemIdOfEveryCommand) {
  EXPECT_EQ(TargetOf(Create("c")).value(), "c");
  EXPECT_EQ(TargetOf(Rename("n", "r")).value(), "r");
  EXPECT_EQ(TargetOf(CheckIn(1, "i")).value(), "i");
  EXPECT_EQ(TargetOf(Remove(1, "o")).value(), "o");
  EXPECT_EQ(TargetOf(Deactivate("d")).value(), "d");
  EXPECT_EQ(TargetOf(Reactivate("e")).value(), "e");
}

// --- Evolve -----------------------------------------------------------------

TEST(EvolveTest, ItemCreatedMakesAnActiveItemWithoutStock) {
  const ItemState state =
      Evolve(ItemState{}, ItemCreated{"item-1", "WID-001", "Blue widget"});
  EXPECT_TRUE(state.exists);
  EXPECT_TRUE(state.active);
  EXPECT_EQ(state.sku, "WID-001");
  EXPECT_EQ(state.name, "Blue widget");
  EXPECT_EQ(state.quantity_on_hand, 0);
  EXPECT_EQ(state.version, 1);
}

TEST(EvolveTest, EachEventIncrementsVersionByOne) {
  ItemState state = ActiveItem();
  ASSERT_EQ(state.version, 1);
  state = Evolve(state, ItemRenamed{"item-1", "X"});
  EXPECT_EQ(state.version, 2);
  state = Evolve(state, ItemsCheckedIn{"item-1", 5});
  EXPECT_EQ(state.version, 3);
  state = Evolve(state, ItemsRemoved{"item-1", 2});
  EXPECT_EQ(state.version, 4);
  state = Evolve(state, ItemDeactivated{"item-1"});
  EXPECT_EQ(state.version, 5);
  state = Evolve(state, ItemReactivated{"item-1"});
  EXPECT_EQ(state.version, 6);
}

TEST(EvolveTest, ItemRenamedChangesOnlyTheName) {
  const ItemState before = ActiveItem(7);
  const ItemState after = Evolve(before, ItemRenamed{"item-1", "New"});
  EXPECT_EQ(after.name, "New");
  EXPECT_EQ(after.sku, before.sku);
  EXPECT_EQ(after.quantity_on_hand, before.quantity_on_hand);
  EXPECT_EQ(after.active, before.active);
  EXPECT_EQ(after.exists, before.exists);
}

TEST(EvolveTest, StockMovements) {
  ItemState state = ActiveItem();
  state = Evolve(state, ItemsCheckedIn{"item-1", 10});
  EXPECT_EQ(state.quantity_on_hand, 10);
  state = Evolve(state, ItemsRemoved{"item-1", 4});
  EXPECT_EQ(state.quantity_on_hand, 6);
  state = Evolve(state, ItemsRemoved{"item-1", 6});
  EXPECT_EQ(state.quantity_on_hand, 0);
}

TEST(EvolveTest, DeactivateAndReactivate) {
  ItemState state = Evolve(ActiveItem(3), ItemDeactivated{"item-1"});
  EXPECT_FALSE(state.active);
  EXPECT_TRUE(state.exists);
  EXPECT_EQ(state.quantity_on_hand, 3);
  state = Evolve(state, ItemReactivated{"item-1"});
  EXPECT_TRUE(state.active);
  EXPECT_TRUE(state.exists);
  EXPECT_EQ(state.quantity_on_hand, 3);
}

TEST(EvolveTest, DoesNotModifyItsInputWhenGivenACopy) {
  const ItemState before = ActiveItem(3);
  const ItemState after = Evolve(before, ItemsCheckedIn{"item-1", 2});
  EXPECT_EQ(before.quantity_on_hand, 3);
  EXPECT_EQ(before.version, 2);
  EXPECT_EQ(after.quantity_on_hand, 5);
  EXPECT_EQ(after.version, 3);
}

TEST(EvolveTest, RemovedMoreThanOnHandClampsToZero) {
  const ItemState state = Evolve(ActiveItem(3), ItemsRemoved{"item-1", 5});
  EXPECT_EQ(state.quantity_on_hand, 0);
  EXPECT_EQ(state.version, 3);
}

TEST(EvolveTest, RemovedFromEmptyStockClampsToZero) {
  EXPECT_EQ(Evolve(ActiveItem(), ItemsRemoved{"item-1", 1}).quantity_on_hand,
            0);
  EXPECT_EQ(
      Evolve(ActiveItem(), ItemsRemoved{"item-1", kInt64Max}).quantity_on_hand,
      0);
}

TEST(EvolveTest, CheckedInOverflowClampsToInt64Max) {
  EXPECT_EQ(
      Evolve(ActiveItemWithStock(kInt64Max - 1), ItemsCheckedIn{"item-1", 2})
          .quantity_on_hand,
      kInt64Max);
  EXPECT_EQ(Evolve(ActiveItemWithStock(kInt64Max), ItemsCheckedIn{"item-1", 1})
                .quantity_on_hand,
            kInt64Max);
  EXPECT_EQ(Evolve(ActiveItemWithStock(kInt64Max),
                   ItemsCheckedIn{"item-1", kInt64Max})
                .quantity_on_hand,
            kInt64Max);
  EXPECT_EQ(Evolve(ActiveItemWithStock(1), ItemsCheckedIn{"item-1", kInt64Max})
                .quantity_on_hand,
            kInt64Max);
}

TEST(EvolveTest, CheckedInExactlyToInt64Max) {
  EXPECT_EQ(
      Evolve(ActiveItemWithStock(kInt64Max - 5), ItemsCheckedIn{"item-1", 5})
          .quantity_on_hand,
      kInt64Max);
}

TEST(EvolveTest, MalformedNegativeQuantitiesStayInRange) {
  // Stored events are never re-validated; whatever they say, stock stays
  // within [0, INT64_MAX] and nothing overflows.
  const std::vector<int64_t> stocks = {0, 1, 1000, kInt64Max - 1, kInt64Max};
  const std::vector<int64_t> quantities = {
      0, -1, kInt64Min, kInt64Min + 1, kInt64Max, 1};
  for (int64_t stock : stocks) {
    for (int64_t quantity : quantities) {
      SCOPED_TRACE(testing::Message()
                   << "stock " << stock << " quantity " << quantity);
      const int64_t in =
          Evolve(ActiveItemWithStock(stock), ItemsCheckedIn{"item-1", quantity})
              .quantity_on_hand;
      EXPECT_GE(in, 0);
      const int64_t out =
          Evolve(ActiveItemWithStock(stock), ItemsRemoved{"item-1", quantity})
              .quantity_on_hand;
      EXPECT_GE(out, 0);
    }
  }
}

TEST(EvolveTest, CheckedInNegativeQuantityClampsToZero) {
  EXPECT_EQ(Evolve(ActiveItemWithStock(3), ItemsCheckedIn{"item-1", -5})
                .quantity_on_hand,
            0);
  EXPECT_EQ(Evolve(ActiveItemWithStock(0), ItemsCheckedIn{"item-1", kInt64Min})
                .quantity_on_hand,
            0);
}

TEST(EvolveTest, ZeroQuantityEventsLeaveStockUnchanged) {
  EXPECT_EQ(Evolve(ActiveItemWithStock(7), ItemsCheckedIn{"item-1", 0})
                .quantity_on_hand,
            7);
  EXPECT_EQ(Evolve(ActiveItemWithStock(7), ItemsRemoved{"item-1", 0})
                .quantity_on_hand,
            7);
}

// --- Replay -----------------------------------------------------------------

TEST(ReplayTest, NoEventsLeaveTheStateUnchanged) {
  const ItemState state = Replay(ItemState{}, {});
  EXPECT_FALSE(state.exists);
  EXPECT_FALSE(state.active);
  EXPECT_EQ(state.version, 0);
  EXPECT_EQ(state.quantity_on_hand, 0);
  EXPECT_THAT(state.name, IsEmpty());
  EXPECT_THAT(state.sku, IsEmpty());
}

TEST(ReplayTest, FullHistoryFoldsToExpectedState) {
  const std::vector<ItemEvent> history = {
      ItemCreated{"item-1", "WID-001", "Blue widget"},
      ItemsCheckedIn{"item-1", 100},
      ItemsRemoved{"item-1", 30},
      ItemRenamed{"item-1", "Green widget"},
      ItemDeactivated{"item-1"},
      ItemReactivated{"item-1"},
      ItemsCheckedIn{"item-1", 5},
      ItemsRemoved{"item-1", 75},
      ItemsCheckedIn{"item-1", 12},
      ItemRenamed{"item-1", "Teal widget"},
      ItemDeactivated{"item-1"},
  };
  const ItemState state = Replay(ItemState{}, history);
  EXPECT_TRUE(state.exists);
  EXPECT_FALSE(state.active);
  EXPECT_EQ(state.sku, "WID-001");
  EXPECT_EQ(state.name, "Teal widget");
  EXPECT_EQ(state.quantity_on_hand, 12);
  EXPECT_EQ(state.version, 11);
}

TEST(ReplayTest, ContinuesFromAGivenState) {
  const ItemState start = ActiveItem(10);  // version 2
  const ItemState state =
      Replay(start, {ItemsRemoved{"item-1", 4}, ItemDeactivated{"item-1"}});
  EXPECT_EQ(state.quantity_on_hand, 6);
  EXPECT_FALSE(state.active);
  EXPECT_EQ(state.version, 4);
}

TEST(ReplayTest, EqualsRepeatedEvolve) {
  const std::vector<ItemEvent> history = {
      ItemCreated{"item-1", "WID-001", "Blue widget"},
      ItemsCheckedIn{"item-1", 9}, ItemRenamed{"item-1", "B"},
      ItemsRemoved{"item-1", 2}};
  ItemState folded;
  for (const ItemEvent& event : history) folded = Evolve(folded, event);
  const ItemState replayed = Replay(ItemState{}, history);
  EXPECT_EQ(replayed.exists, folded.exists);
  EXPECT_EQ(replayed.active, folded.active);
  EXPECT_EQ(replayed.sku, folded.sku);
  EXPECT_EQ(replayed.name, folded.name);
  EXPECT_EQ(replayed.quantity_on_hand, folded.quantity_on_hand);
  EXPECT_EQ(replayed.version, folded.version);
}

TEST(ReplayTest, MalformedHistoryIsClamped) {
  const ItemState state = Replay(
      ItemState{}, {ItemCreated{"item-1", "WID-001", "Blue widget"},
                    ItemsCheckedIn{"item-1", 3}, ItemsRemoved{"item-1", 10},
                    ItemsCheckedIn{"item-1", kInt64Max},
                    ItemsCheckedIn{"item-1", kInt64Max}});
  EXPECT_EQ(state.quantity_on_hand, kInt64Max);
  EXPECT_EQ(state.version, 5);
}

// --- Decide and Evolve together ---------------------------------------------

TEST(ItemLifecycleTest, DecidedEventsEvolveTheState) {
  ItemState state;
  const auto apply = [&state](const ItemCommand& command) {
    absl::StatusOr<std::vector<ItemEvent>> events = Decide(state, command);
    ASSERT_THAT(events, IsOk());
    ASSERT_EQ(events->size(), 1u);
    state = Replay(state, *events);
  };
  apply(Create());
  apply(CheckIn(50));
  apply(Remove(20));
  apply(Rename("Red widget"));
  apply(Deactivate());
  ExpectRefusal(Decide(state, CheckIn(1)),
                absl::StatusCode::kFailedPrecondition, reason::kItemInactive);
  apply(Reactivate());
  apply(Remove(30));
  ExpectRefusal(Decide(state, Remove(1)), absl::StatusCode::kFailedPrecondition,
                reason::kInsufficientStock);

  EXPECT_TRUE(state.exists);
  EXPECT_TRUE(state.active);
  EXPECT_EQ(state.name, "Red widget");
  EXPECT_EQ(state.sku, "WID-001");
  EXPECT_EQ(state.quantity_on_hand, 0);
  EXPECT_EQ(state.version, 7);
}

}  // namespace
}  // namespace inventory
