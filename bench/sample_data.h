// Deterministic sample data for the micro-benchmarks: plausible ids, SKUs,
// names, metadata and event streams, identical on every run so that runs
// can be compared. Every generated stream is one Decide() would have
// produced (no rejected command is ever recorded).
#ifndef INVENTORY_BENCH_SAMPLE_DATA_H_
#define INVENTORY_BENCH_SAMPLE_DATA_H_

#include <array>
#include <cstdint>
#include <cstdlib>
#include <iostream>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "command-service/application/item_event_codec.h"
#include "command-service/domain/item_events.h"
#include "common/api/event_codec.h"
#include "common/api/item_id.h"
#include "common/eventstore/event_store.h"
#include "inventory/v1/events.pb.h"

namespace inventory::bench {

// The value of `result`; a benchmark's fixture that fails is a bug in the
// benchmark, so it aborts rather than measure the error path by accident.
template <typename T>
T Must(absl::StatusOr<T> result) {
  if (!result.ok()) {
    std::cerr << "benchmark fixture failed: " << result.status() << "\n";
    std::abort();
  }
  return *std::move(result);
}

// SplitMix64: a cheap, well-mixed hash for deterministic "random" choices.
inline uint64_t Mix(uint64_t x) {
  x += 0x9E3779B97F4A7C15ULL;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
  return x ^ (x >> 31);
}

// The n-th of a fixed sequence of version-4-shaped UUIDs (36 characters,
// the shape of the item ids clients generate and of event ids and request
// ids), so string copies and comparisons cost what they cost in production.
inline std::string SampleUuid(uint64_t n) {
  const uint64_t a = Mix(2 * n);
  const uint64_t b = Mix(2 * n + 1);
  return absl::StrCat(absl::Hex(a >> 32, absl::kZeroPad8), "-",
                      absl::Hex((a >> 16) & 0xFFFF, absl::kZeroPad4), "-4",
                      absl::Hex(a & 0xFFF, absl::kZeroPad3), "-",
                      absl::Hex(0x8000 | ((b >> 48) & 0x3FFF), absl::kZeroPad4),
                      "-", absl::Hex(b & 0xFFFFFFFFFFFFULL, absl::kZeroPad12));
}

// The id of the n-th sample item.
inline std::string SampleItemId(uint64_t n) { return SampleUuid(n); }

struct SampleProduct {
  absl::string_view sku_prefix;
  absl::string_view name;
};

// Ten product lines; two of them contain "washer" (name filters), each has
// its own SKU prefix (SKU filters).
inline constexpr std::array<SampleProduct, 10> kSampleProducts = {{
    {"HXB", "Hex bolt"},
    {"FWS", "Flat washer"},
    {"WSC", "Wood screw"},
    {"CTI", "Cable tie"},
    {"BHG", "Butt hinge"},
    {"DSL", "Drawer slide"},
    {"WPL", "Wall plug"},
    {"SWS", "Spring washer"},
    {"TRD", "Threaded rod"},
    {"NLN", "Nyloc nut"},
}};

inline constexpr std::array<absl::string_view, 5> kSampleMaterials = {
    "zinc-plated steel", "stainless steel A2", "brass", "nylon 6.6",
    "hot-dip galvanised steel"};

// The SKU of the n-th sample item, e.g. "FWS-M8-000123" (13 characters).
inline std::string SampleSku(uint64_t n) {
  return absl::StrCat(kSampleProducts[n % kSampleProducts.size()].sku_prefix,
                      "-M", 3 + Mix(n) % 10, "-",
                      absl::Dec(n % 1000000, absl::kZeroPad6));
}

// The name of the n-th sample item (`revision` > 0 for a renamed item),
// e.g. "Flat washer, brass, M8 x 40 mm" (about 30 characters).
inline std::string SampleName(uint64_t n, uint64_t revision = 0) {
  const uint64_t h = Mix(n ^ (revision << 40));
  return absl::StrCat(kSampleProducts[n % kSampleProducts.size()].name, ", ",
                      kSampleMaterials[h % kSampleMaterials.size()], ", M",
                      3 + Mix(n) % 10, " x ", 10 * (1 + (h >> 8) % 20), " mm");
}

// Where an event came from, as the command handler records it.
inline EventMetadata SampleMetadata(uint64_t n) {
  EventMetadata metadata;
  metadata.request_id = SampleUuid(n ^ (uint64_t{1} << 62));
  metadata.causation_id = SampleUuid(n ^ (uint64_t{1} << 61));
  metadata.correlation_id = metadata.causation_id;
  return metadata;
}

// The events of one item, in order: created, then mostly stock movements
// (check-ins of 1..200 units; every third event a removal when there is
// enough stock), a rename every 50 events and a deactivation followed by a
// reactivation every 100.
class SampleStream {
 public:
  explicit SampleStream(uint64_t item) : item_(item), id_(SampleItemId(item)) {}

  const std::string& item_id() const { return id_; }
  // The stream version of the event Next() returned last (0 before).
  int64_t version() const { return version_; }

  ItemEvent Next() {
    const int64_t i = version_++;
    if (i == 0) return ItemCreated{id_, SampleSku(item_), SampleName(item_)};
    if (i % 100 == 50) return ItemDeactivated{id_};
    if (i % 100 == 51) return ItemReactivated{id_};
    if (i % 50 == 25) {
      return ItemRenamed{id_, SampleName(item_, static_cast<uint64_t>(i))};
    }
    const int64_t quantity =
        1 + static_cast<int64_t>(
                Mix(item_ * 1000003 + static_cast<uint64_t>(i)) % 200);
    if (i % 3 == 0 && quantity <= on_hand_) {
      on_hand_ -= quantity;
      return ItemsRemoved{id_, quantity};
    }
    on_hand_ += quantity;
    return ItemsCheckedIn{id_, quantity};
  }

 private:
  uint64_t item_;
  std::string id_;
  int64_t version_ = 0;
  int64_t on_hand_ = 0;
};

// The first `count` events of sample item `item`.
inline std::vector<ItemEvent> SampleEvents(uint64_t item, int count) {
  SampleStream stream(item);
  std::vector<ItemEvent> events;
  events.reserve(static_cast<size_t>(count));
  for (int i = 0; i < count; ++i) events.push_back(stream.Next());
  return events;
}

// `event` as the event store would record it: at `global_position`, as
// version `stream_version` of its item's stream.
inline RecordedEvent SampleRecorded(const ItemEvent& event,
                                    const std::string& item_id,
                                    int64_t global_position,
                                    int64_t stream_version) {
  const auto n = static_cast<uint64_t>(global_position);
  EventData data = Must(ToEventData(event, SampleMetadata(n)));
  RecordedEvent recorded;
  recorded.global_position = global_position;
  recorded.stream_id = absl::StrCat(kItemStreamPrefix, item_id);
  recorded.stream_version = stream_version;
  recorded.event_id = SampleUuid(n ^ (uint64_t{1} << 63));
  recorded.event_type = std::move(data.event_type);
  recorded.payload_json = std::move(data.payload_json);
  recorded.metadata = std::move(data.metadata);
  recorded.recorded_at = absl::FromUnixMillis(1'750'000'000'000) +
                         absl::Milliseconds(37 * global_position) +
                         absl::Nanoseconds(Mix(n) % 1000000);
  return recorded;
}

// `event` with the full envelope the query side receives.
inline inventory::v1::Event SampleProtoEvent(const ItemEvent& event,
                                             const std::string& item_id,
                                             int64_t global_position,
                                             int64_t stream_version) {
  return Must(DecodeEventOrDataLoss(
      SampleRecorded(event, item_id, global_position, stream_version)));
}

// A global log of `event_count` events over `item_count` items (event_count
// >= item_count): items are created evenly spread over the log, and every
// other event belongs to an item created earlier, chosen at random (so
// older items have longer histories).
inline std::vector<inventory::v1::Event> SampleLog(int item_count,
                                                   int event_count) {
  std::vector<SampleStream> streams;
  streams.reserve(static_cast<size_t>(item_count));
  std::vector<inventory::v1::Event> log;
  log.reserve(static_cast<size_t>(event_count));
  const int creation_interval = event_count / item_count;
  for (int g = 0; g < event_count; ++g) {
    SampleStream* stream;
    if (g % creation_interval == 0 &&
        streams.size() < static_cast<size_t>(item_count)) {
      stream = &streams.emplace_back(streams.size());
    } else {
      stream = &streams[Mix(static_cast<uint64_t>(g)) % streams.size()];
    }
    const ItemEvent event = stream->Next();
    log.push_back(
        SampleProtoEvent(event, stream->item_id(), g + 1, stream->version()));
  }
  return log;
}

// One event of each kind, about the sample item `item`, for benchmarks that
// time a single event of a given kind.
inline ItemEvent SampleCreated(uint64_t item) {
  return ItemCreated{SampleItemId(item), SampleSku(item), SampleName(item)};
}
inline ItemEvent SampleRenamed(uint64_t item) {
  return ItemRenamed{SampleItemId(item), SampleName(item, 99)};
}
inline ItemEvent SampleCheckedIn(uint64_t item) {
  return ItemsCheckedIn{SampleItemId(item), 25};
}
inline ItemEvent SampleRemoved(uint64_t item) {
  return ItemsRemoved{SampleItemId(item), 5};
}
inline ItemEvent SampleDeactivated(uint64_t item) {
  return ItemDeactivated{SampleItemId(item)};
}
inline ItemEvent SampleReactivated(uint64_t item) {
  return ItemReactivated{SampleItemId(item)};
}

}  // namespace inventory::bench

#endif  // INVENTORY_BENCH_SAMPLE_DATA_H_
