// The whole CQRS loop as real processes (PostgreSQL, command-service,
// query-service) under faults: kill -9 of either service while commands
// flow, and a PostgreSQL restart. After each, every acknowledged command is
// in the store exactly once and the query-service's read model equals a
// fold of the store, reached without any manual step.
#include <grpcpp/grpcpp.h>
#include <signal.h>

#include <atomic>
#include <map>
#include <memory>
#include <string>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "common/event_codec.h"
#include "common/postgres_event_store.h"
#include "gmock/gmock.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "gtest/gtest.h"
#include "inventory/v1/command_service.grpc.pb.h"
#include "inventory/v1/query_service.grpc.pb.h"
#include "query-service/read_model/item_projection.h"
#include "tests/support/postgres_test_main.h"
#include "tests/support/service_process.h"

namespace inventory {
namespace {

using test_support::ServiceProcess;
using HealthStatus = grpc::health::v1::HealthCheckResponse;

constexpr int kItems = 10;

std::unique_ptr<grpc::ClientContext> ContextWithDeadline(absl::Duration d) {
  auto context = std::make_unique<grpc::ClientContext>();
  context->set_deadline(absl::ToChronoTime(absl::Now() + d));
  return context;
}

// Sends commands one after another, each with its own request_id and
// retried with the same id until it is acknowledged, so that a response
// lost to a crash is answered by replay, never applied twice.
class CommandSender {
 public:
  explicit CommandSender(std::string address) : address_(std::move(address)) {}

  // Sends command number `i`: creates item i for i < kItems, then checks in
  // (i % 5 + 1) units of item i % kItems. Returns once acknowledged.
  void Send(int i) {
    const absl::Time give_up = absl::Now() + absl::Seconds(90);
    for (;;) {
      auto stub = inventory::v1::CommandService::NewStub(
          grpc::CreateChannel(address_, grpc::InsecureChannelCredentials()));
      auto context = ContextWithDeadline(absl::Seconds(5));
      grpc::Status status;
      if (i < kItems) {
        inventory::v1::CreateItemRequest request;
        request.set_item_id(absl::StrCat("item", i));
        request.set_sku("SKU-1");
        request.set_name(absl::StrCat("Item ", i));
        request.set_request_id(absl::StrCat("cmd-", i));
        inventory::v1::CreateItemResponse response;
        status = stub->CreateItem(context.get(), request, &response);
      } else {
        inventory::v1::CheckInItemsRequest request;
        request.set_item_id(absl::StrCat("item", i % kItems));
        request.set_quantity(i % 5 + 1);
        request.set_request_id(absl::StrCat("cmd-", i));
        inventory::v1::CheckInItemsResponse response;
        status = stub->CheckInItems(context.get(), request, &response);
      }
      if (status.ok()) break;
      ASSERT_TRUE(status.error_code() == grpc::StatusCode::UNAVAILABLE ||
                  status.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED)
          << "command " << i << ": " << status.error_message();
      ASSERT_LT(absl::Now(), give_up) << "command " << i << " never landed";
      // Waiting for the service to come back: nothing to block on.
      absl::SleepFor(absl::Milliseconds(50));
    }
    absl::MutexLock lock(&mu_);
    ++acknowledged_;
  }

  // Blocks until at least `count` commands were acknowledged.
  void AwaitAcknowledged(int count) {
    absl::MutexLock lock(&mu_);
    auto reached = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return acknowledged_ >= count;
    };
    ASSERT_TRUE(
        mu_.AwaitWithTimeout(absl::Condition(&reached), absl::Seconds(120)));
  }

 private:
  const std::string address_;
  absl::Mutex mu_;
  int acknowledged_ ABSL_GUARDED_BY(mu_) = 0;
};

// What the first `count` commands must have produced.
std::map<std::string, int64_t> ExpectedQuantities(int count) {
  std::map<std::string, int64_t> quantities;
  for (int i = 0; i < count; ++i) {
    if (i < kItems) {
      quantities[absl::StrCat("item", i)] = 0;
    } else {
      quantities[absl::StrCat("item", i % kItems)] += i % 5 + 1;
    }
  }
  return quantities;
}

class CqrsFaultTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto url = test_support::TestPostgres().CreateDatabase("faults");
    ASSERT_TRUE(url.ok()) << url.status();
    url_ = *url;
    StartCommandService("127.0.0.1:0");
    ASSERT_NE(command_, nullptr);
    command_port_ = command_->port();
    StartQueryService();
  }

  void StartCommandService(const std::string& listen) {
    auto process = ServiceProcess::Start(COMMAND_SERVICE_BINARY,
                                         {absl::StrCat("--listen=", listen)},
                                         {absl::StrCat("DATABASE_URL=", url_)});
    ASSERT_TRUE(process.ok()) << process.status();
    command_ = std::move(*process);
  }

  void StartQueryService() {
    auto process = ServiceProcess::Start(
        QUERY_SERVICE_BINARY,
        {"--listen=127.0.0.1:0",
         absl::StrCat("--command_service=127.0.0.1:", command_port_),
         "--max_backoff=500ms"});
    ASSERT_TRUE(process.ok()) << process.status();
    query_ = std::move(*process);
  }

  HealthStatus::ServingStatus QueryHealth() {
    auto health = grpc::health::v1::Health::NewStub(grpc::CreateChannel(
        query_->address(), grpc::InsecureChannelCredentials()));
    auto context = ContextWithDeadline(absl::Seconds(2));
    grpc::health::v1::HealthCheckResponse response;
    if (!health->Check(context.get(), {}, &response).ok()) {
      return HealthStatus::UNKNOWN;
    }
    return response.status();
  }

  void AwaitQueryServing() {
    const absl::Time give_up = absl::Now() + absl::Seconds(60);
    while (QueryHealth() != HealthStatus::SERVING) {
      ASSERT_LT(absl::Now(), give_up) << query_->Log();
      absl::SleepFor(absl::Milliseconds(20));  // polling a remote status
    }
  }

  // Every event in the store, folded into item views by the projection.
  std::map<std::string, inventory::v1::Item> FoldStore(int64_t* head) {
    PostgresEventStoreOptions options;
    options.url = url_;
    auto store = PostgresEventStore::Open(options);
    EXPECT_TRUE(store.ok()) << store.status();
    std::map<std::string, inventory::v1::Item> items;
    std::map<std::string, int> request_ids;
    int64_t after = 0;
    for (;;) {
      auto batch = (*store)->ReadAll(after, 1000);
      EXPECT_TRUE(batch.ok()) << batch.status();
      if (!batch.ok() || batch->empty()) break;
      for (const RecordedEvent& recorded : *batch) {
        auto event = ToProtoEvent(recorded);
        EXPECT_TRUE(event.ok());
        ApplyToItem(*event, &items[ItemIdOf(*event)]);
        ++request_ids[recorded.metadata.request_id];
        after = recorded.global_position;
      }
    }
    for (const auto& [id, count] : request_ids) {
      EXPECT_EQ(count, 1) << "request " << id << " applied " << count
                          << " times";
    }
    *head = after;
    return items;
  }

  // The query-service's items, read once it has applied `min_position`.
  std::map<std::string, inventory::v1::Item> QueryItems(int64_t min_position) {
    auto stub = inventory::v1::QueryService::NewStub(grpc::CreateChannel(
        query_->address(), grpc::InsecureChannelCredentials()));
    std::map<std::string, inventory::v1::Item> items;
    std::string token;
    do {
      auto context = ContextWithDeadline(absl::Seconds(60));
      inventory::v1::ListItemsRequest request;
      request.set_min_position(min_position);
      request.set_page_token(token);
      request.set_page_size(3);
      inventory::v1::ListItemsResponse response;
      grpc::Status status = stub->ListItems(context.get(), request, &response);
      EXPECT_TRUE(status.ok()) << status.error_message() << query_->Log();
      if (!status.ok()) break;
      EXPECT_GE(response.position(), min_position);
      for (const auto& item : response.items()) items[item.item_id()] = item;
      token = response.next_page_token();
    } while (!token.empty());
    return items;
  }

  // The store, the expectation and the read model all agree.
  void ExpectConverged(int commands) {
    int64_t head = 0;
    const auto folded = FoldStore(&head);
    EXPECT_EQ(head, commands) << "every acknowledged command exactly once";
    const auto expected = ExpectedQuantities(commands);
    ASSERT_EQ(folded.size(), expected.size());
    for (const auto& [id, quantity] : expected) {
      EXPECT_EQ(folded.at(id).quantity_on_hand(), quantity) << id;
    }
    const auto queried = QueryItems(head);
    ASSERT_EQ(queried.size(), folded.size());
    for (const auto& [id, item] : folded) {
      EXPECT_EQ(queried.at(id).SerializeAsString(), item.SerializeAsString())
          << id;
    }
  }

  std::string url_;
  int command_port_ = 0;
  std::unique_ptr<ServiceProcess> command_;
  std::unique_ptr<ServiceProcess> query_;
};

TEST_F(CqrsFaultTest, KillingTheCommandServiceMidStreamLosesNothing) {
  AwaitQueryServing();
  constexpr int kCommands = 300;
  CommandSender sender(absl::StrCat("127.0.0.1:", command_port_));
  std::thread client([&] {
    for (int i = 0; i < kCommands; ++i) sender.Send(i);
  });
  sender.AwaitAcknowledged(100);
  command_->Signal(SIGKILL);
  ASSERT_TRUE(command_->Wait(absl::Seconds(10)).ok());
  StartCommandService(absl::StrCat("127.0.0.1:", command_port_));
  sender.AwaitAcknowledged(200);
  command_->Signal(SIGKILL);
  ASSERT_TRUE(command_->Wait(absl::Seconds(10)).ok());
  StartCommandService(absl::StrCat("127.0.0.1:", command_port_));
  client.join();
  ExpectConverged(kCommands);
  EXPECT_EQ(QueryHealth(), HealthStatus::SERVING);
  // The query-service noticed the crashes and reconnected by itself.
  EXPECT_THAT(query_->Log(), ::testing::HasSubstr("event stream ended"));
}

TEST_F(CqrsFaultTest, RestartedQueryServiceRebuildsTheSameState) {
  AwaitQueryServing();
  constexpr int kCommands = 150;
  CommandSender sender(absl::StrCat("127.0.0.1:", command_port_));
  std::thread client([&] {
    for (int i = 0; i < kCommands; ++i) sender.Send(i);
  });
  sender.AwaitAcknowledged(60);
  query_->Signal(SIGKILL);
  ASSERT_TRUE(query_->Wait(absl::Seconds(10)).ok());
  client.join();
  StartQueryService();
  AwaitQueryServing();
  ExpectConverged(kCommands);
}

TEST_F(CqrsFaultTest, PostgresRestartWhileCommandsFlowLosesNothing) {
  if (!test_support::TestPostgres().owns_server())
    GTEST_SKIP() << "TEST_DATABASE_URL server";
  AwaitQueryServing();
  constexpr int kCommands = 150;
  CommandSender sender(absl::StrCat("127.0.0.1:", command_port_));
  std::thread client([&] {
    for (int i = 0; i < kCommands; ++i) sender.Send(i);
  });
  sender.AwaitAcknowledged(50);
  ASSERT_TRUE(test_support::TestPostgres().Stop().ok());
  ASSERT_TRUE(test_support::TestPostgres().Restart().ok());
  client.join();
  ExpectConverged(kCommands);
}

}  // namespace
}  // namespace inventory
