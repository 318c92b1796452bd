// CommandService through a real gRPC server (command_server_fixture.h), over
// both event stores: every RPC and error code, the ErrorInfo reason of
// every refusal, request_id replays, correlation ids and deadlines.
#include <grpcpp/grpcpp.h>

#include "tests/command_server_fixture.h"

namespace inventory::command_server_testing {
namespace {

class CommandServiceTest : public ServerTest {};

TEST_P(CommandServiceTest, EveryCommandSucceedsWithVersionAndPosition) {
  EXPECT_TRUE(Applied(Send(Create("w1", "SKU-1", "Widget")), "w1", 1, 1));
  EXPECT_TRUE(Applied(Send(Create("w2", "SKU-2", "Gadget")), "w2", 1, 2));
  EXPECT_TRUE(Applied(Send(Rename("w1", "Blue widget", 1)), "w1", 2, 3));
  EXPECT_TRUE(Applied(Send(CheckIn("w1", 10)), "w1", 3, 4));
  EXPECT_TRUE(Applied(Send(Remove("w1", 4, 3)), "w1", 4, 5));
  EXPECT_TRUE(Applied(Send(Deactivate("w1")), "w1", 5, 6));
  EXPECT_TRUE(Applied(Send(Reactivate("w1", 5)), "w1", 6, 7));
  EXPECT_TRUE(Applied(Send(CheckIn("w2", 1'000'000, 1)), "w2", 2, 8));
  // Removing exactly what is on hand is allowed.
  EXPECT_TRUE(Applied(Send(Remove("w1", 6)), "w1", 7, 9));
  EXPECT_EQ(Head(), 9);

  // What was recorded, as the event stream publishes it.
  auto subscription = SubscribeCaughtUp();
  const std::vector<v1::Event> events = EventsOf(subscription->messages());
  ASSERT_EQ(events.size(), 9u) << Describe(subscription->messages());
  std::vector<std::string> summary;
  for (const v1::Event& e : events) {
    summary.push_back(absl::StrCat(e.global_position(), " ", e.stream_id(),
                                   " v", e.stream_version(), " ",
                                   e.event_type()));
    EXPECT_FALSE(e.event_id().empty());
    EXPECT_GT(e.recorded_at().seconds(), 0);
  }
  EXPECT_THAT(summary, ElementsAre(absl::StrCat("1 item-w1 v1 ", kCreated),
                                   absl::StrCat("2 item-w2 v1 ", kCreated),
                                   absl::StrCat("3 item-w1 v2 ", kRenamed),
                                   absl::StrCat("4 item-w1 v3 ", kCheckedIn),
                                   absl::StrCat("5 item-w1 v4 ", kRemoved),
                                   absl::StrCat("6 item-w1 v5 ", kDeactivated),
                                   absl::StrCat("7 item-w1 v6 ", kReactivated),
                                   absl::StrCat("8 item-w2 v2 ", kCheckedIn),
                                   absl::StrCat("9 item-w1 v7 ", kRemoved)));
  EXPECT_EQ(events[0].item_created().item_id(), "w1");
  EXPECT_EQ(events[0].item_created().sku(), "SKU-1");
  EXPECT_EQ(events[0].item_created().name(), "Widget");
  EXPECT_EQ(events[2].item_renamed().name(), "Blue widget");
  EXPECT_EQ(events[3].items_checked_in().quantity(), 10);
  EXPECT_EQ(events[4].items_removed().quantity(), 4);
  EXPECT_EQ(events[5].item_deactivated().item_id(), "w1");
  EXPECT_EQ(events[6].item_reactivated().item_id(), "w1");
  EXPECT_EQ(events[7].items_checked_in().quantity(), 1'000'000);
  EXPECT_EQ(events[8].items_removed().quantity(), 6);
}

TEST_P(CommandServiceTest, MalformedFieldsAreInvalidArgumentNamingTheField) {
  ASSERT_TRUE(Applied(Send(Create("ok")), "ok", 1, 1));
  struct Case {
    std::string what;
    std::function<Reply()> call;
    std::string field;
  };
  const std::string long_request_id(129, 'r');
  const std::vector<Case> cases = {
      {"empty item_id", [&] { return Send(Create("")); }, "item_id"},
      {"item_id with a space", [&] { return Send(Create("a b")); }, "item_id"},
      {"item_id of 65", [&] { return Send(Create(std::string(65, 'a'))); },
       "item_id"},
      {"non-ASCII item_id", [&] { return Send(Create("caf\xC3\xA9")); },
       "item_id"},
      {"sku too short", [&] { return Send(Create("a", "AB")); }, "sku"},
      {"sku too long", [&] { return Send(Create("a", std::string(33, 'A'))); },
       "sku"},
      {"lowercase sku", [&] { return Send(Create("a", "sku-1")); }, "sku"},
      {"empty name", [&] { return Send(Create("a", "SKU-1", "")); }, "name"},
      {"blank name", [&] { return Send(Create("a", "SKU-1", "   ")); }, "name"},
      {"name of 201",
       [&] { return Send(Create("a", "SKU-1", std::string(201, 'n'))); },
       "name"},
      {"name with a control character",
       [&] { return Send(Create("a", "SKU-1", "bad\x01name")); }, "name"},
      {"rename to empty name", [&] { return Send(Rename("ok", "")); }, "name"},
      {"rename bad item_id", [&] { return Send(Rename("a.b", "New")); },
       "item_id"},
      {"check in 0", [&] { return Send(CheckIn("ok", 0)); }, "quantity"},
      {"check in -1", [&] { return Send(CheckIn("ok", -1)); }, "quantity"},
      {"check in 1000001", [&] { return Send(CheckIn("ok", 1'000'001)); },
       "quantity"},
      {"remove 0", [&] { return Send(Remove("ok", 0)); }, "quantity"},
      {"remove int64 max",
       [&] { return Send(Remove("ok", std::numeric_limits<int64_t>::max())); },
       "quantity"},
      {"check in bad item_id", [&] { return Send(CheckIn("", 1)); }, "item_id"},
      {"remove bad item_id", [&] { return Send(Remove("a/b", 1)); }, "item_id"},
      {"deactivate bad item_id", [&] { return Send(Deactivate("")); },
       "item_id"},
      {"reactivate bad item_id", [&] { return Send(Reactivate("a b")); },
       "item_id"},
      {"rename expected_version -1",
       [&] { return Send(Rename("ok", "New", -1)); }, "expected_version"},
      {"check in expected_version -1",
       [&] { return Send(CheckIn("ok", 1, -1)); }, "expected_version"},
      {"remove expected_version -5", [&] { return Send(Remove("ok", 1, -5)); },
       "expected_version"},
      {"deactivate expected_version -1",
       [&] { return Send(Deactivate("ok", -1)); }, "expected_version"},
      {"reactivate expected_version min",
       [&] {
         return Send(Reactivate("ok", std::numeric_limits<int64_t>::min()));
       },
       "expected_version"},
      {"create request_id of 129",
       [&] { return Send(Create("a", "SKU-1", "A", long_request_id)); },
       "request_id"},
      {"check in request_id of 129",
       [&] { return Send(CheckIn("ok", 1, std::nullopt, long_request_id)); },
       "request_id"},
      {"request_id with a newline",
       [&] { return Send(Deactivate("ok", std::nullopt, "req\n1")); },
       "request_id"},
      {"x-correlation-id of 129",
       [&] { return Send(Create("a"), std::string(129, 'c')); },
       "x-correlation-id"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    EXPECT_TRUE(NamesField(c.call().status, c.field));
  }
  // A name that is not UTF-8 never reaches the service: the protobuf
  // runtime refuses to parse a proto3 string that is not UTF-8, and gRPC
  // itself answers (INTERNAL, without field details). Refused all the same.
  const Reply not_utf8 = Send(Create("a", "SKU-1", "bad\xFFname"));
  EXPECT_FALSE(not_utf8.status.ok());
  EXPECT_NE(not_utf8.status.error_code(), StatusCode::UNAVAILABLE);
  // Nothing was recorded.
  EXPECT_EQ(Head(), 1);
  // Limits themselves are accepted.
  EXPECT_TRUE(
      Applied(Send(Create(std::string(64, 'a'), std::string(32, 'A'),
                          std::string(200, 'n'), std::string(128, 'r'))),
              std::string(64, 'a'), 1, 2));
}

TEST_P(CommandServiceTest, UnknownItemIsNotFound) {
  EXPECT_TRUE(HasCode(Send(Rename("ghost", "Name")), StatusCode::NOT_FOUND));
  EXPECT_TRUE(HasCode(Send(Rename("ghost", "Name", 0)), StatusCode::NOT_FOUND));
  EXPECT_TRUE(HasCode(Send(CheckIn("ghost", 1)), StatusCode::NOT_FOUND));
  EXPECT_TRUE(HasCode(Send(Remove("ghost", 1)), StatusCode::NOT_FOUND));
  EXPECT_TRUE(HasCode(Send(Deactivate("ghost")), StatusCode::NOT_FOUND));
  EXPECT_TRUE(HasCode(Send(Reactivate("ghost")), StatusCode::NOT_FOUND));
  // Item ids are case-sensitive.
  ASSERT_TRUE(Applied(Send(Create("Thing")), "Thing", 1, 1));
  EXPECT_TRUE(HasCode(Send(CheckIn("thing", 1)), StatusCode::NOT_FOUND));
  EXPECT_EQ(Head(), 1);
}

TEST_P(CommandServiceTest, ExistingItemOrReusedRequestIdIsAlreadyExists) {
  ASSERT_TRUE(Applied(Send(Create("a", "SKU-1", "A")), "a", 1, 1));
  EXPECT_TRUE(
      HasCode(Send(Create("a", "SKU-1", "A")), StatusCode::ALREADY_EXISTS));
  EXPECT_TRUE(
      HasCode(Send(Create("a", "SKU-2", "Other")), StatusCode::ALREADY_EXISTS));

  // A request_id reused for another command.
  ASSERT_TRUE(Applied(Send(Create("b", "SKU-1", "B", "req-1")), "b", 1, 2));
  EXPECT_TRUE(HasCode(Send(CheckIn("b", 5, std::nullopt, "req-1")),
                      StatusCode::ALREADY_EXISTS));
  EXPECT_TRUE(HasCode(Send(Create("c", "SKU-1", "B", "req-1")),
                      StatusCode::ALREADY_EXISTS));
  EXPECT_TRUE(HasCode(Send(Create("b", "SKU-1", "Other", "req-1")),
                      StatusCode::ALREADY_EXISTS));
  // Same command, different expected_version: a different request.
  ASSERT_TRUE(Applied(Send(CheckIn("b", 5, std::nullopt, "req-2")), "b", 2, 3));
  EXPECT_TRUE(
      HasCode(Send(CheckIn("b", 5, 1, "req-2")), StatusCode::ALREADY_EXISTS));
  EXPECT_TRUE(HasCode(Send(CheckIn("b", 6, std::nullopt, "req-2")),
                      StatusCode::ALREADY_EXISTS));
  EXPECT_EQ(Head(), 3);
}

TEST_P(CommandServiceTest, BusinessRulesAreFailedPrecondition) {
  ASSERT_TRUE(Applied(Send(Create("a", "SKU-1", "Widget")), "a", 1, 1));
  ASSERT_TRUE(Applied(Send(CheckIn("a", 5)), "a", 2, 2));

  const Reply too_much = Send(Remove("a", 6));
  EXPECT_TRUE(HasCode(too_much, StatusCode::FAILED_PRECONDITION));
  EXPECT_THAT(too_much.status.error_message(), HasSubstr("only 5 on hand"));
  EXPECT_TRUE(
      HasCode(Send(Rename("a", "Widget")), StatusCode::FAILED_PRECONDITION));
  // The name is trimmed before it is compared.
  EXPECT_TRUE(HasCode(Send(Rename("a", "  Widget \t")),
                      StatusCode::FAILED_PRECONDITION));
  EXPECT_TRUE(HasCode(Send(Reactivate("a")), StatusCode::FAILED_PRECONDITION));

  ASSERT_TRUE(Applied(Send(Deactivate("a")), "a", 3, 3));
  EXPECT_TRUE(
      HasCode(Send(Rename("a", "New name")), StatusCode::FAILED_PRECONDITION));
  EXPECT_TRUE(HasCode(Send(CheckIn("a", 1)), StatusCode::FAILED_PRECONDITION));
  EXPECT_TRUE(HasCode(Send(Remove("a", 1)), StatusCode::FAILED_PRECONDITION));
  EXPECT_TRUE(HasCode(Send(Deactivate("a")), StatusCode::FAILED_PRECONDITION));
  EXPECT_EQ(Head(), 3);
}

TEST_P(CommandServiceTest, StaleExpectedVersionIsAbortedWithCurrentVersion) {
  ASSERT_TRUE(Applied(Send(Create("a")), "a", 1, 1));
  ASSERT_TRUE(Applied(Send(CheckIn("a", 5, 1)), "a", 2, 2));

  const std::vector<Reply> stale = {
      Send(Rename("a", "New", 1)), Send(CheckIn("a", 1, 5)),
      Send(Remove("a", 1, 0)),     Send(Deactivate("a", 1)),
      Send(Reactivate("a", 3)),
  };
  const std::vector<std::string> expected = {"1", "5", "0", "1", "3"};
  for (size_t i = 0; i < stale.size(); ++i) {
    const Reply& reply = stale[i];
    EXPECT_TRUE(
        Refused(reply, StatusCode::ABORTED, "VERSION_CONFLICT",
                {{"expected_version", expected[i]}, {"actual_version", "2"}}));
    // The message names both versions.
    EXPECT_THAT(reply.status.error_message(), HasSubstr("version 2"));
    EXPECT_THAT(reply.status.error_message(),
                HasSubstr("expected " + expected[i]));
  }
  EXPECT_EQ(Head(), 2);
  EXPECT_TRUE(Applied(Send(Rename("a", "New", 2)), "a", 3, 3));
}

// Every refusal the command side makes, each through the API, with the
// ErrorInfo reason (and metadata) a client program branches on. The
// store's UNAVAILABLE reasons are in DatabaseOutageTest, Subscribe's
// LOG_POSITION_OUT_OF_RANGE in EventStreamTest.
TEST_P(CommandServiceTest, EveryRefusalCarriesItsReason) {
  ASSERT_TRUE(
      Applied(Send(Create("a", "SKU-1", "Widget", "req-1")), "a", 1, 1));
  ASSERT_TRUE(Applied(Send(CheckIn("a", 5)), "a", 2, 2));
  ASSERT_TRUE(Applied(Send(Create("off")), "off", 1, 3));
  ASSERT_TRUE(Applied(Send(Deactivate("off")), "off", 2, 4));
  // Stock at INT64_MAX takes millions of commands through the API; the
  // event goes into the store directly.
  ASSERT_TRUE(Applied(Send(Create("full")), "full", 1, 5));
  absl::StatusOr<EventData> full = ToEventData(
      ItemsCheckedIn{"full", std::numeric_limits<int64_t>::max()}, {});
  ASSERT_TRUE(full.ok()) << full.status();
  AppendRequest fill;
  fill.stream_id = "item-full";
  fill.expected_version = ExpectedVersion::Exact(1);
  fill.events.push_back(*full);
  ASSERT_THAT(node_->store->Append(fill), IsOk());

  struct Case {
    std::string reason;
    std::function<Reply()> send;
    StatusCode code;
    std::map<std::string, std::string> metadata = {};
  };
  const std::vector<Case> cases = {
      {"INVALID_FIELD", [&] { return Send(CheckIn("a", 0)); },
       StatusCode::INVALID_ARGUMENT},
      {"ITEM_NOT_FOUND", [&] { return Send(CheckIn("ghost", 1)); },
       StatusCode::NOT_FOUND},
      {"ITEM_ALREADY_EXISTS", [&] { return Send(Create("a")); },
       StatusCode::ALREADY_EXISTS},
      {"REQUEST_ID_REUSED",
       [&] { return Send(CheckIn("a", 1, std::nullopt, "req-1")); },
       StatusCode::ALREADY_EXISTS},
      {"VERSION_CONFLICT",
       [&] { return Send(CheckIn("a", 1, 1)); },
       StatusCode::ABORTED,
       {{"expected_version", "1"}, {"actual_version", "2"}}},
      {"INSUFFICIENT_STOCK",
       [&] { return Send(Remove("a", 6)); },
       StatusCode::FAILED_PRECONDITION,
       {{"requested_quantity", "6"}, {"quantity_on_hand", "5"}}},
      {"ITEM_INACTIVE", [&] { return Send(CheckIn("off", 1)); },
       StatusCode::FAILED_PRECONDITION},
      {"ITEM_ALREADY_ACTIVE", [&] { return Send(Reactivate("a")); },
       StatusCode::FAILED_PRECONDITION},
      {"SAME_NAME", [&] { return Send(Rename("a", "Widget")); },
       StatusCode::FAILED_PRECONDITION},
      {"QUANTITY_OVERFLOW", [&] { return Send(CheckIn("full", 1)); },
       StatusCode::FAILED_PRECONDITION},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.reason);
    EXPECT_TRUE(Refused(c.send(), c.code, c.reason, c.metadata));
  }
  EXPECT_EQ(Head(), 6);

  // Another writer wins every race for the item's next version: the
  // handler gives up after its attempts (the default, 5).
  ASSERT_TRUE(Applied(Send(Create("busy")), "busy", 1, 7));
  // Each of the handler's appends (exactly its 5 attempts) loses to
  // another writer that appends first.
  MockEventStore& store = *node_->store;
  EXPECT_CALL(store, Append(::testing::_))
      .Times(5)
      .WillRepeatedly([&store](const AppendRequest& request) {
        absl::StatusOr<EventData> one =
            ToEventData(ItemsCheckedIn{"busy", 1}, {});
        EXPECT_TRUE(one.ok()) << one.status();
        if (one.ok()) {
          AppendRequest other;
          other.stream_id = "item-busy";
          other.expected_version = ExpectedVersion::Any();
          other.events.push_back(*std::move(one));
          EXPECT_THAT(store.real().Append(other), IsOk());
        }
        return store.real().Append(request);
      });
  EXPECT_TRUE(Refused(Send(CheckIn("busy", 1)), StatusCode::ABORTED,
                      "CONCURRENT_MODIFICATION", {{"attempts", "5"}}));
}

TEST_P(CommandServiceTest, RepeatedRequestIdReplaysTheOriginalResponse) {
  const std::string long_id(128, 'k');  // the longest allowed request_id
  std::vector<std::function<Reply()>> commands = {
      [&] { return Send(Create("a", "SKU-1", "A", long_id)); },
      [&] { return Send(Rename("a", "B", 1, "rename-1")); },
      [&] { return Send(CheckIn("a", 9, std::nullopt, "check-in-1")); },
      [&] { return Send(Remove("a", 4, 3, "remove-1")); },
      [&] { return Send(Deactivate("a", std::nullopt, "deactivate-1")); },
      [&] { return Send(Reactivate("a", 5, "reactivate-1")); },
  };
  std::vector<Reply> originals;
  for (size_t i = 0; i < commands.size(); ++i) {
    originals.push_back(commands[i]());
    const int64_t n = static_cast<int64_t>(i) + 1;
    ASSERT_TRUE(Applied(originals.back(), "a", n, n)) << "command " << i;
  }
  ASSERT_TRUE(Applied(Send(CheckIn("a", 1)), "a", 7, 7));

  // Each again, now that the item has moved on (a stale expected_version
  // or a broken business rule does not matter for a replay).
  for (size_t i = 0; i < commands.size(); ++i) {
    SCOPED_TRACE(absl::StrCat("command ", i));
    const Reply again = commands[i]();
    ASSERT_TRUE(again.status.ok()) << Describe(again.status);
    EXPECT_TRUE(again.replayed);
    EXPECT_EQ(again.item_id, originals[i].item_id);
    EXPECT_EQ(again.version, originals[i].version);
    EXPECT_EQ(again.global_position, originals[i].global_position);
  }
  EXPECT_EQ(Head(), 7);

  auto subscription = SubscribeCaughtUp();
  EXPECT_THAT(PositionsOf(subscription->messages()),
              ElementsAreArray(Range(1, 7)));
}

TEST_P(CommandServiceTest, CorrelationIdFromMetadataLandsInEventMetadata) {
  ASSERT_TRUE(
      Applied(Send(Create("c", "SKU-1", "C", "req-c"), "corr-42"), "c", 1, 1));
  ASSERT_TRUE(Applied(Send(CheckIn("c", 3), "corr-43"), "c", 2, 2));
  ASSERT_TRUE(Applied(Send(CheckIn("c", 4)), "c", 3, 3));

  auto subscription = SubscribeCaughtUp();
  const std::vector<v1::Event> events = EventsOf(subscription->messages());
  ASSERT_EQ(events.size(), 3u) << Describe(subscription->messages());
  EXPECT_EQ(events[0].metadata().correlation_id(), "corr-42");
  EXPECT_EQ(events[0].metadata().request_id(), "req-c");
  EXPECT_EQ(events[0].metadata().causation_id(), "req-c");
  EXPECT_EQ(events[1].metadata().correlation_id(), "corr-43");
  EXPECT_EQ(events[1].metadata().request_id(), "");
  EXPECT_FALSE(events[1].metadata().causation_id().empty());
  // Without the header a command starts a correlation of its own.
  EXPECT_FALSE(events[2].metadata().correlation_id().empty());
  EXPECT_EQ(events[2].metadata().correlation_id(),
            events[2].metadata().causation_id());
  EXPECT_NE(events[2].metadata().causation_id(),
            events[1].metadata().causation_id());
}

TEST_P(CommandServiceTest, ExpiredDeadlineIsDeadlineExceeded) {
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() - absl::Seconds(1)));
  v1::CreateItemResponse response;
  const grpc::Status status =
      node_->commands().CreateItem(&context, Create("late"), &response);
  EXPECT_TRUE(HasCode(status, StatusCode::DEADLINE_EXCEEDED));
  EXPECT_EQ(Head(), 0);
  // The item can still be created: nothing half-done remains.
  EXPECT_TRUE(Applied(Send(Create("late")), "late", 1, 1));
}

INSTANTIATE_TEST_SUITE_P(Stores, CommandServiceTest,
                         ::testing::Values(StoreKind::kInMemory,
                                           StoreKind::kPostgres),
                         StoreKindName);

}  // namespace
}  // namespace inventory::command_server_testing
