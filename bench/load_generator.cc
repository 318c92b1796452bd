// load_generator: drives the running services with many calls in flight
// and prints one JSON line of figures. Used by bench/run.sh.
//
//   --mode=setup       create --items items (item-0 ...), --clients at once
//   --mode=commands    a mix of commands on random items for --duration
//   --mode=visibility  commands at --rate per second; for each, the time
//                      from its response until the query-service has
//                      applied its position (GetItem with min_position)
//   --mode=queries     --kind=get_item|list_items|health calls
#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "inventory/v1/command_service.grpc.pb.h"
#include "inventory/v1/query_service.grpc.pb.h"

ABSL_FLAG(std::string, mode, "commands", "setup|commands|visibility|queries");
ABSL_FLAG(std::string, command, "127.0.0.1:50051", "command-service address");
ABSL_FLAG(std::string, query, "127.0.0.1:50052", "query-service address");
ABSL_FLAG(int, clients, 16, "concurrent callers (one call in flight each)");
ABSL_FLAG(int, items, 10000, "number of items");
ABSL_FLAG(absl::Duration, duration, absl::Seconds(10), "measuring time");
ABSL_FLAG(int, rate, 1000, "commands per second (visibility)");
ABSL_FLAG(std::string, kind, "get_item", "get_item|list_items|health");

namespace {

namespace v1 = inventory::v1;

// A channel of its own per caller group, so that calls spread over several
// HTTP/2 connections as independent clients' would.
std::shared_ptr<grpc::Channel> NewChannel(const std::string& address, int id) {
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  args.SetInt("inventory.bench.channel", id);
  return grpc::CreateCustomChannel(address, grpc::InsecureChannelCredentials(),
                                   args);
}

std::unique_ptr<grpc::ClientContext> Call() {
  auto context = std::make_unique<grpc::ClientContext>();
  context->set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(30)));
  return context;
}

std::string ItemId(int i) { return absl::StrCat("item-", i); }

struct Tally {
  std::vector<double> latencies_ms;
  int64_t errors = 0;
  int64_t refused = 0;  // business-rule refusals (e.g. not enough stock)
};

void Report(const std::string& mode, int clients, absl::Duration elapsed,
            std::vector<Tally>& tallies) {
  std::vector<double> all;
  int64_t errors = 0;
  int64_t refused = 0;
  for (Tally& t : tallies) {
    all.insert(all.end(), t.latencies_ms.begin(), t.latencies_ms.end());
    errors += t.errors;
    refused += t.refused;
  }
  std::sort(all.begin(), all.end());
  auto pct = [&](double p) {
    if (all.empty()) return 0.0;
    return all[std::min(all.size() - 1, static_cast<size_t>(p * all.size()))];
  };
  std::printf(
      "{\"mode\":\"%s\",\"clients\":%d,\"calls\":%zu,\"errors\":%lld,"
      "\"refused\":%lld,\"per_second\":%.1f,\"sent_per_second\":%.1f,"
      "\"p50_ms\":%.3f,\"p95_ms\":%.3f,\"p99_ms\":%.3f}\n",
      mode.c_str(), clients, all.size(), static_cast<long long>(errors),
      static_cast<long long>(refused),
      all.size() / absl::ToDoubleSeconds(elapsed),
      (all.size() + errors + refused) / absl::ToDoubleSeconds(elapsed),
      pct(0.50), pct(0.95), pct(0.99));
}

// Runs `body(client, random, tally)` on `clients` threads until `until`
// (or once per thread when until is InfinitePast).
template <typename Body>
absl::Duration RunClients(int clients, absl::Time until, Body body,
                          std::vector<Tally>* tallies) {
  tallies->assign(clients, Tally());
  const absl::Time start = absl::Now();
  std::vector<std::thread> threads;
  for (int c = 0; c < clients; ++c) {
    threads.emplace_back([&, c] {
      std::mt19937 random(c + 1);
      do {
        body(c, random, (*tallies)[c]);
      } while (absl::Now() < until);
    });
  }
  for (auto& t : threads) t.join();
  return absl::Now() - start;
}

double MillisSince(absl::Time start) {
  return absl::ToDoubleMilliseconds(absl::Now() - start);
}

void Record(const grpc::Status& status, absl::Time start, Tally& tally) {
  if (status.ok()) {
    tally.latencies_ms.push_back(MillisSince(start));
  } else if (status.error_code() == grpc::StatusCode::FAILED_PRECONDITION) {
    tally.refused++;
  } else {
    tally.errors++;
  }
}

// One command of the mix on a random item; returns its status and sets
// *position on success.
grpc::Status MixedCommand(v1::CommandService::Stub& stub, std::mt19937& random,
                          int items, int64_t* position) {
  const std::string id = ItemId(random() % items);
  const int dice = random() % 10;
  if (dice < 8) {
    v1::CheckInItemsRequest request;
    request.set_item_id(id);
    request.set_quantity(1 + random() % 5);
    v1::CheckInItemsResponse response;
    auto status = stub.CheckInItems(Call().get(), request, &response);
    *position = response.global_position();
    return status;
  }
  if (dice == 8) {
    v1::RemoveItemsRequest request;
    request.set_item_id(id);
    request.set_quantity(1);
    v1::RemoveItemsResponse response;
    auto status = stub.RemoveItems(Call().get(), request, &response);
    *position = response.global_position();
    return status;
  }
  v1::RenameItemRequest request;
  request.set_item_id(id);
  request.set_name(absl::StrCat("Item ", random()));
  v1::RenameItemResponse response;
  auto status = stub.RenameItem(Call().get(), request, &response);
  *position = response.global_position();
  return status;
}

}  // namespace

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  const std::string mode = absl::GetFlag(FLAGS_mode);
  const int clients = std::max(1, absl::GetFlag(FLAGS_clients));
  const int items = absl::GetFlag(FLAGS_items);
  const absl::Time until = absl::Now() + absl::GetFlag(FLAGS_duration);
  std::vector<std::unique_ptr<v1::CommandService::Stub>> commands;
  std::vector<std::unique_ptr<v1::QueryService::Stub>> queries;
  std::vector<std::unique_ptr<grpc::health::v1::Health::Stub>> health;
  for (int c = 0; c < clients; ++c) {
    commands.push_back(v1::CommandService::NewStub(
        NewChannel(absl::GetFlag(FLAGS_command), c / 4)));
    auto query_channel = NewChannel(absl::GetFlag(FLAGS_query), c / 4);
    queries.push_back(v1::QueryService::NewStub(query_channel));
    health.push_back(grpc::health::v1::Health::NewStub(query_channel));
  }
  std::vector<Tally> tallies;
  absl::Duration elapsed;

  if (mode == "setup") {
    std::atomic<int> next{0};
    elapsed = RunClients(
        clients, absl::InfinitePast(),
        [&](int c, std::mt19937&, Tally& tally) {
          for (int i = next++; i < items; i = next++) {
            v1::CreateItemRequest request;
            request.set_item_id(ItemId(i));
            request.set_sku(absl::StrCat("SKU-", i % 100));
            request.set_name(absl::StrCat("Item ", i));
            request.set_request_id(absl::StrCat("setup-", i));
            v1::CreateItemResponse response;
            const absl::Time start = absl::Now();
            Record(commands[c]->CreateItem(Call().get(), request, &response),
                   start, tally);
          }
        },
        &tallies);
  } else if (mode == "commands") {
    elapsed = RunClients(
        clients, until,
        [&](int c, std::mt19937& random, Tally& tally) {
          int64_t position = 0;
          const absl::Time start = absl::Now();
          Record(MixedCommand(*commands[c], random, items, &position), start,
                 tally);
        },
        &tallies);
  } else if (mode == "visibility") {
    // Each client paces itself to rate / clients commands per second.
    const absl::Duration interval =
        absl::Seconds(1) * clients / std::max(1, absl::GetFlag(FLAGS_rate));
    elapsed = RunClients(
        clients, until,
        [&](int c, std::mt19937& random, Tally& tally) {
          const absl::Time due = absl::Now() + interval;
          int64_t position = 0;
          if (!MixedCommand(*commands[c], random, items, &position).ok()) {
            tally.refused++;
          } else {
            const absl::Time answered = absl::Now();
            v1::GetItemRequest request;
            request.set_item_id(ItemId(0));
            request.set_min_position(position);
            v1::GetItemResponse response;
            Record(queries[c]->GetItem(Call().get(), request, &response),
                   answered, tally);
          }
          const absl::Duration left = due - absl::Now();
          if (left > absl::ZeroDuration()) absl::SleepFor(left);  // pacing
        },
        &tallies);
  } else if (mode == "queries") {
    const std::string kind = absl::GetFlag(FLAGS_kind);
    elapsed = RunClients(
        clients, until,
        [&](int c, std::mt19937& random, Tally& tally) {
          const absl::Time start = absl::Now();
          if (kind == "health") {
            grpc::health::v1::HealthCheckResponse response;
            Record(health[c]->Check(Call().get(), {}, &response), start, tally);
          } else if (kind == "list_items") {
            v1::ListItemsRequest request;
            request.set_page_size(20);
            v1::ListItemsResponse response;
            Record(queries[c]->ListItems(Call().get(), request, &response),
                   start, tally);
          } else {
            v1::GetItemRequest request;
            request.set_item_id(ItemId(random() % items));
            v1::GetItemResponse response;
            Record(queries[c]->GetItem(Call().get(), request, &response), start,
                   tally);
          }
        },
        &tallies);
  } else {
    std::fprintf(stderr, "unknown --mode %s\n", mode.c_str());
    return 2;
  }
  Report(mode, clients, elapsed, tallies);
  return 0;
}
