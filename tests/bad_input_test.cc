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
// processes still serve. No error message leaks SQL or internals. The
// rows themselves, and the requests byte by byte, are in
// bad_input_table.h and bad_input_table.cc; this file sends them.
//
// Each row is a test of its own (Table/BadInputTest.*/NNN_<RPC>_<what>).
// All rows run in one process, against one pair of services, in table
// order: CTest runs the binary once and lists each row as a test of its
// own, whose verdict comes from that one run's JSON report
// (inventory_process_test(... EACH_CASE) in tests/CMakeLists.txt,
// tests/support/gtest_case_result.py). A row run alone (--gtest_filter)
// still first sends the rows before it, unchecked, so that it meets the
// store a full run would.
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <pqxx/pqxx>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
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
#include "tests/bad_input_table.h"
#include "tests/support/channels.h"
#include "tests/support/health_probe.h"
#include "tests/support/postgres_test_main.h"
#include "tests/support/service_process.h"

namespace inventory {
namespace bad_input {
namespace {

namespace v1 = inventory::v1;
using ::grpc::StatusCode;
using test_support::ServiceProcess;
using test_support::Wire;

constexpr absl::Duration kCallTimeout = absl::Seconds(20);

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
    command_channel_ = test_support::ChannelTo(command_->address());
    query_channel_ = test_support::ChannelTo(query_->address());
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
}  // namespace bad_input
}  // namespace inventory
