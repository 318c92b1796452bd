// Micro-benchmarks of the read side: the item projection per event kind,
// InventoryReadModel::Apply over logs of growing length, and the queries
// (GetItem, ListItems, GetStats) over a model of 10,000 items.
#include <cstdint>
#include <cstdlib>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "bench/sample_data.h"
#include "benchmark/benchmark.h"
#include "command-service/domain/item_events.h"
#include "inventory/v1/events.pb.h"
#include "inventory/v1/query_service.pb.h"
#include "query-service/read_model/inventory_read_model.h"
#include "query-service/read_model/item_projection.h"

namespace inventory::bench {
namespace {

using inventory::v1::Event;
using inventory::v1::Item;

constexpr uint64_t kItem = 7;

// ---------------------------------------------------------------------------
// ApplyToItem, one event kind at a time.

// The item view after the first `count` events of sample item kItem.
Item ItemAfter(int count) {
  SampleStream stream(kItem);
  Item item;
  for (int i = 0; i < count; ++i) {
    const ItemEvent event = stream.Next();
    ApplyToItem(
        SampleProtoEvent(event, stream.item_id(), 1000 + i, stream.version()),
        &item);
  }
  return item;
}

void BM_ApplyToItem(benchmark::State& state,
                    ItemEvent (*make_event)(uint64_t)) {
  Item item = ItemAfter(40);
  const Event event = SampleProtoEvent(make_event(kItem), SampleItemId(kItem),
                                       /*global_position=*/123456,
                                       /*stream_version=*/41);
  for (auto _ : state) {
    ApplyToItem(event, &item);
    benchmark::DoNotOptimize(item);
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK_CAPTURE(BM_ApplyToItem, ItemCreated, &SampleCreated);
BENCHMARK_CAPTURE(BM_ApplyToItem, ItemRenamed, &SampleRenamed);
BENCHMARK_CAPTURE(BM_ApplyToItem, ItemsCheckedIn, &SampleCheckedIn);
BENCHMARK_CAPTURE(BM_ApplyToItem, ItemsRemoved, &SampleRemoved);
BENCHMARK_CAPTURE(BM_ApplyToItem, ItemDeactivated, &SampleDeactivated);
BENCHMARK_CAPTURE(BM_ApplyToItem, ItemReactivated, &SampleReactivated);

// ---------------------------------------------------------------------------
// InventoryReadModel::Apply of a whole log.

// Logs have ten events per item on average.
constexpr int kEventsPerItem = 10;

// The sample log of `event_count` events, built once (building goes through
// the JSON codec and is far slower than applying).
const std::vector<Event>& Log(int event_count) {
  static auto* const logs = new std::map<int, std::vector<Event>>();
  auto it = logs->find(event_count);
  if (it == logs->end()) {
    it = logs->emplace(event_count,
                       SampleLog(event_count / kEventsPerItem, event_count))
             .first;
  }
  return it->second;
}

void MustApply(InventoryReadModel& model, const std::vector<Event>& log) {
  for (const Event& event : log) {
    const absl::Status status = model.Apply(event);
    if (!status.ok()) {
      std::cerr << "benchmark fixture failed: " << status << "\n";
      std::abort();
    }
  }
}

// Applies a log of range(0) events to an empty model: the model grows from
// 0 to range(0) / 10 items. Creating and destroying the model is not timed.
void BM_ReadModelApply(benchmark::State& state) {
  const std::vector<Event>& log = Log(static_cast<int>(state.range(0)));
  for (auto _ : state) {
    state.PauseTiming();
    auto model = std::make_unique<InventoryReadModel>();
    state.ResumeTiming();
    for (const Event& event : log) {
      absl::Status status = model->Apply(event);
      benchmark::DoNotOptimize(status);
    }
    benchmark::ClobberMemory();
    state.PauseTiming();
    if (model->position() != static_cast<int64_t>(log.size())) {
      state.SkipWithError("the model did not apply the whole log");
    }
    model.reset();
    state.ResumeTiming();
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_ReadModelApply)
    ->Arg(1'000)
    ->Arg(10'000)
    ->Arg(100'000)
    ->Unit(benchmark::kMillisecond);

// ---------------------------------------------------------------------------
// Queries over 10,000 items (100,000 events).

constexpr int kModelItems = 10'000;

const InventoryReadModel& Model() {
  static const InventoryReadModel* const model = [] {
    auto* m = new InventoryReadModel();
    MustApply(*m, Log(kModelItems * kEventsPerItem));
    return m;
  }();
  return *model;
}

// The ids of the model's items, in a scattered (not item_id) order.
std::vector<std::string> ScatteredIds() {
  std::vector<std::string> ids;
  ids.reserve(kModelItems);
  for (uint64_t i = 0; i < kModelItems; ++i) {
    ids.push_back(SampleItemId(Mix(i) % kModelItems));
  }
  return ids;
}

// The current view of one item. With `scattered`, each call asks for
// another of the 10,000 items (cache misses on the tree and the item, as
// with real traffic); without, always for the same one (a hot cache).
void BM_GetItem(benchmark::State& state, bool scattered) {
  const InventoryReadModel& model = Model();
  const std::vector<std::string> ids =
      scattered ? ScatteredIds() : std::vector<std::string>{SampleItemId(0)};
  size_t next = 0;
  for (auto _ : state) {
    absl::StatusOr<ItemAtPosition> item = model.GetItem(ids[next]);
    benchmark::DoNotOptimize(item);
    if (++next == ids.size()) next = 0;
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK_CAPTURE(BM_GetItem, ScatteredIds, true);
BENCHMARK_CAPTURE(BM_GetItem, SameItem, false);

// A temporal query: the oldest item (the longest history) as of version
// range(0), a replay of that many events (same item every call: compare
// with BM_GetItem/SameItem).
void BM_GetItemAsOfVersion(benchmark::State& state) {
  const InventoryReadModel& model = Model();
  const std::string id = SampleItemId(0);
  const int64_t version = state.range(0);
  if (!model.GetItem(id, version).ok()) {
    state.SkipWithError("fixture: the oldest item has too few versions");
    return;
  }
  for (auto _ : state) {
    absl::StatusOr<ItemAtPosition> item = model.GetItem(id, version);
    benchmark::DoNotOptimize(item);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_GetItemAsOfVersion)->Arg(10)->Arg(50);

constexpr size_t kPageSize = 100;

enum class ListCase { kFirstPage, kMiddlePage, kNameContains, kSkuPrefix };

// A page of 100 items. kMiddlePage continues after item 5,000 (a token
// lookup); kNameContains ("washer", ~20% of items) and kSkuPrefix ("FWS-",
// ~10%) have to skip the items that do not match.
void BM_ListItems(benchmark::State& state, ListCase list_case) {
  const InventoryReadModel& model = Model();
  ItemFilter filter;
  if (list_case == ListCase::kNameContains) filter.name_contains = "washer";
  if (list_case == ListCase::kSkuPrefix) filter.sku_prefix = "FWS-";
  std::string token;
  if (list_case == ListCase::kMiddlePage) {
    token = Must(model.ListItems(filter, kModelItems / 2, "")).next_page_token;
  }
  const size_t returned =
      Must(model.ListItems(filter, kPageSize, token)).items.size();
  if (returned != kPageSize) {
    state.SkipWithError("fixture: the page is not full");
    return;
  }
  for (auto _ : state) {
    absl::StatusOr<ItemPage> page = model.ListItems(filter, kPageSize, token);
    benchmark::DoNotOptimize(page);
  }
  // Items returned (not items scanned).
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(kPageSize));
}
BENCHMARK_CAPTURE(BM_ListItems, FirstPage, ListCase::kFirstPage);
BENCHMARK_CAPTURE(BM_ListItems, MiddlePage, ListCase::kMiddlePage);
BENCHMARK_CAPTURE(BM_ListItems, NameContains, ListCase::kNameContains);
BENCHMARK_CAPTURE(BM_ListItems, SkuPrefix, ListCase::kSkuPrefix);

// Totals plus a scan of every item for low stock.
void BM_GetStats(benchmark::State& state) {
  const InventoryReadModel& model = Model();
  for (auto _ : state) {
    InventoryStats stats = model.GetStats(/*low_stock_threshold=*/100);
    benchmark::DoNotOptimize(stats);
  }
  state.counters["low_stock_items"] =
      static_cast<double>(model.GetStats(100).low_stock_item_count);
  // Items scanned.
  state.SetItemsProcessed(state.iterations() * kModelItems);
}
BENCHMARK(BM_GetStats);

}  // namespace
}  // namespace inventory::bench
