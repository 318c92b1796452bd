#include "command-service/application/item_command_handler.h"

#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "command-service/application/item_event_codec.h"
#include "common/base/error_reason.h"
#include "common/base/field_violation.h"
#include "common/base/status_matchers.h"
#include "common/eventstore/mock_event_store.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace inventory {
namespace {

using ::testing::_;
using ::testing::DoDefault;
using ::testing::Eq;
using ::testing::HasSubstr;
using ::testing::Return;
using ::testing::SizeIs;

ItemId Id(absl::string_view id) { return ItemId::Create(id).value(); }

CommandEnvelope Of(ItemCommand command) {
  return CommandEnvelope{std::move(command), std::nullopt, "", ""};
}

CommandEnvelope Create(absl::string_view id,
                       absl::string_view name = "Widget") {
  return Of(CreateItem{Id(id), Sku::Create("SKU-1").value(),
                       ItemName::Create(name).value()});
}

CommandEnvelope CheckIn(absl::string_view id, int64_t quantity) {
  return Of(CheckInItems{Id(id), Quantity::Create(quantity).value()});
}

class ItemCommandHandlerTest : public testing::Test {
 protected:
  // Appends one ItemsCheckedIn to `id` directly, as another writer would.
  void OtherWriterChecksIn(absl::string_view id) {
    auto data = ToEventData(ItemEvent(ItemsCheckedIn{std::string(id), 1}), {});
    ASSERT_TRUE(data.ok());
    AppendRequest append;
    append.stream_id = Id(id).StreamId();
    append.events.push_back(*data);
    ASSERT_THAT(store_.real().Append(append), IsOk());
  }
  // An Append action: another writer commits to `id` first, then the
  // handler's append goes to the store (and loses the race).
  auto OtherWriterWinsOn(absl::string_view id) {
    return [this, id](const AppendRequest& request) {
      OtherWriterChecksIn(id);
      return store_.real().Append(request);
    };
  }
  int64_t LogSize() { return *store_.real().HeadPosition(); }

  NiceMockEventStore store_;
  ItemCommandHandler handler_{&store_, {}};
};

TEST_F(ItemCommandHandlerTest, CreateRecordsItemCreated) {
  auto result = handler_.Handle(Create("a-1", "  Blue widget "));
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->item_id, "a-1");
  EXPECT_EQ(result->version, 1);
  EXPECT_EQ(result->global_position, 1);
  EXPECT_FALSE(result->replayed);

  auto events = store_.real().ReadStream("item-a-1", 1, 10);
  ASSERT_TRUE(events.ok());
  ASSERT_THAT(*events, SizeIs(1));
  EXPECT_EQ((*events)[0].event_type, "inventory.v1.ItemCreated");
  auto event = ItemEventFromRecorded((*events)[0]);
  ASSERT_TRUE(event.ok());
  const auto* created = std::get_if<ItemCreated>(&*event);
  ASSERT_NE(created, nullptr);
  EXPECT_EQ(created->name, "Blue widget");
  EXPECT_EQ(created->sku, "SKU-1");
}

TEST_F(ItemCommandHandlerTest, CommandsBuildOnTheReplayedState) {
  ASSERT_TRUE(handler_.Handle(Create("a-1")).ok());
  ASSERT_TRUE(handler_.Handle(CheckIn("a-1", 10)).ok());
  ASSERT_TRUE(
      handler_.Handle(Of(RemoveItems{Id("a-1"), Quantity::Create(4).value()}))
          .ok());
  ASSERT_TRUE(
      handler_
          .Handle(Of(RenameItem{Id("a-1"), ItemName::Create("Gadget").value()}))
          .ok());
  ASSERT_TRUE(handler_.Handle(Of(DeactivateItem{Id("a-1")})).ok());
  auto result = handler_.Handle(Of(ReactivateItem{Id("a-1")}));
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->version, 6);

  auto state = handler_.Load(Id("a-1"));
  ASSERT_TRUE(state.ok());
  EXPECT_TRUE(state->exists);
  EXPECT_TRUE(state->active);
  EXPECT_EQ(state->name, "Gadget");
  EXPECT_EQ(state->quantity_on_hand, 6);
  EXPECT_EQ(state->version, 6);
}

TEST_F(ItemCommandHandlerTest, RefusedCommandAppendsNothing) {
  EXPECT_THAT(handler_.Handle(CheckIn("nope", 1)),
              StatusIs(absl::StatusCode::kNotFound));
  ASSERT_TRUE(handler_.Handle(Create("a-1")).ok());
  EXPECT_THAT(handler_.Handle(Create("a-1")),
              StatusIs(absl::StatusCode::kAlreadyExists));
  auto removed =
      handler_.Handle(Of(RemoveItems{Id("a-1"), Quantity::Create(1).value()}));
  EXPECT_THAT(removed, StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_EQ(LogSize(), 1);
}

TEST_F(ItemCommandHandlerTest, LoadsLongStreamsPageByPage) {
  ASSERT_TRUE(handler_.Handle(Create("a-1")).ok());
  auto data = ToEventData(ItemEvent(ItemsCheckedIn{"a-1", 1}), {});
  ASSERT_TRUE(data.ok());
  AppendRequest many;
  many.stream_id = "item-a-1";
  many.events.assign(1200, *data);
  ASSERT_TRUE(store_.real().Append(many).ok());
  auto state = handler_.Load(Id("a-1"));
  ASSERT_TRUE(state.ok());
  EXPECT_EQ(state->version, 1201);
  EXPECT_EQ(state->quantity_on_hand, 1200);
}

TEST_F(ItemCommandHandlerTest, MatchingExpectedVersionApplies) {
  ASSERT_TRUE(handler_.Handle(Create("a-1")).ok());
  CommandEnvelope command = CheckIn("a-1", 5);
  command.expected_version = 1;
  auto result = handler_.Handle(command);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->version, 2);
}

TEST_F(ItemCommandHandlerTest,
       StaleExpectedVersionIsAbortedWithCurrentVersion) {
  ASSERT_TRUE(handler_.Handle(Create("a-1")).ok());
  ASSERT_TRUE(handler_.Handle(CheckIn("a-1", 5)).ok());
  CommandEnvelope command = CheckIn("a-1", 5);
  command.expected_version = 1;
  auto result = handler_.Handle(command);
  EXPECT_THAT(result,
              StatusIs(absl::StatusCode::kAborted, HasSubstr("version 2")));
  EXPECT_EQ(
      ErrorReasonOf(result.status()),
      (ErrorReason{"VERSION_CONFLICT",
                   {{"expected_version", "1"}, {"actual_version", "2"}}}));
  EXPECT_EQ(LogSize(), 2);
}

TEST_F(ItemCommandHandlerTest, NegativeExpectedVersionIsInvalid) {
  CommandEnvelope command = CheckIn("a-1", 5);
  command.expected_version = -1;
  auto result = handler_.Handle(command);
  ASSERT_THAT(result, StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_EQ(FieldViolationOf(result.status())->field, "expected_version");
  EXPECT_EQ(ErrorReasonOf(result.status())->reason, "INVALID_FIELD");
}

TEST_F(ItemCommandHandlerTest, MalformedRequestIdIsInvalid) {
  for (const std::string& bad :
       {std::string(129, 'r'), std::string("tab\there"),
        std::string("\xC3\xA9")}) {
    CommandEnvelope command = Create("a-1");
    command.request_id = bad;
    auto result = handler_.Handle(command);
    ASSERT_THAT(result, StatusIs(absl::StatusCode::kInvalidArgument));
    EXPECT_EQ(FieldViolationOf(result.status())->field, "request_id");
  }
  CommandEnvelope longest = Create("a-1");
  longest.request_id = std::string(128, 'r');
  EXPECT_TRUE(handler_.Handle(longest).ok());
}

TEST_F(ItemCommandHandlerTest, RepeatedRequestIdReturnsOriginalResult) {
  CommandEnvelope create = Create("a-1");
  create.request_id = "req-create";
  auto first = handler_.Handle(create);
  ASSERT_TRUE(first.ok());
  CommandEnvelope check_in = CheckIn("a-1", 3);
  check_in.request_id = "req-check-in";
  auto checked = handler_.Handle(check_in);
  ASSERT_TRUE(checked.ok());

  // A retried create would be ALREADY_EXISTS by the rules; as a replay it
  // returns what the first attempt returned.
  auto again = handler_.Handle(create);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_TRUE(again->replayed);
  EXPECT_EQ(again->version, first->version);
  EXPECT_EQ(again->global_position, first->global_position);
  auto checked_again = handler_.Handle(check_in);
  ASSERT_TRUE(checked_again.ok());
  EXPECT_EQ(checked_again->global_position, checked->global_position);
  EXPECT_EQ(LogSize(), 2);
}

TEST_F(ItemCommandHandlerTest, RequestIdReusedForOtherCommandIsAlreadyExists) {
  CommandEnvelope create = Create("a-1");
  create.request_id = "req-1";
  ASSERT_TRUE(handler_.Handle(create).ok());
  CommandEnvelope other = CheckIn("a-1", 3);
  other.request_id = "req-1";
  const absl::Status reused = handler_.Handle(other).status();
  EXPECT_THAT(reused, StatusIs(absl::StatusCode::kAlreadyExists));
  EXPECT_EQ(ErrorReasonOf(reused), (ErrorReason{"REQUEST_ID_REUSED", {}}));
  CommandEnvelope other_item = Create("a-2");
  other_item.request_id = "req-1";
  EXPECT_EQ(ErrorReasonOf(handler_.Handle(other_item).status())->reason,
            "REQUEST_ID_REUSED");
  CommandEnvelope other_version = Create("a-1");
  other_version.request_id = "req-1";
  other_version.expected_version = 0;
  EXPECT_EQ(ErrorReasonOf(handler_.Handle(other_version).status())->reason,
            "REQUEST_ID_REUSED");
  EXPECT_EQ(LogSize(), 1);
}

TEST_F(ItemCommandHandlerTest, RecordsRequestCorrelationAndCausation) {
  CommandEnvelope create = Create("a-1");
  create.request_id = "req-1";
  create.correlation_id = "corr-9";
  ASSERT_TRUE(handler_.Handle(create).ok());
  ASSERT_TRUE(handler_.Handle(CheckIn("a-1", 1)).ok());
  auto events = store_.real().ReadStream("item-a-1", 1, 10);
  ASSERT_TRUE(events.ok());
  EXPECT_EQ((*events)[0].metadata, (EventMetadata{"req-1", "corr-9", "req-1"}));
  // Without ids, the command gets a fresh id that starts its own correlation.
  const EventMetadata& second = (*events)[1].metadata;
  EXPECT_EQ(second.request_id, "");
  EXPECT_EQ(second.causation_id.size(), 36u);
  EXPECT_EQ(second.correlation_id, second.causation_id);
}

TEST_F(ItemCommandHandlerTest, LostRaceWithoutExpectedVersionIsRetried) {
  ASSERT_TRUE(handler_.Handle(Create("a-1")).ok());
  EXPECT_CALL(store_, Append(_))
      .Times(3)
      .WillOnce(OtherWriterWinsOn("a-1"))
      .WillOnce(OtherWriterWinsOn("a-1"))
      .WillOnce(DoDefault());
  auto result = handler_.Handle(CheckIn("a-1", 5));
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->version, 4);
  EXPECT_EQ(handler_.Load(Id("a-1"))->quantity_on_hand, 7);
}

TEST_F(ItemCommandHandlerTest, RetriesAreBounded) {
  ASSERT_TRUE(handler_.Handle(Create("a-1")).ok());
  EXPECT_CALL(store_, Append(_))
      .Times(ItemCommandHandler::Options{}.max_attempts)
      .WillRepeatedly(OtherWriterWinsOn("a-1"));
  auto result = handler_.Handle(CheckIn("a-1", 5));
  EXPECT_THAT(result, StatusIs(absl::StatusCode::kAborted));
  EXPECT_EQ(ErrorReasonOf(result.status()),
            (ErrorReason{
                "CONCURRENT_MODIFICATION",
                {{"attempts",
                  absl::StrCat(ItemCommandHandler::Options{}.max_attempts)}}}));
  EXPECT_EQ(handler_.Load(Id("a-1"))->quantity_on_hand,
            ItemCommandHandler::Options{}.max_attempts);
}

TEST_F(ItemCommandHandlerTest, LostRaceWithExpectedVersionIsNotRetried) {
  ASSERT_TRUE(handler_.Handle(Create("a-1")).ok());
  EXPECT_CALL(store_, Append(_)).WillOnce(OtherWriterWinsOn("a-1"));
  CommandEnvelope command = CheckIn("a-1", 5);
  command.expected_version = 1;
  auto result = handler_.Handle(command);
  EXPECT_THAT(result,
              StatusIs(absl::StatusCode::kAborted, HasSubstr("version 2")));
  // The store's conflict made the handler read again; the refusal is the
  // caller's expected_version against the version read.
  EXPECT_EQ(
      ErrorReasonOf(result.status()),
      (ErrorReason{"VERSION_CONFLICT",
                   {{"expected_version", "1"}, {"actual_version", "2"}}}));
}

TEST_F(ItemCommandHandlerTest, RaceLostToARetryOfTheSameRequestIsAReplay) {
  CommandEnvelope create = Create("a-1");
  create.request_id = "req-1";
  // The same request, sent twice by an impatient client, commits first.
  EXPECT_CALL(store_, Append(_)).WillOnce([this](const AppendRequest& request) {
    EXPECT_THAT(store_.real().Append(request), IsOk());
    return store_.real().Append(request);
  });
  auto result = handler_.Handle(create);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_TRUE(result->replayed);
  EXPECT_EQ(result->version, 1);
  EXPECT_EQ(LogSize(), 1);
}

TEST_F(ItemCommandHandlerTest, StoreErrorsPassThrough) {
  EXPECT_CALL(store_, ReadStream(_, _, _))
      .WillRepeatedly(Return(absl::UnavailableError("database unreachable")));
  EXPECT_THAT(handler_.Handle(Create("a-1")),
              StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_EQ(LogSize(), 0);
}

TEST_F(ItemCommandHandlerTest, UnreadableStoredEventIsDataLoss) {
  AppendRequest corrupt;
  corrupt.stream_id = "item-a-1";
  corrupt.events.push_back(
      {"inventory.v1.ItemCreated", R"({"sku": ["not", "text"]})", {}});
  ASSERT_TRUE(store_.real().Append(corrupt).ok());
  EXPECT_THAT(handler_.Handle(CheckIn("a-1", 1)),
              StatusIs(absl::StatusCode::kDataLoss));
  EXPECT_EQ(LogSize(), 1);
}

TEST_F(ItemCommandHandlerTest, ConcurrentCommandsOnOneItemAreAllApplied) {
  ASSERT_TRUE(handler_.Handle(Create("a-1")).ok());
  ItemCommandHandler patient(&store_, {/*max_attempts=*/1000});
  constexpr int kThreads = 6;
  constexpr int kCommandsPerThread = 25;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kCommandsPerThread; ++i) {
        auto result = patient.Handle(CheckIn("a-1", 2));
        EXPECT_TRUE(result.ok()) << result.status();
      }
    });
  }
  for (std::thread& t : threads) t.join();
  auto state = handler_.Load(Id("a-1"));
  ASSERT_TRUE(state.ok());
  EXPECT_EQ(state->quantity_on_hand, 2 * kThreads * kCommandsPerThread);
  EXPECT_EQ(state->version, 1 + kThreads * kCommandsPerThread);
}

CommandEnvelope Remove(absl::string_view id, int64_t quantity) {
  return Of(RemoveItems{Id(id), Quantity::Create(quantity).value()});
}

TEST_F(ItemCommandHandlerTest, LaterCommandsDecideFromTheCache) {
  ASSERT_TRUE(handler_.Handle(Create("a-1")).ok());
  EXPECT_CALL(store_, ReadStream(_, _, _)).Times(0);
  for (int i = 0; i < 5; ++i)
    ASSERT_TRUE(handler_.Handle(CheckIn("a-1", 1)).ok());
  testing::Mock::VerifyAndClearExpectations(&store_);
  EXPECT_EQ(handler_.cached_items(), 1u);
  EXPECT_EQ(handler_.Load(Id("a-1"))->quantity_on_hand, 5);
}

TEST_F(ItemCommandHandlerTest, CacheHoldsAtMostItsCapacity) {
  ItemCommandHandler small(&store_, {5, /*cache_capacity=*/2});
  for (const char* id : {"a-1", "a-2", "a-3"}) {
    ASSERT_TRUE(small.Handle(Create(id)).ok());
  }
  EXPECT_EQ(small.cached_items(), 2u);
  // The evicted item is read again and still decided correctly.
  auto result = small.Handle(CheckIn("a-1", 3));
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->version, 2);
}

// Two handlers on one store stand for two command-service replicas: each
// one's cache goes stale when the other writes.
TEST_F(ItemCommandHandlerTest, StaleCacheNeverAcceptsWrongly) {
  ItemCommandHandler replica(&store_, {});
  ASSERT_TRUE(handler_.Handle(Create("a-1")).ok());
  ASSERT_TRUE(handler_.Handle(CheckIn("a-1", 5)).ok());
  ASSERT_TRUE(replica.Handle(Remove("a-1", 5)).ok());
  // handler_'s cache still says 5 on hand.
  EXPECT_THAT(handler_.Handle(Remove("a-1", 5)),
              StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_EQ(handler_.Load(Id("a-1"))->quantity_on_hand, 0);
  EXPECT_EQ(LogSize(), 3);
}

TEST_F(ItemCommandHandlerTest, StaleCacheNeverRefusesWrongly) {
  ItemCommandHandler replica(&store_, {});
  ASSERT_TRUE(handler_.Handle(Create("a-1")).ok());
  ASSERT_TRUE(replica.Handle(CheckIn("a-1", 10)).ok());
  // handler_'s cache says nothing on hand; the store says 10.
  auto removed = handler_.Handle(Remove("a-1", 4));
  ASSERT_TRUE(removed.ok()) << removed.status();
  EXPECT_EQ(removed->version, 3);
  EXPECT_EQ(handler_.Load(Id("a-1"))->quantity_on_hand, 6);
}

// The re-check of a refusal reads only what the cached state lacks, and a
// refusal decided on events just read is not read again.
TEST_F(ItemCommandHandlerTest, RefusalOnACachedStateIsConfirmedOnNewEvents) {
  ASSERT_TRUE(handler_.Handle(Create("a-1")).ok());
  OtherWriterChecksIn("a-1");
  // handler_'s cache says nothing on hand (version 1); the store says 1.
  EXPECT_CALL(store_, ReadStream(Eq("item-a-1"), 2, _)).Times(1);
  EXPECT_THAT(handler_.Handle(Remove("a-1", 5)),
              StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_EQ(LogSize(), 2);
}

TEST_F(ItemCommandHandlerTest, RefusalOnAFreshLoadIsNotReadAgain) {
  ItemCommandHandler uncached(&store_, {5, /*cache_capacity=*/0});
  ASSERT_TRUE(uncached.Handle(Create("a-1")).ok());
  EXPECT_CALL(store_, ReadStream(Eq("item-a-1"), 1, _)).Times(1);
  EXPECT_THAT(uncached.Handle(Remove("a-1", 5)),
              StatusIs(absl::StatusCode::kFailedPrecondition));
}

TEST_F(ItemCommandHandlerTest, StaleCacheHonoursTheCallersExpectedVersion) {
  ItemCommandHandler replica(&store_, {});
  ASSERT_TRUE(handler_.Handle(Create("a-1")).ok());
  ASSERT_TRUE(replica.Handle(CheckIn("a-1", 1)).ok());
  CommandEnvelope at_two = CheckIn("a-1", 1);
  at_two.expected_version = 2;
  auto result = handler_.Handle(at_two);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->version, 3);
  CommandEnvelope at_two_again = CheckIn("a-1", 1);
  at_two_again.expected_version = 2;
  auto refused = replica.Handle(at_two_again);
  EXPECT_THAT(refused,
              StatusIs(absl::StatusCode::kAborted, HasSubstr("at version 3")));
  EXPECT_EQ(
      ErrorReasonOf(refused.status()),
      (ErrorReason{"VERSION_CONFLICT",
                   {{"expected_version", "2"}, {"actual_version", "3"}}}));
  EXPECT_EQ(LogSize(), 3);
}

TEST(FingerprintTest, DiffersForEveryDifference) {
  const std::vector<CommandEnvelope> commands = {
      Create("a-1"),
      Create("a-2"),
      Create("a-1", "Other"),
      CheckIn("a-1", 1),
      CheckIn("a-1", 2),
      Of(RemoveItems{Id("a-1"), Quantity::Create(1).value()}),
      Of(DeactivateItem{Id("a-1")}),
      Of(ReactivateItem{Id("a-1")}),
      Of(RenameItem{Id("a-1"), ItemName::Create("Widget").value()}),
      CommandEnvelope{CheckInItems{Id("a-1"), Quantity::Create(1).value()}, 3,
                      "", ""}};
  for (size_t i = 0; i < commands.size(); ++i) {
    EXPECT_EQ(CommandFingerprint(commands[i]), CommandFingerprint(commands[i]));
    for (size_t j = i + 1; j < commands.size(); ++j) {
      EXPECT_NE(CommandFingerprint(commands[i]),
                CommandFingerprint(commands[j]))
          << i << " vs " << j;
    }
  }
  // The request id and correlation id are not part of the content.
  CommandEnvelope with_ids = Create("a-1");
  with_ids.request_id = "r";
  with_ids.correlation_id = "c";
  EXPECT_EQ(CommandFingerprint(with_ids), CommandFingerprint(Create("a-1")));
}

}  // namespace
}  // namespace inventory
