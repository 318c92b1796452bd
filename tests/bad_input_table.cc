// The rows of bad_input_test.cc (bad_input_table.h): the requests, byte by
// byte, and what each must get, in table order.
#include "tests/bad_input_table.h"

#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/string_view.h"
#include "common/rpc/testing/wire_builder.h"
#include "gtest/gtest.h"
#include "inventory/v1/command_service.pb.h"
#include "inventory/v1/event_stream_service.pb.h"
#include "inventory/v1/query_service.pb.h"

namespace inventory {
namespace bad_input {
namespace {

namespace v1 = inventory::v1;
using ::grpc::StatusCode;
using test_support::Wire;

// Invalid UTF-8 of every kind.
constexpr absl::string_view kBadByte = "ab\xff";
constexpr absl::string_view kOverlong = "\xc0\xaf";
constexpr absl::string_view kSurrogate = "x\xed\xa0\x80";
constexpr absl::string_view kTruncated = "Caf\xc3";
constexpr absl::string_view kTooHigh = "\xf4\x90\x80\x80";
constexpr absl::string_view kStray = "\x80 start";

}  // namespace

bool IsStream(absl::string_view method) {
  return method == kSubscribe || method == kWatch;
}
bool OnCommandService(absl::string_view method) {
  return absl::StartsWith(method, "/inventory.v1.CommandService/") ||
         method == kSubscribe;
}

std::string Repeat(absl::string_view text, int times) {
  std::string out;
  for (int i = 0; i < times; ++i) out.append(text.data(), text.size());
  return out;
}

Wire Create(absl::string_view id, absl::string_view sku,
            absl::string_view name) {
  return Wire().Bytes(1, id).Bytes(2, sku).Bytes(3, name);
}

// The rows, for a store seeded as BadInputServices::Seed() does. `head` is the
// log's last position before the table; valid rows that record events advance
// it, and later rows read at the new head.
std::vector<Row> Table(int64_t head, const std::string& list_token,
                       const std::string& history_token) {
  const int64_t kMax64 = std::numeric_limits<int64_t>::max();
  const int64_t kMin64 = std::numeric_limits<int64_t>::min();
  const std::string k65(65, 'a');
  const std::string k1000(1000, 'a');
  const std::string k129(129, 'r');
  const std::string kBigMessage(5 << 20, 'x');  // over the 4 MiB default

  std::vector<Row> rows = {
      // --- CreateItem: ids, skus, names, request ids.
      {"empty item_id", kCreate, Create("", "SKU-1", "n"),
       StatusCode::INVALID_ARGUMENT, "item_id"},
      {"item_id of 65 characters", kCreate, Create(k65, "SKU-1", "n"),
       StatusCode::INVALID_ARGUMENT, "item_id"},
      {"item_id of 1000 characters", kCreate, Create(k1000, "SKU-1", "n"),
       StatusCode::INVALID_ARGUMENT, "item_id"},
      {"item_id with SQL", kCreate,
       Create("x'; DROP TABLE events;--", "SKU-1", "n"),
       StatusCode::INVALID_ARGUMENT, "item_id"},
      {"item_id with JSON", kCreate, Create(R"({"a":1})", "SKU-1", "n"),
       StatusCode::INVALID_ARGUMENT, "item_id"},
      {"item_id with a control character", kCreate,
       Create("a\x01z", "SKU-1", "n"), StatusCode::INVALID_ARGUMENT, "item_id"},
      {"item_id with NUL", kCreate,
       Create(absl::string_view("a\0z", 3), "SKU-1", "n"),
       StatusCode::INVALID_ARGUMENT, "item_id"},
      {"item_id not UTF-8", kCreate, Create(kBadByte, "SKU-1", "n"),
       StatusCode::INVALID_ARGUMENT, "item_id", 0, nullptr,
       "must be valid UTF-8"},
      {"item_id: an invalid copy before a valid one", kCreate,
       Wire().Bytes(1, kBadByte).Bytes(1, "fine").Bytes(2, "SKU-1").Bytes(3, "n"),
       StatusCode::INVALID_ARGUMENT, "item_id"},
      {"empty sku", kCreate, Create("c-1", "", "n"),
       StatusCode::INVALID_ARGUMENT, "sku"},
      {"sku of 2 characters", kCreate, Create("c-1", "AB", "n"),
       StatusCode::INVALID_ARGUMENT, "sku"},
      {"sku of 33 characters", kCreate, Create("c-1", std::string(33, 'A'), "n"),
       StatusCode::INVALID_ARGUMENT, "sku"},
      {"sku in lowercase", kCreate, Create("c-1", "sku-1", "n"),
       StatusCode::INVALID_ARGUMENT, "sku"},
      {"sku with SQL", kCreate, Create("c-1", "A';--", "n"),
       StatusCode::INVALID_ARGUMENT, "sku"},
      {"sku with a tab", kCreate, Create("c-1", "AB\tC", "n"),
       StatusCode::INVALID_ARGUMENT, "sku"},
      {"sku not UTF-8", kCreate, Create("c-1", kOverlong, "n"),
       StatusCode::INVALID_ARGUMENT, "sku"},
      {"empty name", kCreate, Create("c-1", "SKU-1", ""),
       StatusCode::INVALID_ARGUMENT, "name"},
      {"name of only spaces", kCreate, Create("c-1", "SKU-1", "   "),
       StatusCode::INVALID_ARGUMENT, "name"},
      {"name of 201 characters", kCreate,
       Create("c-1", "SKU-1", std::string(201, 'n')),
       StatusCode::INVALID_ARGUMENT, "name"},
      {"name of 201 two-byte characters", kCreate,
       Create("c-1", "SKU-1", Repeat("\xc3\xa9", 201)),
       StatusCode::INVALID_ARGUMENT, "name"},
      {"name with BEL", kCreate, Create("c-1", "SKU-1", "ring\x07"),
       StatusCode::INVALID_ARGUMENT, "name"},
      {"name with an escape sequence", kCreate,
       Create("c-1", "SKU-1", "\x1b[31mred"), StatusCode::INVALID_ARGUMENT,
       "name"},
      {"name with a newline", kCreate, Create("c-1", "SKU-1", "two\nlines"),
       StatusCode::INVALID_ARGUMENT, "name"},
      {"name with NUL", kCreate,
       Create("c-1", "SKU-1", absl::string_view("nul\0", 4)),
       StatusCode::INVALID_ARGUMENT, "name"},
      {"name with C1 control U+0085", kCreate,
       Create("c-1", "SKU-1", "next\xc2\x85line"),
       StatusCode::INVALID_ARGUMENT, "name"},
      {"name: stray byte 0xFF", kCreate, Create("c-1", "SKU-1", kBadByte),
       StatusCode::INVALID_ARGUMENT, "name"},
      {"name: overlong encoding", kCreate, Create("c-1", "SKU-1", kOverlong),
       StatusCode::INVALID_ARGUMENT, "name"},
      {"name: UTF-16 surrogate", kCreate, Create("c-1", "SKU-1", kSurrogate),
       StatusCode::INVALID_ARGUMENT, "name"},
      {"name: truncated sequence", kCreate, Create("c-1", "SKU-1", kTruncated),
       StatusCode::INVALID_ARGUMENT, "name"},
      {"name: above U+10FFFF", kCreate, Create("c-1", "SKU-1", kTooHigh),
       StatusCode::INVALID_ARGUMENT, "name"},
      {"name: stray continuation byte", kCreate, Create("c-1", "SKU-1", kStray),
       StatusCode::INVALID_ARGUMENT, "name"},
      {"request_id of 129 characters", kCreate,
       Wire(Create("c-1", "SKU-1", "n")).Bytes(4, k129),
       StatusCode::INVALID_ARGUMENT, "request_id"},
      {"request_id with a control character", kCreate,
       Wire(Create("c-1", "SKU-1", "n")).Bytes(4, "req\x7f"),
       StatusCode::INVALID_ARGUMENT, "request_id"},
      {"request_id not UTF-8", kCreate,
       Wire(Create("c-1", "SKU-1", "n")).Bytes(4, kSurrogate),
       StatusCode::INVALID_ARGUMENT, "request_id"},
      {"item_id sent as a number (wrong wire type: unknown, so empty)", kCreate,
       Wire().Varint(1, 7).Bytes(2, "SKU-1").Bytes(3, "n"),
       StatusCode::INVALID_ARGUMENT, "item_id"},
      {"not protobuf at all", kCreate, Wire().Raw("\xff\xff\xff\xff"),
       StatusCode::INVALID_ARGUMENT, "", 0, nullptr, "not a valid"},
      {"length past the end of the message", kCreate,
       Wire().Raw("\x0a\x40" "short"), StatusCode::INVALID_ARGUMENT, ""},
      {"varint of 11 bytes", kCreate,
       Wire().Bytes(1, "c-1").Raw("\x10").Raw(std::string(10, '\xff')).Raw("\x01"),
       StatusCode::INVALID_ARGUMENT, ""},
      {"message over the 4 MiB limit", kCreate,
       Create("c-1", "SKU-1", kBigMessage), StatusCode::RESOURCE_EXHAUSTED,
       ""},
      Row{"an existing item", kCreate, Create("seed-1", "SEED-1", "Again"),
          StatusCode::ALREADY_EXISTS, ""}
          .Because("ITEM_ALREADY_EXISTS"),
      // Valid, however odd: stored and returned verbatim.
      {"name with SQL (valid)", kCreate, Create("sql-1", "SQL-1", kSqlName),
       StatusCode::OK, "", 1},
      {"name with JSON meta-characters (valid)", kCreate,
       Create("json-1", "JSON-1", kJsonName), StatusCode::OK, "", 1},
      {"name of 200 two-byte characters (valid)", kCreate,
       Create("long-1", "LONG-1", kLongName), StatusCode::OK, "", 1},
      {"unknown fields of every wire type, one not UTF-8 (ignored)", kCreate,
       Wire(Create("unknown-1", "UNK-1", "Unknown fields"))
           .Bytes(15, kBadByte)
           .Varint(16, -1)
           .Raw("\x89\x01" "12345678")  // field 17, fixed64
           .Raw("\x95\x01" "1234"),     // field 18, fixed32
       StatusCode::OK, "", 1},

      // --- RenameItem.
      {"rename: name not UTF-8", kRename,
       Wire().Bytes(1, "seed-1").Bytes(2, kTruncated),
       StatusCode::INVALID_ARGUMENT, "name"},
      {"rename: name with a tab", kRename,
       Wire().Bytes(1, "seed-1").Bytes(2, "tab\there"),
       StatusCode::INVALID_ARGUMENT, "name"},
      {"rename: negative expected_version", kRename,
       Wire().Bytes(1, "seed-1").Bytes(2, "New").Varint(3, -1),
       StatusCode::INVALID_ARGUMENT, "expected_version"},
      {"rename: expected_version INT64_MIN", kRename,
       Wire().Bytes(1, "seed-1").Bytes(2, "New").Varint(3, kMin64),
       StatusCode::INVALID_ARGUMENT, "expected_version"},
      Row{"rename: expected_version far in the future", kRename,
          Wire().Bytes(1, "seed-1").Bytes(2, "New").Varint(3, kFuture),
          StatusCode::ABORTED, "", 0, nullptr, "item is at version 2"}
          .Because("VERSION_CONFLICT"),
      Row{"rename: unknown item", kRename,
          Wire().Bytes(1, "nobody").Bytes(2, "New"), StatusCode::NOT_FOUND, ""}
          .Because("ITEM_NOT_FOUND"),
      Row{"rename: the name it has", kRename,
          Wire().Bytes(1, "seed-1").Bytes(2, "Seed one"),
          StatusCode::FAILED_PRECONDITION, ""}
          .Because("SAME_NAME"),
      {"rename: name with SQL (valid)", kRename,
       Wire().Bytes(1, "sql-1").Bytes(2, kRenamedSql), StatusCode::OK, "", 1},

      // --- CheckInItems: quantities.
      {"check in: zero (absent) quantity", kCheckIn, Wire().Bytes(1, "seed-1"),
       StatusCode::INVALID_ARGUMENT, "quantity"},
      {"check in: negative quantity", kCheckIn,
       Wire().Bytes(1, "seed-1").Varint(2, -5), StatusCode::INVALID_ARGUMENT,
       "quantity"},
      {"check in: 1,000,001 units", kCheckIn,
       Wire().Bytes(1, "seed-1").Varint(2, 1000001), StatusCode::INVALID_ARGUMENT,
       "quantity"},
      {"check in: INT64_MAX units", kCheckIn,
       Wire().Bytes(1, "seed-1").Varint(2, kMax64), StatusCode::INVALID_ARGUMENT,
       "quantity"},
      {"check in: INT64_MIN units", kCheckIn,
       Wire().Bytes(1, "seed-1").Varint(2, kMin64), StatusCode::INVALID_ARGUMENT,
       "quantity"},
      {"check in: 2^64-1 as a varint (wraps to -1)", kCheckIn,
       Wire().Bytes(1, "seed-1").Raw("\x10").Raw(std::string(9, '\xff')).Raw(
           "\x01"),
       StatusCode::INVALID_ARGUMENT, "quantity"},
      {"check in: item_id of 1000 characters", kCheckIn,
       Wire().Bytes(1, k1000).Varint(2, 1), StatusCode::INVALID_ARGUMENT,
       "item_id"},
      Row{"check in: expected_version far in the future", kCheckIn,
          Wire().Bytes(1, "seed-1").Varint(2, 1).Varint(3, kFuture),
          StatusCode::ABORTED, ""}
          .Because("VERSION_CONFLICT"),
      Row{"check in: deactivated item", kCheckIn,
          Wire().Bytes(1, "seed-off").Varint(2, 1), StatusCode::FAILED_PRECONDITION,
          ""}
          .Because("ITEM_INACTIVE"),
      {"check in: request_id with SQL (valid)", kCheckIn,
       Wire().Bytes(1, "seed-1").Varint(2, 1).Bytes(4, kSqlRequestId), StatusCode::OK,
       "", 1},
      {"check in: same request_id, same command: replayed", kCheckIn,
       Wire().Bytes(1, "seed-1").Varint(2, 1).Bytes(4, kSqlRequestId), StatusCode::OK,
       "", 0,
       [](const std::string& bytes) {
         EXPECT_TRUE(Parse<v1::CheckInItemsResponse>(bytes).replayed());
       }},
      Row{"check in: same request_id, other command", kCheckIn,
          Wire().Bytes(1, "seed-1").Varint(2, 2).Bytes(4, kSqlRequestId),
          StatusCode::ALREADY_EXISTS, ""}
          .Because("REQUEST_ID_REUSED"),

      // --- RemoveItems.
      {"remove: zero units", kRemove, Wire().Bytes(1, "seed-1").Varint(2, 0),
       StatusCode::INVALID_ARGUMENT, "quantity"},
      {"remove: -1 units", kRemove, Wire().Bytes(1, "seed-1").Varint(2, -1),
       StatusCode::INVALID_ARGUMENT, "quantity"},
      Row{"remove: more than on hand", kRemove,
          Wire().Bytes(1, "seed-1").Varint(2, 1000), StatusCode::FAILED_PRECONDITION,
          ""}
          .Because("INSUFFICIENT_STOCK"),
      {"remove: item_id not UTF-8", kRemove,
       Wire().Bytes(1, kTooHigh).Varint(2, 1), StatusCode::INVALID_ARGUMENT,
       "item_id"},
      {"remove: negative expected_version", kRemove,
       Wire().Bytes(1, "seed-1").Varint(2, 1).Varint(3, -2),
       StatusCode::INVALID_ARGUMENT, "expected_version"},

      // --- DeactivateItem and ReactivateItem.
      {"deactivate: empty item_id", kDeactivate, Wire(),
       StatusCode::INVALID_ARGUMENT, "item_id"},
      {"deactivate: negative expected_version", kDeactivate,
       Wire().Bytes(1, "seed-1").Varint(2, -7), StatusCode::INVALID_ARGUMENT,
       "expected_version"},
      {"deactivate: request_id not UTF-8", kDeactivate,
       Wire().Bytes(1, "seed-1").Bytes(3, kBadByte), StatusCode::INVALID_ARGUMENT,
       "request_id"},
      Row{"deactivate: already deactivated", kDeactivate,
          Wire().Bytes(1, "seed-off"), StatusCode::FAILED_PRECONDITION, ""}
          .Because("ITEM_INACTIVE"),
      {"reactivate: item_id with a slash", kReactivate,
       Wire().Bytes(1, "../etc"), StatusCode::INVALID_ARGUMENT, "item_id"},
      {"reactivate: item_id not UTF-8", kReactivate,
       Wire().Bytes(1, kOverlong), StatusCode::INVALID_ARGUMENT, "item_id"},
      Row{"reactivate: expected_version far in the future", kReactivate,
          Wire().Bytes(1, "seed-off").Varint(2, kFuture), StatusCode::ABORTED, ""}
          .Because("VERSION_CONFLICT"),
      Row{"reactivate: an active item", kReactivate, Wire().Bytes(1, "seed-1"),
          StatusCode::FAILED_PRECONDITION, ""}
          .Because("ITEM_ALREADY_ACTIVE"),

      // --- Subscribe.
      {"subscribe: negative after_position", kSubscribe, Wire().Varint(1, -1),
       StatusCode::INVALID_ARGUMENT, "after_position"},
      {"subscribe: unknown event type", kSubscribe,
       Wire().Message(2, Wire().Bytes(1, "inventory.v1.ItemExploded")),
       StatusCode::INVALID_ARGUMENT, "filter.event_types"},
      {"subscribe: event type in other case", kSubscribe,
       Wire().Message(2, Wire().Bytes(1, "INVENTORY.V1.ITEMCREATED")),
       StatusCode::INVALID_ARGUMENT, "filter.event_types"},
      {"subscribe: event type not UTF-8", kSubscribe,
       Wire().Message(2, Wire().Bytes(1, kBadByte)), StatusCode::INVALID_ARGUMENT,
       "filter.event_types"},
      {"subscribe: 17 event types", kSubscribe,
       [] {
         Wire filter;
         for (int i = 0; i < 17; ++i) filter.Bytes(1, "inventory.v1.ItemCreated");
         return Wire().Message(2, filter);
       }(),
       StatusCode::INVALID_ARGUMENT, "filter.event_types"},
      {"subscribe: stream_id_prefix not UTF-8", kSubscribe,
       Wire().Message(2, Wire().Bytes(2, kStray)), StatusCode::INVALID_ARGUMENT,
       "filter.stream_id_prefix"},
      {"subscribe: stream_id_prefix of 257 bytes", kSubscribe,
       Wire().Message(2, Wire().Bytes(2, std::string(257, 'i'))),
       StatusCode::INVALID_ARGUMENT, "filter.stream_id_prefix"},
      {"subscribe: negative max_events_per_message", kSubscribe,
       Wire().Varint(3, -1), StatusCode::INVALID_ARGUMENT,
       "max_events_per_message"},
      {"subscribe: filter that is not a message", kSubscribe,
       Wire().Bytes(2, "\xff\xff"), StatusCode::INVALID_ARGUMENT, ""},
      {"subscribe: stream_id_prefix with SQL (valid)", kSubscribe,
       Wire().Message(2, Wire().Bytes(2, "item-'; DROP TABLE events;--")),
       StatusCode::OK, "", 0,
       [](const std::string& bytes) {
         EXPECT_TRUE(Parse<v1::SubscribeResponse>(bytes).has_caught_up());
       }},
      {"subscribe: huge max_events_per_message (valid, capped)", kSubscribe,
       Wire().Varint(3, std::numeric_limits<int32_t>::max()), StatusCode::OK, "",
       0,
       [](const std::string& bytes) {
         const auto message = Parse<v1::SubscribeResponse>(bytes);
         EXPECT_TRUE(message.has_events()) << message.ShortDebugString();
       }},
      Row{"subscribe: after_position beyond the head", kSubscribe,
          Wire().Varint(1, kFuture), StatusCode::OUT_OF_RANGE, "", 0, nullptr,
          absl::StrCat("after_position ", kFuture)}
          .Because("LOG_POSITION_OUT_OF_RANGE"),
      {"subscribe: after_event_id without after_position", kSubscribe,
       Wire().Bytes(4, "00000000-0000-4000-8000-000000000000"),
       StatusCode::INVALID_ARGUMENT, "after_event_id"},
      {"subscribe: after_event_id of 65 bytes", kSubscribe,
       Wire().Varint(1, 1).Bytes(4, std::string(65, 'e')),
       StatusCode::INVALID_ARGUMENT, "after_event_id"},
      {"subscribe: after_event_id not UTF-8", kSubscribe,
       Wire().Varint(1, 1).Bytes(4, kSurrogate), StatusCode::INVALID_ARGUMENT,
       "after_event_id"},
      Row{"subscribe: after_event_id of another log", kSubscribe,
          Wire().Varint(1, 1).Bytes(4, "00000000-0000-4000-8000-000000000000"),
          StatusCode::OUT_OF_RANGE, "", 0, nullptr, "the event at position 1"}
          .Because("LOG_DIVERGED"),
  };

  // Commands above that record events advance the head; the queries below
  // wait for it.
  for (const Row& row : rows) head += row.records;

  const std::vector<Row> queries = {
      // --- GetItem.
      {"get: empty item_id", kGetItem, Wire(), StatusCode::INVALID_ARGUMENT,
       "item_id"},
      {"get: item_id not UTF-8", kGetItem, Wire().Bytes(1, kSurrogate),
       StatusCode::INVALID_ARGUMENT, "item_id"},
      {"get: item_id with SQL", kGetItem, Wire().Bytes(1, "' OR '1'='1"),
       StatusCode::INVALID_ARGUMENT, "item_id"},
      {"get: negative min_position", kGetItem,
       Wire().Bytes(1, "seed-1").Varint(2, -1), StatusCode::INVALID_ARGUMENT,
       "min_position"},
      {"get: as_of_version 0", kGetItem, Wire().Bytes(1, "seed-1").Varint(3, 0),
       StatusCode::INVALID_ARGUMENT, "as_of_version"},
      {"get: negative as_of_version", kGetItem,
       Wire().Bytes(1, "seed-1").Varint(3, -3), StatusCode::INVALID_ARGUMENT,
       "as_of_version"},
      Row{"get: as_of_version far in the future", kGetItem,
          Wire().Bytes(1, "seed-1").Varint(3, kFuture), StatusCode::NOT_FOUND,
          ""}
          .Because("ITEM_VERSION_NOT_FOUND"),
      Row{"get: unknown item", kGetItem, Wire().Bytes(1, "nobody"),
          StatusCode::NOT_FOUND, ""}
          .Because("ITEM_NOT_FOUND"),
      {"get: the SQL-named item, verbatim (valid)", kGetItem,
       Wire().Bytes(1, "sql-1").Varint(2, head).Varint(3, 1), StatusCode::OK,
       "", 0,
       [](const std::string& bytes) {
         EXPECT_EQ(Parse<v1::GetItemResponse>(bytes).item().name(), kSqlName);
       }},

      // --- ListItems.
      {"list: page_size 1001", kListItems, Wire().Varint(1, 1001),
       StatusCode::INVALID_ARGUMENT, "page_size"},
      {"list: page_size INT32_MAX", kListItems,
       Wire().Varint(1, std::numeric_limits<int32_t>::max()),
       StatusCode::INVALID_ARGUMENT, "page_size"},
      {"list: negative page_size", kListItems, Wire().Varint(1, -1),
       StatusCode::INVALID_ARGUMENT, "page_size"},
      {"list: page_token not base64", kListItems,
       Wire().Bytes(2, "!!garbage!!"), StatusCode::INVALID_ARGUMENT,
       "page_token"},
      {"list: page_token of 2000 bytes", kListItems,
       Wire().Bytes(2, std::string(2000, 'A')), StatusCode::INVALID_ARGUMENT,
       "page_token"},
      {"list: page_token not UTF-8", kListItems, Wire().Bytes(2, kBadByte),
       StatusCode::INVALID_ARGUMENT, "page_token"},
      {"list: page_token of GetItemHistory", kListItems,
       Wire().Bytes(2, history_token), StatusCode::INVALID_ARGUMENT,
       "page_token"},
      {"list: page_token of another filter", kListItems,
       Wire().Bytes(2, list_token).Bytes(5, "SEED"),
       StatusCode::INVALID_ARGUMENT, "page_token"},
      {"list: name_contains of 201 bytes", kListItems,
       Wire().Bytes(4, std::string(201, 'n')), StatusCode::INVALID_ARGUMENT,
       "name_contains"},
      {"list: name_contains not UTF-8", kListItems, Wire().Bytes(4, kOverlong),
       StatusCode::INVALID_ARGUMENT, "name_contains"},
      {"list: sku_prefix of 33 bytes", kListItems,
       Wire().Bytes(5, std::string(33, 'S')), StatusCode::INVALID_ARGUMENT,
       "sku_prefix"},
      {"list: sku_prefix not UTF-8", kListItems, Wire().Bytes(5, kTruncated),
       StatusCode::INVALID_ARGUMENT, "sku_prefix"},
      {"list: negative min_position", kListItems, Wire().Varint(6, -5),
       StatusCode::INVALID_ARGUMENT, "min_position"},
      {"list: name_contains with SQL finds the item (valid)", kListItems,
       Wire().Bytes(4, "DELETE FROM events").Varint(6, head), StatusCode::OK,
       "", 0,
       [](const std::string& bytes) {
         const auto response = Parse<v1::ListItemsResponse>(bytes);
         ASSERT_EQ(response.items_size(), 1);
         EXPECT_EQ(response.items(0).name(), kRenamedSql);
       }},
      {"list: LIKE wildcards are plain text (valid)", kListItems,
       Wire().Bytes(4, "%_%").Bytes(5, "%").Varint(6, head), StatusCode::OK, "",
       0,
       [](const std::string& bytes) {
         EXPECT_EQ(Parse<v1::ListItemsResponse>(bytes).items_size(), 0);
       }},
      {"list: active as 7, not 0 or 1 (valid: true)", kListItems,
       Wire().Varint(3, 7).Bytes(5, "SEED").Varint(6, head), StatusCode::OK, "",
       0,
       [](const std::string& bytes) {
         const auto response = Parse<v1::ListItemsResponse>(bytes);
         ASSERT_EQ(response.items_size(), 1);
         EXPECT_EQ(response.items(0).item_id(), "seed-1");
       }},

      // --- GetItemHistory.
      {"history: page_size 5000", kHistory,
       Wire().Bytes(1, "seed-1").Varint(2, 5000), StatusCode::INVALID_ARGUMENT,
       "page_size"},
      {"history: empty item_id", kHistory, Wire().Varint(2, 10),
       StatusCode::INVALID_ARGUMENT, "item_id"},
      {"history: page_token garbage", kHistory,
       Wire().Bytes(1, "seed-1").Bytes(3, "%%%"), StatusCode::INVALID_ARGUMENT,
       "page_token"},
      {"history: page_token of another item", kHistory,
       Wire().Bytes(1, "seed-off").Bytes(3, history_token),
       StatusCode::INVALID_ARGUMENT, "page_token"},
      {"history: page_token with a cursor that is not a number", kHistory,
       Wire()
           .Bytes(1, "seed-1")
           .Bytes(3, absl::WebSafeBase64Escape("history:seed-1\nNaN")),
       StatusCode::INVALID_ARGUMENT, "page_token"},
      {"history: page_token with an overflowing cursor", kHistory,
       Wire()
           .Bytes(1, "seed-1")
           .Bytes(3, absl::WebSafeBase64Escape(
                         "history:seed-1\n99999999999999999999999999")),
       StatusCode::INVALID_ARGUMENT, "page_token"},
      {"history: page_token with a JSON cursor", kHistory,
       Wire()
           .Bytes(1, "seed-1")
           .Bytes(3, absl::WebSafeBase64Escape("history:seed-1\n{\"from\":0}")),
       StatusCode::INVALID_ARGUMENT, "page_token"},
      Row{"history: unknown item", kHistory, Wire().Bytes(1, "nobody"),
          StatusCode::NOT_FOUND, ""}
          .Because("ITEM_NOT_FOUND"),
      {"history: of the JSON-named item, verbatim (valid)", kHistory,
       Wire().Bytes(1, "json-1").Varint(4, head), StatusCode::OK, "", 0,
       [](const std::string& bytes) {
         const auto response = Parse<v1::GetItemHistoryResponse>(bytes);
         ASSERT_EQ(response.events_size(), 1);
         EXPECT_EQ(response.events(0).item_created().name(), kJsonName);
       }},

      // --- GetInventoryStats.
      {"stats: negative low_stock_threshold", kStats, Wire().Varint(1, -1),
       StatusCode::INVALID_ARGUMENT, "low_stock_threshold"},
      {"stats: INT64_MIN low_stock_threshold", kStats, Wire().Varint(1, kMin64),
       StatusCode::INVALID_ARGUMENT, "low_stock_threshold"},
      {"stats: negative min_position", kStats, Wire().Varint(2, -1),
       StatusCode::INVALID_ARGUMENT, "min_position"},
      {"stats: INT64_MAX low_stock_threshold (valid)", kStats,
       Wire().Varint(1, kMax64).Varint(2, head), StatusCode::OK, "", 0,
       [](const std::string& bytes) {
         const auto response = Parse<v1::GetInventoryStatsResponse>(bytes);
         EXPECT_EQ(response.low_stock_item_count(),
                   response.active_item_count());
       }},

      // --- WatchItem.
      {"watch: empty item_id", kWatch, Wire(), StatusCode::INVALID_ARGUMENT,
       "item_id"},
      {"watch: item_id not UTF-8", kWatch, Wire().Bytes(1, kBadByte),
       StatusCode::INVALID_ARGUMENT, "item_id"},
      {"watch: item_id of 65 characters", kWatch, Wire().Bytes(1, k65),
       StatusCode::INVALID_ARGUMENT, "item_id"},
      {"watch: negative min_position", kWatch,
       Wire().Bytes(1, "seed-1").Varint(2, -1), StatusCode::INVALID_ARGUMENT,
       "min_position"},
      Row{"watch: unknown item", kWatch,
          Wire().Bytes(1, "nobody").Varint(2, head), StatusCode::NOT_FOUND, ""}
          .Because("ITEM_NOT_FOUND"),
      {"watch: the long-named item, verbatim (valid)", kWatch,
       Wire().Bytes(1, "long-1").Varint(2, head), StatusCode::OK, "", 0,
       [](const std::string& bytes) {
         EXPECT_EQ(Parse<v1::WatchItemResponse>(bytes).item().name(),
                   kLongName);
       }},
  };
  rows.insert(rows.end(), queries.begin(), queries.end());
  return rows;
}

// A test's name for row `index`: its place in the table, the RPC and
// what the row tries, in letters, digits and underscores.
std::string RowName(size_t index, const Row& row) {
  const absl::string_view method(row.method);
  std::string name =
      absl::StrFormat("%03d_%s_", index, method.substr(method.rfind('/') + 1));
  for (const char c : row.what) {
    if (absl::ascii_isalnum(static_cast<unsigned char>(c))) {
      name.push_back(c);
    } else if (name.back() != '_') {
      name.push_back('_');
    }
  }
  if (name.back() == '_') name.pop_back();
  return name;
}

// The names of the rows, known before any server runs: the table built
// with the head it asserts and placeholder page tokens.
const std::vector<std::string>& RowNames() {
  static const std::vector<std::string>* const names = [] {
    const std::vector<Row> rows = Table(kHead, "", "");
    auto* names = new std::vector<std::string>();
    for (size_t i = 0; i < rows.size(); ++i) {
      names->push_back(RowName(i, rows[i]));
    }
    return names;
  }();
  return *names;
}

}  // namespace bad_input
}  // namespace inventory
