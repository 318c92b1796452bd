// The test kit itself: MockEventStore delegates unless told otherwise, and
// the status matchers match, and fail, as documented.
#include "common/eventstore/mock_event_store.h"

#include "absl/status/status.h"
#include "common/base/status_matchers.h"
#include "gtest/gtest.h"

namespace inventory {
namespace {

using ::testing::_;
using ::testing::DoDefault;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::Return;
using ::testing::SizeIs;

AppendRequest OneEvent(const std::string& stream_id) {
  AppendRequest request;
  request.stream_id = stream_id;
  request.events.push_back(EventData{"inventory.v1.ItemCreated", "{}", {}});
  return request;
}

TEST(MockEventStoreTest, DelegatesEveryCallByDefault) {
  NiceMockEventStore store;
  EXPECT_THAT(store.Append(OneEvent("item-a")), IsOk());
  EXPECT_THAT(store.HeadPosition(), IsOkAndHolds(1));
  EXPECT_THAT(store.ReadAll(0, 10), IsOkAndHolds(SizeIs(1)));
  EXPECT_THAT(store.ReadStream("item-a", 1, 10), IsOkAndHolds(SizeIs(1)));
  EXPECT_THAT(store.real().HeadPosition(), IsOkAndHolds(1));
}

TEST(MockEventStoreTest, AScriptedFaultThenTheRealCall) {
  NiceMockEventStore store;
  EXPECT_CALL(store, Append(_))
      .WillOnce(Return(absl::UnavailableError("connection lost")))
      .WillRepeatedly(DoDefault());
  EXPECT_THAT(store.Append(OneEvent("item-a")),
              StatusIs(absl::StatusCode::kUnavailable, HasSubstr("lost")));
  EXPECT_THAT(store.HeadPosition(), IsOkAndHolds(0));
  EXPECT_THAT(store.Append(OneEvent("item-a")), IsOk());
  EXPECT_THAT(store.HeadPosition(), IsOkAndHolds(1));
}

TEST(MockEventStoreTest, DelegatesToAGivenStore) {
  InMemoryEventStore real;
  NiceMockEventStore store(&real);
  ASSERT_THAT(store.Append(OneEvent("item-a")), IsOk());
  EXPECT_THAT(real.HeadPosition(), IsOkAndHolds(1));
}

TEST(StatusMatchersTest, MatchAndMismatch) {
  const absl::Status conflict =
      WrongExpectedVersion("item-a", ExpectedVersion::Exact(2), 5);
  EXPECT_THAT(conflict, StatusIs(absl::StatusCode::kAborted));
  EXPECT_THAT(conflict, Not(StatusIs(absl::StatusCode::kInternal)));
  EXPECT_THAT(conflict,
              StatusIs(absl::StatusCode::kAborted, HasSubstr("expected 2")));
  EXPECT_THAT(conflict, Not(StatusIs(absl::StatusCode::kAborted,
                                     HasSubstr("expected 3"))));
  EXPECT_THAT(conflict, HasReason("VERSION_CONFLICT"));
  EXPECT_THAT(conflict, Not(HasReason("REQUEST_ID_REUSED")));
  EXPECT_THAT(conflict, Not(IsOk()));
  EXPECT_THAT(absl::OkStatus(), IsOk());

  const absl::StatusOr<int> value = 7;
  EXPECT_THAT(value, IsOkAndHolds(7));
  EXPECT_THAT(value, Not(IsOkAndHolds(8)));
  const absl::StatusOr<int> error = absl::NotFoundError("none");
  EXPECT_THAT(error, Not(IsOkAndHolds(7)));
  EXPECT_THAT(error, StatusIs(absl::StatusCode::kNotFound));
}

TEST(StatusMatchersTest, AMismatchShowsTheStatus) {
  const absl::StatusOr<int> error = absl::NotFoundError("no such item");
  ::testing::StringMatchResultListener listener;
  EXPECT_FALSE(
      ::testing::ExplainMatchResult(IsOkAndHolds(7), error, &listener));
  EXPECT_THAT(listener.str(), HasSubstr("no such item"));
}

}  // namespace
}  // namespace inventory
