// A separate writer process for the ordering tests: opens the PostgreSQL
// event store and appends events to random streams, printing one line per
// acknowledged append: "<global_position> <stream_id> <stream_version>".
//
//   event_store_writer <url> <appends> <seed>   append, then exit 0
//   event_store_writer <url> migrate            only open (migrates), exit 0
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/eventstore/postgres/postgres_event_store.h"

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s <url> (<appends> <seed> | migrate)\n",
                 argv[0]);
    return 2;
  }
  inventory::PostgresEventStoreOptions options;
  options.url = argv[1];
  options.pool_size = 1;
  auto store = inventory::PostgresEventStore::Open(options);
  if (!store.ok()) {
    std::fprintf(stderr, "open: %s\n", store.status().ToString().c_str());
    return 1;
  }
  if (std::string(argv[2]) == "migrate") return 0;
  int appends = 0;
  int seed = 0;
  if (argc < 4 || !absl::SimpleAtoi(argv[2], &appends) ||
      !absl::SimpleAtoi(argv[3], &seed)) {
    std::fprintf(stderr, "bad arguments\n");
    return 2;
  }
  std::mt19937 random(seed);
  std::uniform_int_distribution<int> stream(0, 49);
  for (int i = 0; i < appends; ++i) {
    inventory::AppendRequest request;
    request.stream_id = absl::StrCat("w-", stream(random));
    request.events.push_back(
        {"test.Written",
         absl::StrCat("{\"writer\": ", seed, ", \"i\": ", i, "}"),
         {}});
    auto result = (*store)->Append(request);
    if (!result.ok()) {
      std::fprintf(stderr, "append: %s\n", result.status().ToString().c_str());
      return 1;
    }
    std::printf("%lld %s %lld\n",
                static_cast<long long>(result->global_position),
                request.stream_id.c_str(),
                static_cast<long long>(result->stream_version));
  }
  return std::fflush(stdout) == 0 ? 0 : 1;
}
