// Micro-benchmarks of the Item aggregate: Decide per command kind, Evolve
// per event kind, and Replay of whole streams (what the command handler
// does before every command).
#include <cstdint>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "bench/sample_data.h"
#include "benchmark/benchmark.h"
#include "command-service/domain/item.h"
#include "command-service/domain/item_commands.h"
#include "command-service/domain/item_events.h"
#include "command-service/domain/item_name.h"
#include "command-service/domain/quantity.h"
#include "command-service/domain/sku.h"
#include "common/api/item_id.h"

namespace inventory::bench {
namespace {

constexpr uint64_t kItem = 7;

// An item in daily use: the fold of the first 40 events of a sample stream
// (active, a few thousand units on hand, version 40).
ItemState ActiveItem() { return Replay(ItemState{}, SampleEvents(kItem, 40)); }

// The same item right after a deactivation (event 51 of the sample stream).
ItemState DeactivatedItem() {
  return Replay(ItemState{}, SampleEvents(kItem, 51));
}

ItemId Id() { return Must(ItemId::Create(SampleItemId(kItem))); }
Quantity Units(int64_t n) { return Must(Quantity::Create(n)); }

struct DecideCase {
  ItemState state;
  ItemCommand command;
  bool accepted;  // whether Decide accepts the command (checked once)
};

DecideCase CreateCase() {
  return {ItemState{},
          CreateItem{Id(), Must(Sku::Create(SampleSku(kItem))),
                     Must(ItemName::Create(SampleName(kItem)))},
          true};
}
DecideCase RenameCase() {
  return {ActiveItem(),
          RenameItem{Id(), Must(ItemName::Create(SampleName(kItem, 99)))},
          true};
}
DecideCase CheckInCase() {
  return {ActiveItem(), CheckInItems{Id(), Units(25)}, true};
}
DecideCase RemoveCase() {
  return {ActiveItem(), RemoveItems{Id(), Units(5)}, true};
}
DecideCase DeactivateCase() {
  return {ActiveItem(), DeactivateItem{Id()}, true};
}
DecideCase ReactivateCase() {
  return {DeactivatedItem(), ReactivateItem{Id()}, true};
}
// The most expensive refusal: its message is formatted (StrCat of numbers).
DecideCase RemoveRejectedCase() {
  return {ActiveItem(), RemoveItems{Id(), Units(Quantity::kMax)}, false};
}

void BM_Decide(benchmark::State& state, DecideCase (*make_case)()) {
  const DecideCase c = make_case();
  if (Decide(c.state, c.command).ok() != c.accepted) {
    state.SkipWithError("fixture: unexpected Decide outcome");
    return;
  }
  for (auto _ : state) {
    absl::StatusOr<std::vector<ItemEvent>> events = Decide(c.state, c.command);
    benchmark::DoNotOptimize(events);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK_CAPTURE(BM_Decide, CreateItem, &CreateCase);
BENCHMARK_CAPTURE(BM_Decide, RenameItem, &RenameCase);
BENCHMARK_CAPTURE(BM_Decide, CheckInItems, &CheckInCase);
BENCHMARK_CAPTURE(BM_Decide, RemoveItems, &RemoveCase);
BENCHMARK_CAPTURE(BM_Decide, DeactivateItem, &DeactivateCase);
BENCHMARK_CAPTURE(BM_Decide, ReactivateItem, &ReactivateCase);
BENCHMARK_CAPTURE(BM_Decide, RemoveItems_Rejected, &RemoveRejectedCase);

// One step of a replay: the state is moved in and out, as Replay() does.
void BM_Evolve(benchmark::State& state, ItemEvent (*make_event)(uint64_t)) {
  ItemState item = ActiveItem();
  const ItemEvent event = make_event(kItem);
  for (auto _ : state) {
    item = Evolve(std::move(item), event);
    benchmark::DoNotOptimize(item);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK_CAPTURE(BM_Evolve, ItemCreated, &SampleCreated);
BENCHMARK_CAPTURE(BM_Evolve, ItemRenamed, &SampleRenamed);
BENCHMARK_CAPTURE(BM_Evolve, ItemsCheckedIn, &SampleCheckedIn);
BENCHMARK_CAPTURE(BM_Evolve, ItemsRemoved, &SampleRemoved);
BENCHMARK_CAPTURE(BM_Evolve, ItemDeactivated, &SampleDeactivated);
BENCHMARK_CAPTURE(BM_Evolve, ItemReactivated, &SampleReactivated);

// Rebuilding an item's state from its whole stream (range(0) events).
void BM_Replay(benchmark::State& state) {
  const std::vector<ItemEvent> events =
      SampleEvents(kItem, static_cast<int>(state.range(0)));
  for (auto _ : state) {
    ItemState item = Replay(ItemState{}, events);
    benchmark::DoNotOptimize(item);
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_Replay)->Arg(10)->Arg(100)->Arg(1000);

}  // namespace
}  // namespace inventory::bench
