// The whole CQRS flow through generated C++ stubs, against the real
// binaries and a real PostgreSQL: every command, every query (each with
// read-your-writes through min_position), WatchItem and the event stream.
#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "inventory/v1/command_service.grpc.pb.h"
#include "inventory/v1/event_stream_service.grpc.pb.h"
#include "inventory/v1/query_service.grpc.pb.h"
#include "tests/support/inventory_system.h"
#include "tests/support/postgres_test_main.h"

namespace inventory {
namespace {

namespace v1 = inventory::v1;

std::unique_ptr<grpc::ClientContext> Call() {
  auto context = std::make_unique<grpc::ClientContext>();
  context->set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(20)));
  return context;
}

class E2eFlowTest : public ::testing::Test {
 protected:
  void SetUp() override {
    test_support::InventorySystemOptions options;
    options.command_binary = COMMAND_SERVICE_BINARY;
    options.query_binary = QUERY_SERVICE_BINARY;
    options.postgres = &test_support::TestPostgres();
    options.database_prefix = "flow";
    options.await_query_serving = true;
    auto system = test_support::InventorySystem::Start(options);
    ASSERT_TRUE(system.ok()) << system.status();
    system_ = std::move(*system);
  }

  // The item as the query-service sees it once `position` is applied.
  v1::Item ItemAt(int64_t position, const std::string& id = "e2e-1") {
    v1::GetItemRequest request;
    request.set_item_id(id);
    request.set_min_position(position);
    v1::GetItemResponse response;
    const grpc::Status status =
        system_->queries().GetItem(Call().get(), request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    EXPECT_GE(response.position(), position);
    return response.item();
  }

  std::unique_ptr<test_support::InventorySystem> system_;
};

TEST_F(E2eFlowTest, EveryCommandEveryQueryAndTheStream) {
  // WatchItem from before the item exists would be NOT_FOUND; start it
  // right after the create instead.
  v1::CreateItemRequest create;
  create.set_item_id("e2e-1");
  create.set_sku("E2E-1");
  create.set_name("Flow widget");
  v1::CreateItemResponse created;
  ASSERT_TRUE(
      system_->commands().CreateItem(Call().get(), create, &created).ok());
  EXPECT_EQ(created.version(), 1);
  EXPECT_EQ(ItemAt(created.global_position()).name(), "Flow widget");

  grpc::ClientContext watch_context;
  watch_context.set_deadline(
      absl::ToChronoTime(absl::Now() + absl::Seconds(60)));
  v1::WatchItemRequest watch;
  watch.set_item_id("e2e-1");
  watch.set_min_position(created.global_position());
  auto watcher = system_->queries().WatchItem(&watch_context, watch);

  v1::CheckInItemsRequest check_in;
  check_in.set_item_id("e2e-1");
  check_in.set_quantity(10);
  v1::CheckInItemsResponse checked_in;
  ASSERT_TRUE(system_->commands()
                  .CheckInItems(Call().get(), check_in, &checked_in)
                  .ok());
  EXPECT_EQ(ItemAt(checked_in.global_position()).quantity_on_hand(), 10);

  v1::RemoveItemsRequest remove;
  remove.set_item_id("e2e-1");
  remove.set_quantity(3);
  remove.set_expected_version(2);
  v1::RemoveItemsResponse removed;
  ASSERT_TRUE(
      system_->commands().RemoveItems(Call().get(), remove, &removed).ok());
  EXPECT_EQ(ItemAt(removed.global_position()).quantity_on_hand(), 7);

  v1::RenameItemRequest rename;
  rename.set_item_id("e2e-1");
  rename.set_name("Renamed widget");
  v1::RenameItemResponse renamed;
  ASSERT_TRUE(
      system_->commands().RenameItem(Call().get(), rename, &renamed).ok());
  EXPECT_EQ(ItemAt(renamed.global_position()).name(), "Renamed widget");

  v1::DeactivateItemRequest deactivate;
  deactivate.set_item_id("e2e-1");
  v1::DeactivateItemResponse deactivated;
  ASSERT_TRUE(system_->commands()
                  .DeactivateItem(Call().get(), deactivate, &deactivated)
                  .ok());
  EXPECT_FALSE(ItemAt(deactivated.global_position()).active());

  v1::ReactivateItemRequest reactivate;
  reactivate.set_item_id("e2e-1");
  v1::ReactivateItemResponse reactivated;
  ASSERT_TRUE(system_->commands()
                  .ReactivateItem(Call().get(), reactivate, &reactivated)
                  .ok());
  const int64_t head = reactivated.global_position();
  const v1::Item final_item = ItemAt(head);
  EXPECT_TRUE(final_item.active());
  EXPECT_EQ(final_item.version(), 6);

  // A second item, for the list and the stats.
  create.set_item_id("e2e-2");
  create.set_sku("OTHER-2");
  ASSERT_TRUE(
      system_->commands().CreateItem(Call().get(), create, &created).ok());
  const int64_t last = created.global_position();

  // Temporal query: the item as it was after its check-in.
  v1::GetItemRequest as_of;
  as_of.set_item_id("e2e-1");
  as_of.set_as_of_version(2);
  as_of.set_min_position(last);
  v1::GetItemResponse then;
  ASSERT_TRUE(system_->queries().GetItem(Call().get(), as_of, &then).ok());
  EXPECT_EQ(then.item().quantity_on_hand(), 10);
  EXPECT_EQ(then.item().name(), "Flow widget");

  v1::ListItemsRequest list;
  list.set_min_position(last);
  list.set_sku_prefix("E2E");
  v1::ListItemsResponse listed;
  ASSERT_TRUE(system_->queries().ListItems(Call().get(), list, &listed).ok());
  ASSERT_EQ(listed.items_size(), 1);
  EXPECT_EQ(listed.items(0).SerializeAsString(),
            final_item.SerializeAsString());

  v1::GetItemHistoryRequest history;
  history.set_item_id("e2e-1");
  history.set_min_position(last);
  v1::GetItemHistoryResponse events;
  ASSERT_TRUE(
      system_->queries().GetItemHistory(Call().get(), history, &events).ok());
  std::vector<std::string> types;
  for (const auto& event : events.events()) types.push_back(event.event_type());
  EXPECT_THAT(types, ::testing::ElementsAre("inventory.v1.ItemCreated",
                                            "inventory.v1.ItemsCheckedIn",
                                            "inventory.v1.ItemsRemoved",
                                            "inventory.v1.ItemRenamed",
                                            "inventory.v1.ItemDeactivated",
                                            "inventory.v1.ItemReactivated"));

  v1::GetInventoryStatsRequest stats_request;
  stats_request.set_min_position(last);
  stats_request.set_low_stock_threshold(5);
  v1::GetInventoryStatsResponse stats;
  ASSERT_TRUE(system_->queries()
                  .GetInventoryStats(Call().get(), stats_request, &stats)
                  .ok());
  EXPECT_EQ(stats.item_count(), 2);
  EXPECT_EQ(stats.active_item_count(), 2);
  EXPECT_EQ(stats.total_quantity_on_hand(), 7);
  EXPECT_THAT(stats.low_stock_item_ids(), ::testing::ElementsAre("e2e-2"));

  // WatchItem saw the item after every change, ending at the final state.
  v1::WatchItemResponse seen;
  int64_t version = 0;
  while (version < 6 && watcher->Read(&seen)) {
    EXPECT_GT(seen.item().version(), version);
    version = seen.item().version();
  }
  EXPECT_EQ(seen.item().SerializeAsString(), final_item.SerializeAsString());
  watch_context.TryCancel();

  // The event stream: every event from the start, then CaughtUp at the head.
  grpc::ClientContext subscribe_context;
  subscribe_context.set_deadline(
      absl::ToChronoTime(absl::Now() + absl::Seconds(30)));
  auto subscription =
      system_->events().Subscribe(&subscribe_context, v1::SubscribeRequest());
  v1::SubscribeResponse message;
  int64_t position = 0;
  while (subscription->Read(&message) && message.has_event()) {
    EXPECT_EQ(message.event().global_position(), ++position);
  }
  ASSERT_TRUE(message.has_caught_up());
  EXPECT_EQ(message.caught_up().head_position(), last);
  EXPECT_EQ(position, last);
  subscribe_context.TryCancel();
}

}  // namespace
}  // namespace inventory
