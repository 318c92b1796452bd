// Bad input, tried for real: a table of malformed (and a few nasty but
// valid) requests for every RPC of CommandService, EventStreamService and
// QueryService, sent to the real binaries over a real PostgreSQL.
//
// Every request is built by hand in the protobuf wire format and sent as
// raw bytes through grpc::GenericStub, so that it can carry what generated
// setters would refuse (strings that are not UTF-8, varints that
// overflow, unknown fields, malformed framing). Each row says which status
// the request must get, which field the refusal must name (in the
// message and in the google.rpc.BadRequest details) and which reason its
// google.rpc.ErrorInfo carries (every kind of refusal the command side can
// reach through the API has a row). After each row the
// event store holds exactly as many events as before, unless the row is
// valid and must be recorded; at the end the whole log and the
// idempotency records are compared with their state before the table, the
// valid rows' odd strings (SQL and JSON meta-characters) are read back
// verbatim from PostgreSQL and through the query-service, and both
// processes still serve. No error message leaks SQL or internals.
//
// Each row is a test of its own (Table/BadInputTest.*/NNN_<RPC>_<what>),
// and CTest runs each in a process of its own: a row run alone first sends
// the rows before it, unchecked, so that it meets the store a full run
// would; one server pair per process either way.
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <pqxx/pqxx>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/string_view.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/rpc/testing/wire_builder.h"
#include "gmock/gmock.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "gtest/gtest.h"
#include "inventory/v1/command_service.grpc.pb.h"
#include "inventory/v1/event_stream_service.grpc.pb.h"
#include "inventory/v1/query_service.grpc.pb.h"
#include "tests/support/health_probe.h"
#include "tests/support/postgres_test_main.h"
#include "tests/support/service_process.h"

namespace inventory {
namespace {

namespace v1 = inventory::v1;
using ::grpc::StatusCode;
using test_support::ServiceProcess;
using test_support::Wire;

constexpr absl::Duration kCallTimeout = absl::Seconds(20);
// The log's last position once seeded, before the table.
constexpr int64_t kHead = 4;
// A position or version no test reaches.
constexpr int64_t kFuture = int64_t{1} << 62;

constexpr char kCreate[] = "/inventory.v1.CommandService/CreateItem";
constexpr char kRename[] = "/inventory.v1.CommandService/RenameItem";
constexpr char kCheckIn[] = "/inventory.v1.CommandService/CheckInItems";
constexpr char kRemove[] = "/inventory.v1.CommandService/RemoveItems";
constexpr char kDeactivate[] = "/inventory.v1.CommandService/DeactivateItem";
constexpr char kReactivate[] = "/inventory.v1.CommandService/ReactivateItem";
constexpr char kSubscribe[] = "/inventory.v1.EventStreamService/Subscribe";
constexpr char kGetItem[] = "/inventory.v1.QueryService/GetItem";
constexpr char kListItems[] = "/inventory.v1.QueryService/ListItems";
constexpr char kHistory[] = "/inventory.v1.QueryService/GetItemHistory";
constexpr char kStats[] = "/inventory.v1.QueryService/GetInventoryStats";
constexpr char kWatch[] = "/inventory.v1.QueryService/WatchItem";

bool IsStream(absl::string_view method) {
  return method == kSubscribe || method == kWatch;
}
bool OnCommandService(absl::string_view method) {
  return absl::StartsWith(method, "/inventory.v1.CommandService/") ||
         method == kSubscribe;
}

// --- Requests, byte by byte -------------------------------------------------

std::string Repeat(absl::string_view text, int times) {
  std::string out;
  for (int i = 0; i < times; ++i) out.append(text.data(), text.size());
  return out;
}

// Odd but valid strings, which must be stored and returned byte for byte.
const std::string kSqlName = "Robert'); DROP TABLE events;--";
const std::string kJsonName =
    R"({"name": "x\", "q": [1, {}]} \u0000 \\ $1 %s ' ")";
const std::string kRenamedSql = "'; DELETE FROM events WHERE true; --";
const std::string kLongName = Repeat("\xc3\xa9", 200);  // 200 characters
const std::string kSqlRequestId = "req'; DROP TABLE event_requests;--";

// Invalid UTF-8 of every kind.
constexpr absl::string_view kBadByte = "ab\xff";
constexpr absl::string_view kOverlong = "\xc0\xaf";
constexpr absl::string_view kSurrogate = "x\xed\xa0\x80";
constexpr absl::string_view kTruncated = "Caf\xc3";
constexpr absl::string_view kTooHigh = "\xf4\x90\x80\x80";
constexpr absl::string_view kStray = "\x80 start";

Wire Create(absl::string_view id, absl::string_view sku,
            absl::string_view name) {
  return Wire().Bytes(1, id).Bytes(2, sku).Bytes(3, name);
}

// --- Calls with raw bytes ---------------------------------------------------

struct RawReply {
  grpc::Status status;
  std::string message;  // the (first) response message, when there is one
};

std::string Flatten(const grpc::ByteBuffer& buffer) {
  std::vector<grpc::Slice> slices;
  std::string out;
  if (!buffer.Dump(&slices).ok()) return out;
  for (const grpc::Slice& slice : slices) {
    out.append(reinterpret_cast<const char*>(slice.begin()), slice.size());
  }
  return out;
}

void* Tag(intptr_t n) { return reinterpret_cast<void*>(n); }

// Waits for the one operation in flight on `cq`; returns its `ok`.
bool Await(grpc::CompletionQueue& cq) {
  void* tag = nullptr;
  bool ok = false;
  return cq.Next(&tag, &ok) && ok;
}

void Drain(grpc::CompletionQueue& cq) {
  cq.Shutdown();
  void* tag = nullptr;
  bool ok = false;
  while (cq.Next(&tag, &ok)) {
  }
}

RawReply CallUnary(grpc::GenericStub& stub, const std::string& method,
                   const std::string& bytes) {
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + kCallTimeout));
  grpc::CompletionQueue cq;
  grpc::Slice slice(bytes);
  const grpc::ByteBuffer request(&slice, 1);
  auto call = stub.PrepareUnaryCall(&context, method, request, &cq);
  call->StartCall();
  grpc::ByteBuffer response;
  RawReply reply;
  call->Finish(&response, &reply.status, Tag(1));
  Await(cq);
  if (reply.status.ok()) reply.message = Flatten(response);
  Drain(cq);
  return reply;
}

// A server-streaming call: sends the request, reads the first message (OK)
// or the status that ends the call without one.
RawReply CallStream(grpc::GenericStub& stub, const std::string& method,
                    const std::string& bytes) {
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + kCallTimeout));
  grpc::CompletionQueue cq;
  auto call = stub.PrepareCall(&context, method, &cq);
  call->StartCall(Tag(1));
  Await(cq);
  grpc::Slice slice(bytes);
  call->Write(grpc::ByteBuffer(&slice, 1), Tag(2));
  Await(cq);
  call->WritesDone(Tag(3));
  Await(cq);
  grpc::ByteBuffer first;
  call->Read(&first, Tag(4));
  RawReply reply;
  const bool got_message = Await(cq);
  if (got_message) {
    reply.message = Flatten(first);
    context.TryCancel();
  }
  grpc::Status status;
  call->Finish(&status, Tag(5));
  Await(cq);
  reply.status = got_message ? grpc::Status::OK : status;
  Drain(cq);
  return reply;
}

// --- The table ---------------------------------------------------------------

struct Row {
  Row(std::string what, const char* method, std::string request,
      StatusCode code, std::string field, int records = 0,
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
  StatusCode code;
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

// Words that would show SQL, the driver or a parser's internals leaking
// into an error message.
constexpr const char* kLeakWords[] = {
    "SELECT",   "INSERT",         "UPDATE ", "DELETE",   "FROM ",
    "WHERE",    "jsonb",          "pg_",     "pqxx",     "ERROR:",
    "SQLSTATE", "event_requests", "$1",      "relation", "syntax",
    "DROP",     "failed to parse"};

::testing::AssertionResult Matches(const Row& row, const RawReply& reply) {
  const grpc::Status& status = reply.status;
  if (status.error_code() != row.code) {
    return ::testing::AssertionFailure()
           << "got " << status.error_code() << " \"" << status.error_message()
           << "\", wanted " << row.code;
  }
  for (const char* word : kLeakWords) {
    if (absl::StrContains(status.error_message(), word)) {
      return ::testing::AssertionFailure()
             << "message leaks \"" << word << "\": " << status.error_message();
    }
  }
  if (!row.message_has.empty() &&
      !absl::StrContains(status.error_message(), row.message_has)) {
    return ::testing::AssertionFailure()
           << "message \"" << status.error_message() << "\" lacks \""
           << row.message_has << "\"";
  }
  google::rpc::Status details;
  const bool has_details = !status.error_details().empty() &&
                           details.ParseFromString(status.error_details());
  std::vector<google::rpc::ErrorInfo> infos;
  std::vector<google::rpc::BadRequest> bad_requests;
  for (const google::protobuf::Any& detail : details.details()) {
    if (detail.Is<google::rpc::ErrorInfo>()) {
      detail.UnpackTo(&infos.emplace_back());
    } else if (detail.Is<google::rpc::BadRequest>()) {
      detail.UnpackTo(&bad_requests.emplace_back());
    }
  }
  const std::string reason = !row.reason.empty()
                                 ? row.reason
                                 : (row.field.empty() ? "" : "INVALID_FIELD");
  if (!reason.empty()) {
    if (!has_details || infos.size() != 1 ||
        infos[0].domain() != "inventory.v1" || infos[0].reason() != reason) {
      return ::testing::AssertionFailure()
             << "no ErrorInfo of domain inventory.v1 with reason " << reason
             << " (details: " << details.ShortDebugString() << ")";
    }
  }
  if (row.code != StatusCode::INVALID_ARGUMENT)
    return ::testing::AssertionSuccess();

  const bool has_violation =
      bad_requests.size() == 1 && bad_requests[0].field_violations_size() == 1;
  if (row.field.empty()) {
    if (has_violation) {
      return ::testing::AssertionFailure()
             << "names field " << bad_requests[0].field_violations(0).field()
             << ", wanted none";
    }
    return ::testing::AssertionSuccess();
  }
  if (!has_violation) {
    return ::testing::AssertionFailure()
           << "no BadRequest with one field violation: "
           << status.error_message();
  }
  const auto& violation = bad_requests[0].field_violations(0);
  if (violation.field() != row.field || violation.description().empty() ||
      !absl::StartsWith(status.error_message(), row.field + ": ")) {
    return ::testing::AssertionFailure()
           << "names \"" << violation.field() << "\" (message \""
           << status.error_message() << "\"), wanted \"" << row.field << "\"";
  }
  return ::testing::AssertionSuccess();
}

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

// --- The services, shared ----------------------------------------------------

// Both services over one database of this binary's PostgreSQL server
// (postgres_test_main.h), seeded with two items (one deactivated) and real
// page tokens to misuse, then the table. Set up once per process, before
// the first test, and shared by every test: the rows run in table order,
// each against the store the rows before it left.
class BadInputServices : public ::testing::Environment {
 public:
  // The one instance, valid while tests run.
  static BadInputServices& Get() { return *instance_; }

  void SetUp() override {
    instance_ = this;
    auto url = test_support::TestPostgres().CreateDatabase("bad_input");
    ASSERT_TRUE(url.ok()) << url.status();
    url_ = *url;
    auto command = ServiceProcess::Start(
        COMMAND_SERVICE_BINARY,
        {"--listen=127.0.0.1:0", absl::StrCat("--database_url=", url_)});
    ASSERT_TRUE(command.ok()) << command.status();
    command_ = std::move(*command);
    auto query = ServiceProcess::Start(
        QUERY_SERVICE_BINARY,
        {"--listen=127.0.0.1:0",
         absl::StrCat("--command_service=", command_->address())});
    ASSERT_TRUE(query.ok()) << query.status();
    query_ = std::move(*query);
    command_channel_ = grpc::CreateChannel(command_->address(),
                                           grpc::InsecureChannelCredentials());
    query_channel_ = grpc::CreateChannel(query_->address(),
                                         grpc::InsecureChannelCredentials());
    command_raw_ = std::make_unique<grpc::GenericStub>(command_channel_);
    query_raw_ = std::make_unique<grpc::GenericStub>(query_channel_);
    ASSERT_TRUE(Serving(query_channel_));
    database_ = std::make_unique<pqxx::connection>(url_);
    ASSERT_NO_FATAL_FAILURE(Seed());
  }

  void TearDown() override {
    database_.reset();
    command_raw_.reset();
    query_raw_.reset();
    query_.reset();
    command_.reset();
    instance_ = nullptr;
  }

  // Brings the store to the state that row `index` (rows().size(): the
  // end of the table) expects: sends, without checking their answers, the
  // rows before it that this process has not run (those a --gtest_filter
  // left out), so that one row alone meets the store as in a full run.
  void CatchUpTo(size_t index) {
    ASSERT_LE(next_row_, index)
        << "rows must run in table order (not with --gtest_shuffle)";
    for (; next_row_ < index; ++next_row_) Call(rows_[next_row_]);
    next_row_ = index + 1;
  }

  static bool Serving(const std::shared_ptr<grpc::Channel>& channel) {
    auto health = grpc::health::v1::Health::NewStub(channel);
    return test_support::AwaitHealth(
        *health, "", grpc::health::v1::HealthCheckResponse::SERVING);
  }

  RawReply Call(const Row& row) {
    grpc::GenericStub& stub =
        OnCommandService(row.method) ? *command_raw_ : *query_raw_;
    return IsStream(row.method) ? CallStream(stub, row.method, row.request)
                                : CallUnary(stub, row.method, row.request);
  }

  // A valid call that must succeed; returns the response.
  std::string Ok(const char* method, const std::string& request) {
    const RawReply reply = Call(Row{"", method, request, StatusCode::OK, ""});
    EXPECT_TRUE(reply.status.ok())
        << method << ": " << reply.status.error_message();
    return reply.message;
  }

  std::vector<std::string> Query(const std::string& sql) {
    pqxx::nontransaction tx(*database_);
    std::vector<std::string> rows;
    for (const pqxx::row& row : tx.exec(sql)) {
      std::string line;
      for (const pqxx::field& field : row) {
        absl::StrAppend(&line, field.is_null() ? "NULL" : field.c_str(), "|");
      }
      rows.push_back(line);
    }
    return rows;
  }
  std::vector<std::string> EventLog() {
    return Query(
        "SELECT global_position, stream_id, stream_version, event_id, "
        "event_type, payload, metadata, recorded_at FROM events ORDER BY "
        "global_position");
  }
  std::vector<std::string> RequestLog() {
    return Query("SELECT * FROM event_requests ORDER BY request_id");
  }
  int64_t EventCount() {
    pqxx::nontransaction tx(*database_);
    return tx.exec1("SELECT count(*) FROM events")[0].as<int64_t>();
  }

  const std::vector<Row>& rows() const { return rows_; }
  const std::vector<std::string>& events_before() const {
    return events_before_;
  }
  const std::vector<std::string>& requests_before() const {
    return requests_before_;
  }
  const std::shared_ptr<grpc::Channel>& command_channel() const {
    return command_channel_;
  }
  const std::shared_ptr<grpc::Channel>& query_channel() const {
    return query_channel_;
  }

 private:
  // The store before the table: two items, one deactivated; the table, with
  // real page tokens.
  void Seed() {
    Ok(kCreate, Create("seed-1", "SEED-1", "Seed one"));
    Ok(kCheckIn, Wire().Bytes(1, "seed-1").Varint(2, 10));
    Ok(kCreate, Create("seed-off", "SEED-OFF", "Seed off"));
    const auto deactivated = Parse<v1::DeactivateItemResponse>(
        Ok(kDeactivate, Wire().Bytes(1, "seed-off")));
    const int64_t head = deactivated.global_position();
    ASSERT_EQ(head, kHead);
    // Real page tokens, to misuse.
    const auto listed = Parse<v1::ListItemsResponse>(
        Ok(kListItems, Wire().Varint(1, 1).Varint(6, head)));
    const auto history = Parse<v1::GetItemHistoryResponse>(
        Ok(kHistory, Wire().Bytes(1, "seed-1").Varint(2, 1).Varint(4, head)));
    ASSERT_FALSE(listed.next_page_token().empty());
    ASSERT_FALSE(history.next_page_token().empty());

    events_before_ = EventLog();
    requests_before_ = RequestLog();
    ASSERT_EQ(events_before_.size(), 4u);
    rows_ = Table(head, listed.next_page_token(), history.next_page_token());
    // The rows the tests were named after (RowNames), in the same order.
    ASSERT_EQ(rows_.size(), RowNames().size());
    for (size_t i = 0; i < rows_.size(); ++i) {
      ASSERT_EQ(RowName(i, rows_[i]), RowNames()[i]);
    }
  }

  static BadInputServices* instance_;
  std::string url_;
  std::unique_ptr<ServiceProcess> command_;
  std::unique_ptr<ServiceProcess> query_;
  std::shared_ptr<grpc::Channel> command_channel_;
  std::shared_ptr<grpc::Channel> query_channel_;
  std::unique_ptr<grpc::GenericStub> command_raw_;
  std::unique_ptr<grpc::GenericStub> query_raw_;
  std::unique_ptr<pqxx::connection> database_;
  std::vector<Row> rows_;
  std::vector<std::string> events_before_;
  std::vector<std::string> requests_before_;
  size_t next_row_ = 0;  // the first row not yet sent
};

BadInputServices* BadInputServices::instance_ = nullptr;

// Owned by GoogleTest, which sets it up after main() has started
// PostgreSQL and tears it down before PostgreSQL stops.
[[maybe_unused]] ::testing::Environment* const kServices =
    ::testing::AddGlobalTestEnvironment(new BadInputServices);

// --- The tests ---------------------------------------------------------------

// One test per row, named after it ("017_CreateItem_name_of_only_spaces").
class BadInputTest : public ::testing::TestWithParam<size_t> {};

TEST_P(BadInputTest, IsAnsweredAsItsRowSaysAndRecordsOnlyItsEvents) {
  BadInputServices& services = BadInputServices::Get();
  ASSERT_NO_FATAL_FAILURE(services.CatchUpTo(GetParam()));
  const Row& row = services.rows()[GetParam()];
  SCOPED_TRACE(absl::StrCat(row.method, ": ", row.what));
  const int64_t count_before = services.EventCount();
  const RawReply reply = services.Call(row);
  EXPECT_TRUE(Matches(row, reply));
  if (reply.status.ok() && row.code == StatusCode::OK && row.check) {
    row.check(reply.message);
  }
  EXPECT_EQ(services.EventCount(), count_before + row.records);
}

INSTANTIATE_TEST_SUITE_P(Table, BadInputTest,
                         ::testing::Range(size_t{0}, RowNames().size()),
                         [](const ::testing::TestParamInfo<size_t>& info) {
                           return RowNames()[info.param];
                         });

// After every row (a parameterized suite, so that GoogleTest runs it after
// the rows' suite; its one parameter is the whole table).
class AfterTheTableTest : public ::testing::TestWithParam<const char*> {};

TEST_P(AfterTheTableTest, LogHoldsOnlyTheValidRowsEventsAndBothServicesServe) {
  BadInputServices& services = BadInputServices::Get();
  ASSERT_NO_FATAL_FAILURE(services.CatchUpTo(services.rows().size()));
  int64_t recorded = 0;
  for (const Row& row : services.rows()) recorded += row.records;
  RecordProperty("rows", static_cast<int>(services.rows().size()));
  ASSERT_GE(services.rows().size(), 50u);

  // The log: what was there, untouched, then only the valid rows' events.
  const std::vector<std::string>& events_before = services.events_before();
  const std::vector<std::string> events_after = services.EventLog();
  ASSERT_EQ(static_cast<int64_t>(events_after.size()),
            static_cast<int64_t>(events_before.size()) + recorded);
  EXPECT_TRUE(std::equal(events_before.begin(), events_before.end(),
                         events_after.begin()));
  std::vector<std::string> added_streams;
  for (size_t i = events_before.size(); i < events_after.size(); ++i) {
    added_streams.push_back(
        events_after[i].substr(0, events_after[i].find('|', 3)));
  }
  const std::vector<std::string> expected = {
      "5|item-sql-1",     "6|item-json-1", "7|item-long-1",
      "8|item-unknown-1", "9|item-sql-1",  "10|item-seed-1"};
  EXPECT_EQ(added_streams, expected);
  // One idempotency record more: the valid request_id, verbatim.
  const std::vector<std::string> requests_after = services.RequestLog();
  ASSERT_EQ(requests_after.size(), services.requests_before().size() + 1);
  EXPECT_EQ(services.Query("SELECT request_id FROM event_requests"),
            std::vector<std::string>{kSqlRequestId + "|"});

  // The odd strings, byte for byte, in PostgreSQL.
  EXPECT_EQ(
      services.Query("SELECT payload->>'name' FROM events WHERE stream_id IN "
                     "('item-sql-1', 'item-json-1', 'item-long-1') ORDER BY "
                     "global_position"),
      (std::vector<std::string>{kSqlName + "|", kJsonName + "|",
                                kLongName + "|", kRenamedSql + "|"}));
  EXPECT_EQ(services.Query("SELECT metadata->>'request_id' FROM events WHERE "
                           "global_position = 10"),
            std::vector<std::string>{kSqlRequestId + "|"});

  // Both services still serve, and still take commands.
  EXPECT_TRUE(BadInputServices::Serving(services.command_channel()));
  EXPECT_TRUE(BadInputServices::Serving(services.query_channel()));
  services.Ok(kCheckIn, Wire().Bytes(1, "seed-1").Varint(2, 1));
  EXPECT_EQ(services.EventCount(), 11);
}

INSTANTIATE_TEST_SUITE_P(Table, AfterTheTableTest,
                         ::testing::Values("EveryRow"),
                         [](const ::testing::TestParamInfo<const char*>& info) {
                           return std::string(info.param);
                         });

}  // namespace
}  // namespace inventory
