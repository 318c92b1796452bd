// Micro-benchmarks of the event codecs: the write side's ItemEvent ->
// EventData (JSON payload, before every append), the read side's
// RecordedEvent -> inventory.v1.Event (every event streamed or read), and
// RecordedEvent -> ItemEvent (every event the command handler replays).
#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "bench/sample_data.h"
#include "benchmark/benchmark.h"
#include "command-service/application/item_event_codec.h"
#include "command-service/domain/item_events.h"
#include "common/api/event_codec.h"
#include "common/eventstore/event_store.h"
#include "inventory/v1/events.pb.h"

namespace inventory::bench {
namespace {

constexpr uint64_t kItem = 7;

// The largest payload (three strings) and the most frequent one.
ItemEvent Created() {
  return ItemCreated{SampleItemId(kItem), SampleSku(kItem), SampleName(kItem)};
}
ItemEvent CheckedIn() { return ItemsCheckedIn{SampleItemId(kItem), 25}; }

RecordedEvent Recorded(ItemEvent (*make_event)()) {
  return SampleRecorded(make_event(), SampleItemId(kItem), 123456, 42);
}

void BM_ToEventData(benchmark::State& state, ItemEvent (*make_event)()) {
  const ItemEvent event = make_event();
  const EventMetadata metadata = SampleMetadata(1);
  state.counters["json_bytes"] = static_cast<double>(
      Must(ToEventData(event, metadata)).payload_json.size());
  for (auto _ : state) {
    absl::StatusOr<EventData> data = ToEventData(event, metadata);
    benchmark::DoNotOptimize(data);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK_CAPTURE(BM_ToEventData, ItemCreated, &Created);
BENCHMARK_CAPTURE(BM_ToEventData, ItemsCheckedIn, &CheckedIn);

void BM_DecodeEventOrDataLoss(benchmark::State& state,
                              ItemEvent (*make_event)()) {
  const RecordedEvent recorded = Recorded(make_event);
  if (!DecodeEventOrDataLoss(recorded).ok()) {
    state.SkipWithError("fixture: DecodeEventOrDataLoss failed");
    return;
  }
  for (auto _ : state) {
    absl::StatusOr<inventory::v1::Event> event =
        DecodeEventOrDataLoss(recorded);
    benchmark::DoNotOptimize(event);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK_CAPTURE(BM_DecodeEventOrDataLoss, ItemCreated, &Created);
BENCHMARK_CAPTURE(BM_DecodeEventOrDataLoss, ItemsCheckedIn, &CheckedIn);

void BM_ItemEventFromRecorded(benchmark::State& state,
                              ItemEvent (*make_event)()) {
  const RecordedEvent recorded = Recorded(make_event);
  if (!ItemEventFromRecorded(recorded).ok()) {
    state.SkipWithError("fixture: ItemEventFromRecorded failed");
    return;
  }
  for (auto _ : state) {
    absl::StatusOr<ItemEvent> event = ItemEventFromRecorded(recorded);
    benchmark::DoNotOptimize(event);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK_CAPTURE(BM_ItemEventFromRecorded, ItemCreated, &Created);
BENCHMARK_CAPTURE(BM_ItemEventFromRecorded, ItemsCheckedIn, &CheckedIn);

}  // namespace
}  // namespace inventory::bench
