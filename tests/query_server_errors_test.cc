// The read side's refusals (query_server_fixture.h): every validation
// error is INVALID_ARGUMENT naming its field, unknown items and versions
// are NOT_FOUND.
#include <grpcpp/grpcpp.h>

#include "tests/query_server_fixture.h"

namespace inventory::query_server_testing {
namespace {

// --- Errors ------------------------------------------------------------------

TEST_F(QueryServerTest, EveryValidationErrorIsInvalidArgumentNamingTheField) {
  ExpectedItem item = NewItem("valid");
  ASSERT_GT(CreateWithStock(item, 5), 0);
  ExpectedItem other = NewItem("other");
  const int64_t head = CreateWithStock(other, 5);
  ASSERT_GT(head, 0);
  // A real token, for the wrong query.
  v1::GetItemHistoryRequest first_page;
  first_page.set_item_id(item.id);
  first_page.set_page_size(1);
  first_page.set_min_position(head);
  v1::GetItemHistoryResponse history_page;
  ASSERT_TRUE(GetItemHistory(queries(), first_page, &history_page).ok());
  ASSERT_FALSE(history_page.next_page_token().empty());
  const std::string history_token = history_page.next_page_token();

  auto get_item = [&](const std::string& id, int64_t min_position,
                      std::optional<int64_t> as_of) {
    return [&, id, min_position, as_of] {
      v1::GetItemResponse response;
      return GetItem(queries(), ItemRequest(id, min_position, as_of),
                     &response);
    };
  };
  auto list = [&](std::function<void(v1::ListItemsRequest&)> edit) {
    return [&, edit] {
      v1::ListItemsRequest request;
      edit(request);
      v1::ListItemsResponse response;
      return ListItems(queries(), request, &response);
    };
  };
  auto history = [&](std::function<void(v1::GetItemHistoryRequest&)> edit) {
    return [&, edit] {
      v1::GetItemHistoryRequest request;
      request.set_item_id(item.id);
      edit(request);
      v1::GetItemHistoryResponse response;
      return GetItemHistory(queries(), request, &response);
    };
  };
  auto stats = [&](int64_t threshold, int64_t min_position) {
    return [&, threshold, min_position] {
      v1::GetInventoryStatsRequest request;
      request.set_low_stock_threshold(threshold);
      request.set_min_position(min_position);
      v1::GetInventoryStatsResponse response;
      return GetStats(queries(), request, &response);
    };
  };
  auto watch = [&](const std::string& id, int64_t min_position) {
    return [&, id, min_position] {
      return WatchFails(queries(), id, min_position, kCallTimeout);
    };
  };

  struct Case {
    std::string name;
    std::function<grpc::Status()> call;
    std::string field;
  };
  const std::string long_id(65, 'a');
  const std::vector<Case> cases = {
      {"GetItem empty item_id", get_item("", 0, std::nullopt), "item_id"},
      {"GetItem bad item_id", get_item("bad id!", 0, std::nullopt), "item_id"},
      {"GetItem long item_id", get_item(long_id, 0, std::nullopt), "item_id"},
      {"GetItem as_of_version 0", get_item(item.id, 0, 0), "as_of_version"},
      {"GetItem as_of_version -1", get_item(item.id, 0, -1), "as_of_version"},
      {"GetItem min_position -1", get_item(item.id, -1, std::nullopt),
       "min_position"},
      {"ListItems page_size -1", list([](auto& r) { r.set_page_size(-1); }),
       "page_size"},
      {"ListItems page_size 1001", list([](auto& r) { r.set_page_size(1001); }),
       "page_size"},
      {"ListItems min_position -1",
       list([](auto& r) { r.set_min_position(-1); }), "min_position"},
      {"ListItems garbage page_token",
       list([](auto& r) { r.set_page_token("garbage!!"); }), "page_token"},
      {"ListItems base64 page_token",
       list([](auto& r) { r.set_page_token("Z2FyYmFnZQ"); }), "page_token"},
      {"ListItems history page_token",
       list([&](auto& r) { r.set_page_token(history_token); }), "page_token"},
      {"ListItems huge page_token",
       list([](auto& r) { r.set_page_token(std::string(2000, 'A')); }),
       "page_token"},
      {"ListItems long name_contains",
       list([](auto& r) { r.set_name_contains(std::string(201, 'x')); }),
       "name_contains"},
      {"ListItems long sku_prefix",
       list([](auto& r) { r.set_sku_prefix(std::string(33, 'X')); }),
       "sku_prefix"},
      {"GetItemHistory bad item_id",
       history([](auto& r) { r.set_item_id("no/slash"); }), "item_id"},
      {"GetItemHistory empty item_id",
       history([](auto& r) { r.set_item_id(""); }), "item_id"},
      {"GetItemHistory page_size -1",
       history([](auto& r) { r.set_page_size(-1); }), "page_size"},
      {"GetItemHistory page_size 1001",
       history([](auto& r) { r.set_page_size(1001); }), "page_size"},
      {"GetItemHistory min_position -1",
       history([](auto& r) { r.set_min_position(-1); }), "min_position"},
      {"GetItemHistory garbage page_token",
       history([](auto& r) { r.set_page_token("garbage!!"); }), "page_token"},
      {"GetItemHistory other item's page_token", history([&](auto& r) {
         r.set_item_id(other.id);
         r.set_page_token(history_token);
       }),
       "page_token"},
      {"GetInventoryStats low_stock_threshold -1", stats(-1, 0),
       "low_stock_threshold"},
      {"GetInventoryStats min_position -1", stats(0, -1), "min_position"},
      {"WatchItem bad item_id", watch("bad id!", 0), "item_id"},
      {"WatchItem empty item_id", watch("", 0), "item_id"},
      {"WatchItem min_position -1", watch(item.id, -1), "min_position"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    const grpc::Status status = c.call();
    EXPECT_THAT(status, GrpcStatusIs(StatusCode::INVALID_ARGUMENT))
        << status.error_message();
    EXPECT_EQ(FieldOf(status), c.field) << status.error_message();
    EXPECT_THAT(status.error_message(), HasSubstr(c.field));
  }

  // A token the service never issued is not called one of another query;
  // a real one of another query is.
  for (const std::string token : {"garbage", "Z2FyYmFnZQ", "garbage!!"}) {
    SCOPED_TRACE(token);
    const grpc::Status status =
        list([&](auto& r) { r.set_page_token(token); })();
    EXPECT_EQ(status.error_message(),
              "page_token: not a token issued by this service");
  }
  EXPECT_EQ(
      list([&](auto& r) { r.set_page_token(history_token); })().error_message(),
      "page_token: was issued for a different query or filter");

  // The limits themselves are fine: answered, or NOT_FOUND for an item
  // that does not exist.
  struct Valid {
    std::string what;
    std::function<grpc::Status()> call;
    StatusCode code = StatusCode::OK;
  };
  const std::vector<Valid> valid = {
      {"page_size 0", list([](auto& r) { r.set_page_size(0); })},
      {"page_size 1000", list([](auto& r) { r.set_page_size(1000); })},
      {"page_size 1", list([](auto& r) { r.set_page_size(1); })},
      {"history page_size 1000",
       history([](auto& r) { r.set_page_size(1000); })},
      {"history token",
       history([&](auto& r) { r.set_page_token(history_token); })},
      {"as_of_version 1", get_item(item.id, 0, 1)},
      {"64-character item_id (unknown)",
       get_item(std::string(64, 'a'), 0, std::nullopt), StatusCode::NOT_FOUND},
      {"low_stock_threshold 0", stats(0, 0)},
      {"name_contains 200 bytes",
       list([](auto& r) { r.set_name_contains(std::string(200, 'x')); })},
      {"sku_prefix 32 bytes",
       list([](auto& r) { r.set_sku_prefix(std::string(32, 'X')); })},
  };
  for (const Valid& c : valid) {
    SCOPED_TRACE(c.what);
    EXPECT_THAT(c.call(), GrpcStatusIs(c.code));
  }
}

TEST_F(QueryServerTest, UnknownItemsAndVersionsAreNotFound) {
  ExpectedItem item = NewItem("known");
  const int64_t position = CreateWithStock(item, 5);  // versions 1 and 2

  v1::GetItemResponse response;
  EXPECT_THAT(GetItem(queries(), ItemRequest("unknown", position), &response),
              GrpcStatusIs(StatusCode::NOT_FOUND));
  EXPECT_THAT(GetItem(queries(), ItemRequest(item.id, position, 3), &response),
              GrpcStatusIs(StatusCode::NOT_FOUND));
  v1::GetItemHistoryRequest history_request;
  history_request.set_item_id("unknown");
  history_request.set_min_position(position);
  v1::GetItemHistoryResponse history;
  EXPECT_THAT(GetItemHistory(queries(), history_request, &history),
              GrpcStatusIs(StatusCode::NOT_FOUND));
  EXPECT_THAT(WatchFails(queries(), "unknown", position, kCallTimeout),
              GrpcStatusIs(StatusCode::NOT_FOUND));

  // Temporal queries over gRPC: each version as it was.
  ASSERT_TRUE(
      GetItem(queries(), ItemRequest(item.id, position, 1), &response).ok());
  EXPECT_EQ(response.item().version(), 1);
  EXPECT_EQ(response.item().quantity_on_hand(), 0);
  EXPECT_EQ(response.position(), position);
  ASSERT_TRUE(
      GetItem(queries(), ItemRequest(item.id, position, 2), &response).ok());
  EXPECT_EQ(response.item().version(), 2);
  EXPECT_EQ(response.item().quantity_on_hand(), 5);
}

}  // namespace
}  // namespace inventory::query_server_testing
