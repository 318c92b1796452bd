// The table of bad_input_test.cc: the requests it sends, byte by byte, and
// what each must get. Shared by bad_input_table.cc, which builds the rows,
// and bad_input_test.cc, which sends them to the real services.
#ifndef INVENTORY_TESTS_BAD_INPUT_TABLE_H_
#define INVENTORY_TESTS_BAD_INPUT_TABLE_H_

#include <grpcpp/support/status_code_enum.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"
#include "common/rpc/testing/wire_builder.h"
#include "gtest/gtest.h"

namespace inventory {
namespace bad_input {

// The log's last position once seeded, before the table.
inline constexpr int64_t kHead = 4;
// A position or version no test reaches.
inline constexpr int64_t kFuture = int64_t{1} << 62;

inline constexpr char kCreate[] = "/inventory.v1.CommandService/CreateItem";
inline constexpr char kRename[] = "/inventory.v1.CommandService/RenameItem";
inline constexpr char kCheckIn[] = "/inventory.v1.CommandService/CheckInItems";
inline constexpr char kRemove[] = "/inventory.v1.CommandService/RemoveItems";
inline constexpr char kDeactivate[] =
    "/inventory.v1.CommandService/DeactivateItem";
inline constexpr char kReactivate[] =
    "/inventory.v1.CommandService/ReactivateItem";
inline constexpr char kSubscribe[] =
    "/inventory.v1.EventStreamService/Subscribe";
inline constexpr char kGetItem[] = "/inventory.v1.QueryService/GetItem";
inline constexpr char kListItems[] = "/inventory.v1.QueryService/ListItems";
inline constexpr char kHistory[] = "/inventory.v1.QueryService/GetItemHistory";
inline constexpr char kStats[] = "/inventory.v1.QueryService/GetInventoryStats";
inline constexpr char kWatch[] = "/inventory.v1.QueryService/WatchItem";

bool IsStream(absl::string_view method);
bool OnCommandService(absl::string_view method);

// --- Requests, byte by byte -------------------------------------------------

// `text`, `times` times over.
std::string Repeat(absl::string_view text, int times);

// Odd but valid strings, which must be stored and returned byte for byte.
// (Inline, so that they are initialized before the tests' registration in
// bad_input_test.cc, which builds the table to name the tests.)
inline const std::string kSqlName = "Robert'); DROP TABLE events;--";
inline const std::string kJsonName =
    R"({"name": "x\", "q": [1, {}]} \u0000 \\ $1 %s ' ")";
inline const std::string kRenamedSql = "'; DELETE FROM events WHERE true; --";
inline const std::string kLongName = Repeat("\xc3\xa9", 200);  // 200 characters
inline const std::string kSqlRequestId = "req'; DROP TABLE event_requests;--";

// A CreateItemRequest.
test_support::Wire Create(absl::string_view id, absl::string_view sku,
                          absl::string_view name);

// --- The table ---------------------------------------------------------------

struct Row {
  Row(std::string what, const char* method, std::string request,
      ::grpc::StatusCode code, std::string field, int records = 0,
      std::function<void(const std::string&)> check = nullptr,
      std::string message_has = "")
      : what(std::move(what)),
        method(method),
        request(std::move(request)),
        code(code),
        field(std::move(field)),
        records(records),
        check(std::move(check)),
        message_has(std::move(message_has)) {}

  // The same row, whose refusal must carry `why` as its ErrorInfo reason.
  Row Because(absl::string_view why) && {
    reason = std::string(why);
    return std::move(*this);
  }

  std::string what;
  const char* method;
  std::string request;  // the wire bytes
  ::grpc::StatusCode code;
  // The field an INVALID_ARGUMENT must name ("" for a refusal of the
  // message as a whole, or another code).
  std::string field;
  // Events the row records (a valid command).
  int records;
  // For OK rows: checks the response message.
  std::function<void(const std::string&)> check;
  // A phrase the error message must contain, if any.
  std::string message_has;
  // The google.rpc.ErrorInfo reason the refusal must carry (domain
  // "inventory.v1"): INVALID_FIELD for a row naming a field, else as set
  // with Because(). "" for OK rows and for refusals of the message as a
  // whole or by gRPC itself (no ErrorInfo checked).
  std::string reason;
};

template <typename Message>
Message Parse(const std::string& bytes) {
  Message message;
  EXPECT_TRUE(message.ParseFromString(bytes));
  return message;
}

// The rows, for a store seeded as BadInputServices::Seed() does. `head` is the
// log's last position before the table; valid rows that record events advance
// it, and later rows read at the new head.
std::vector<Row> Table(int64_t head, const std::string& list_token,
                       const std::string& history_token);

// A test's name for row `index`: its place in the table, the RPC and
// what the row tries, in letters, digits and underscores.
std::string RowName(size_t index, const Row& row);

// The names of the rows, known before any server runs: the table built
// with the head it asserts and placeholder page tokens.
const std::vector<std::string>& RowNames();

}  // namespace bad_input
}  // namespace inventory

#endif  // INVENTORY_TESTS_BAD_INPUT_TABLE_H_
