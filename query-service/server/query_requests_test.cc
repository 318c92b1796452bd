#include "query-service/server/query_requests.h"

#include <optional>
#include <string>

#include "absl/strings/str_cat.h"
#include "common/api/item_id.h"
#include "common/base/field_violation.h"
#include "common/base/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace inventory {
namespace {

using ::testing::Eq;
using ::testing::Field;
using ::testing::HasSubstr;
using ::testing::Optional;

// The field a refused request names (FieldViolationOf), "" for none.
template <typename T>
std::string ViolatedField(const absl::StatusOr<T>& query) {
  const std::optional<FieldViolation> violation =
      FieldViolationOf(query.status());
  return violation.has_value() ? violation->field : "";
}

MATCHER_P2(IsInvalidField, field, description,
           absl::StrCat("is INVALID_ARGUMENT \"", field, ": ", description,
                        "\" naming ", field)) {
  *result_listener << "whose status is " << arg.status();
  return arg.status().code() == absl::StatusCode::kInvalidArgument &&
         ViolatedField(arg) == field &&
         arg.status().message() == absl::StrCat(field, ": ", description);
}

TEST(GetItemQueryTest, KeepsAValidRequest) {
  inventory::v1::GetItemRequest request;
  request.set_item_id("item-1");
  request.set_as_of_version(3);
  request.set_min_position(7);
  const absl::StatusOr<GetItemQuery> query = ToQuery(request);
  ASSERT_THAT(query, IsOk());
  EXPECT_EQ(query->item_id, "item-1");
  EXPECT_THAT(query->as_of_version, Optional(3));
  EXPECT_EQ(query->min_position, 7);
}

TEST(GetItemQueryTest, WithoutAsOfVersionAsksForTheLatest) {
  inventory::v1::GetItemRequest request;
  request.set_item_id("item-1");
  EXPECT_THAT(ToQuery(request), IsOkAndHolds(Field(&GetItemQuery::as_of_version,
                                                   Eq(std::nullopt))));
}

TEST(GetItemQueryTest, RefusesABadItemIdAsTheWriteSideDoes) {
  inventory::v1::GetItemRequest request;
  request.set_item_id("");
  const absl::StatusOr<GetItemQuery> query = ToQuery(request);
  EXPECT_THAT(query, StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_EQ(ViolatedField(query), "item_id");
  EXPECT_EQ(query.status(), ItemId::Create("").status());
}

TEST(GetItemQueryTest, RefusesAsOfVersionBelowOne) {
  inventory::v1::GetItemRequest request;
  request.set_item_id("item-1");
  request.set_as_of_version(0);
  EXPECT_THAT(ToQuery(request),
              IsInvalidField("as_of_version", "must be at least 1"));
}

TEST(GetItemQueryTest, RefusesANegativeMinPosition) {
  inventory::v1::GetItemRequest request;
  request.set_item_id("item-1");
  request.set_min_position(-1);
  EXPECT_THAT(ToQuery(request),
              IsInvalidField("min_position", "must not be negative"));
}

TEST(GetItemQueryTest, NamesTheFirstBadFieldInRequestOrder) {
  inventory::v1::GetItemRequest request;
  request.set_item_id("item-1");
  request.set_as_of_version(0);
  request.set_min_position(-1);
  EXPECT_EQ(ViolatedField(ToQuery(request)), "as_of_version");
  request.set_item_id("");
  EXPECT_EQ(ViolatedField(ToQuery(request)), "item_id");
}

TEST(ListItemsQueryTest, DefaultsThePageSizeAndKeepsTheFilter) {
  inventory::v1::ListItemsRequest request;
  request.set_active(false);
  request.set_name_contains("bolt");
  request.set_sku_prefix("SKU-");
  request.set_page_token("token");
  request.set_min_position(4);
  const absl::StatusOr<ListItemsQuery> query = ToQuery(request);
  ASSERT_THAT(query, IsOk());
  EXPECT_EQ(query->page_size, static_cast<size_t>(kDefaultPageSize));
  EXPECT_THAT(query->filter.active, Optional(false));
  EXPECT_EQ(query->filter.name_contains, "bolt");
  EXPECT_EQ(query->filter.sku_prefix, "SKU-");
  EXPECT_EQ(query->page_token, "token");
  EXPECT_EQ(query->min_position, 4);
}

TEST(ListItemsQueryTest, WithoutActiveListsBoth) {
  EXPECT_THAT(
      ToQuery(inventory::v1::ListItemsRequest()),
      IsOkAndHolds(Field(&ListItemsQuery::filter,
                         Field(&ItemFilter::active, Eq(std::nullopt)))));
}

TEST(ListItemsQueryTest, AcceptsPageSizesFromOneToTheMaximum) {
  inventory::v1::ListItemsRequest request;
  for (int size : {1, kMaxPageSize}) {
    request.set_page_size(size);
    EXPECT_THAT(ToQuery(request),
                IsOkAndHolds(Field(&ListItemsQuery::page_size,
                                   Eq(static_cast<size_t>(size)))));
  }
}

TEST(ListItemsQueryTest, RefusesPageSizesOutOfRange) {
  inventory::v1::ListItemsRequest request;
  for (int size : {-1, kMaxPageSize + 1}) {
    request.set_page_size(size);
    EXPECT_THAT(
        ToQuery(request),
        IsInvalidField("page_size", "must be between 1 and 1000 (0 means 100)"))
        << size;
  }
}

TEST(ListItemsQueryTest, RefusesAPageTokenLongerThanAnyIssued) {
  inventory::v1::ListItemsRequest request;
  request.set_page_token(std::string(kMaxPageToken, 'a'));
  EXPECT_THAT(ToQuery(request), IsOk());
  request.set_page_token(std::string(kMaxPageToken + 1, 'a'));
  EXPECT_THAT(ToQuery(request), IsInvalidField("page_token",
                                               "is not a token this service "
                                               "issued"));
}

TEST(ListItemsQueryTest, RefusesLongFilters) {
  inventory::v1::ListItemsRequest request;
  request.set_name_contains(std::string(kMaxNameFilter, 'n'));
  request.set_sku_prefix(std::string(kMaxSkuPrefix, 'S'));
  EXPECT_THAT(ToQuery(request), IsOk());
  request.set_sku_prefix(std::string(kMaxSkuPrefix + 1, 'S'));
  EXPECT_THAT(ToQuery(request),
              IsInvalidField("sku_prefix", "must be at most 32 bytes"));
  request.set_name_contains(std::string(kMaxNameFilter + 1, 'n'));
  EXPECT_THAT(ToQuery(request),
              IsInvalidField("name_contains", "must be at most 200 bytes"));
}

TEST(ListItemsQueryTest, RefusesANegativeMinPosition) {
  inventory::v1::ListItemsRequest request;
  request.set_min_position(-5);
  EXPECT_THAT(ToQuery(request),
              IsInvalidField("min_position", "must not be negative"));
}

TEST(GetItemHistoryQueryTest, KeepsAValidRequest) {
  inventory::v1::GetItemHistoryRequest request;
  request.set_item_id("item-1");
  request.set_page_size(10);
  request.set_page_token("next");
  request.set_min_position(2);
  const absl::StatusOr<GetItemHistoryQuery> query = ToQuery(request);
  ASSERT_THAT(query, IsOk());
  EXPECT_EQ(query->item_id, "item-1");
  EXPECT_EQ(query->page_size, 10u);
  EXPECT_EQ(query->page_token, "next");
  EXPECT_EQ(query->min_position, 2);
}

TEST(GetItemHistoryQueryTest, ChecksItemIdThenPageThenMinPosition) {
  inventory::v1::GetItemHistoryRequest request;
  request.set_item_id("");
  request.set_page_size(-1);
  request.set_page_token(std::string(kMaxPageToken + 1, 'a'));
  request.set_min_position(-1);
  EXPECT_EQ(ViolatedField(ToQuery(request)), "item_id");
  request.set_item_id("item-1");
  EXPECT_THAT(
      ToQuery(request),
      IsInvalidField("page_size", "must be between 1 and 1000 (0 means 100)"));
  request.set_page_size(0);
  EXPECT_EQ(ViolatedField(ToQuery(request)), "page_token");
  request.clear_page_token();
  EXPECT_THAT(ToQuery(request),
              IsInvalidField("min_position", "must not be negative"));
}

TEST(GetInventoryStatsQueryTest, KeepsAValidRequest) {
  inventory::v1::GetInventoryStatsRequest request;
  request.set_low_stock_threshold(5);
  request.set_min_position(9);
  const absl::StatusOr<GetInventoryStatsQuery> query = ToQuery(request);
  ASSERT_THAT(query, IsOk());
  EXPECT_EQ(query->low_stock_threshold, 5);
  EXPECT_EQ(query->min_position, 9);
}

TEST(GetInventoryStatsQueryTest, RefusesNegativeValues) {
  inventory::v1::GetInventoryStatsRequest request;
  request.set_low_stock_threshold(-1);
  request.set_min_position(-1);
  EXPECT_THAT(ToQuery(request),
              IsInvalidField("low_stock_threshold", "must not be negative"));
  request.set_low_stock_threshold(0);
  EXPECT_THAT(ToQuery(request),
              IsInvalidField("min_position", "must not be negative"));
}

TEST(WatchItemQueryTest, KeepsAValidRequest) {
  inventory::v1::WatchItemRequest request;
  request.set_item_id("item-1");
  request.set_min_position(3);
  const absl::StatusOr<WatchItemQuery> query = ToQuery(request);
  ASSERT_THAT(query, IsOk());
  EXPECT_EQ(query->item_id, "item-1");
  EXPECT_EQ(query->min_position, 3);
}

TEST(WatchItemQueryTest, RefusesABadItemIdOrMinPosition) {
  inventory::v1::WatchItemRequest request;
  request.set_item_id("has space");
  request.set_min_position(-1);
  EXPECT_THAT(ToQuery(request), StatusIs(absl::StatusCode::kInvalidArgument,
                                         HasSubstr("item_id")));
  request.set_item_id("item-1");
  EXPECT_THAT(ToQuery(request),
              IsInvalidField("min_position", "must not be negative"));
}

}  // namespace
}  // namespace inventory
