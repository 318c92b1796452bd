#include "common/eventstore/event_store_contract_test.h"

#include <atomic>
#include <set>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "common/base/status_matchers.h"
#include "gmock/gmock.h"

namespace inventory {
namespace {

using ::testing::HasSubstr;
using ::testing::SizeIs;

EventData MakeEvent(absl::string_view type, absl::string_view payload) {
  EventData event;
  event.event_type = std::string(type);
  event.payload_json = std::string(payload);
  return event;
}

AppendRequest MakeAppend(absl::string_view stream, ExpectedVersion expected,
                         int count = 1, absl::string_view tag = "e") {
  AppendRequest request;
  request.stream_id = std::string(stream);
  request.expected_version = expected;
  for (int i = 0; i < count; ++i) {
    request.events.push_back(
        MakeEvent("test.Happened", absl::StrCat("{\"n\":\"", tag, i, "\"}")));
  }
  return request;
}

std::vector<RecordedEvent> ReadWholeLog(EventStore& store) {
  auto events = store.ReadAll(0, 1'000'000);
  EXPECT_THAT(events, IsOk());
  return events.ok() ? *events : std::vector<RecordedEvent>{};
}

}  // namespace

std::string EventStoreFactoryName(
    const testing::TestParamInfo<EventStoreFactory>& info) {
  return info.param.name;
}

void EventStoreContractTest::SetUp() {
  store_ = GetParam().make_empty_store();
  ASSERT_NE(store_, nullptr);
}

TEST_P(EventStoreContractTest, EmptyStoreHasNothing) {
  EXPECT_EQ(*store().HeadPosition(), 0);
  EXPECT_THAT(*store().ReadAll(0, 10), SizeIs(0));
  EXPECT_THAT(*store().ReadStream("s-1", 1, 10), SizeIs(0));
  EXPECT_EQ(*store().FindRequest("r-1"), std::nullopt);
}

TEST_P(EventStoreContractTest, AppendNumbersVersionsAndPositionsFromOne) {
  auto result =
      store().Append(MakeAppend("s-1", ExpectedVersion::NoStream(), 3));
  ASSERT_THAT(result, IsOk());
  EXPECT_EQ(result->stream_version, 3);
  EXPECT_EQ(result->global_position, 3);
  EXPECT_FALSE(result->replayed);

  auto events = store().ReadStream("s-1", 1, 100);
  ASSERT_THAT(events, IsOk());
  ASSERT_THAT(*events, SizeIs(3));
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ((*events)[i].stream_id, "s-1");
    EXPECT_EQ((*events)[i].stream_version, i + 1);
    EXPECT_EQ((*events)[i].global_position, i + 1);
    EXPECT_EQ((*events)[i].event_type, "test.Happened");
  }
  EXPECT_EQ(*store().HeadPosition(), 3);
}

TEST_P(EventStoreContractTest, StoresTypePayloadMetadataIdAndTime) {
  const absl::Time before = absl::Now() - absl::Seconds(5);
  AppendRequest request = MakeAppend("s-1", ExpectedVersion::Any(), 2);
  request.events[0].metadata = {"req-1", "corr-1", "cause-1"};
  ASSERT_THAT(store().Append(request), IsOk());

  auto events = store().ReadStream("s-1", 1, 10);
  ASSERT_THAT(events, IsOk());
  ASSERT_THAT(*events, SizeIs(2));
  const RecordedEvent& first = (*events)[0];
  // JSON payloads may be normalized by a store; compare the parsed content.
  EXPECT_THAT(first.payload_json, HasSubstr("\"e0\""));
  EXPECT_EQ(first.metadata, (EventMetadata{"req-1", "corr-1", "cause-1"}));
  EXPECT_EQ((*events)[1].metadata, EventMetadata{});
  EXPECT_EQ(first.event_id.size(), 36u);
  EXPECT_NE(first.event_id, (*events)[1].event_id);
  EXPECT_GT(first.recorded_at, before);
  EXPECT_LT(first.recorded_at, absl::Now() + absl::Seconds(5));
}

TEST_P(EventStoreContractTest, ExactExpectedVersionAppends) {
  ASSERT_THAT(store().Append(MakeAppend("s-1", ExpectedVersion::NoStream(), 2)),
              IsOk());
  auto result = store().Append(MakeAppend("s-1", ExpectedVersion::Exact(2)));
  ASSERT_THAT(result, IsOk());
  EXPECT_EQ(result->stream_version, 3);
}

TEST_P(EventStoreContractTest, WrongExpectedVersionAppendsNothing) {
  ASSERT_THAT(store().Append(MakeAppend("s-1", ExpectedVersion::NoStream(), 2)),
              IsOk());
  for (ExpectedVersion wrong :
       {ExpectedVersion::NoStream(), ExpectedVersion::Exact(1),
        ExpectedVersion::Exact(3), ExpectedVersion::Exact(1000)}) {
    auto result = store().Append(MakeAppend("s-1", wrong, 2));
    ASSERT_THAT(result, StatusIs(absl::StatusCode::kAborted))
        << wrong.ToString();
    EXPECT_THAT(result.status().message(), HasSubstr("version 2"));
  }
  auto missing = store().Append(MakeAppend("s-2", ExpectedVersion::Exact(1)));
  EXPECT_THAT(missing, StatusIs(absl::StatusCode::kAborted));
  EXPECT_THAT(missing.status().message(), HasSubstr("version 0"));

  EXPECT_THAT(ReadWholeLog(store()), SizeIs(2));
  EXPECT_THAT(*store().ReadStream("s-2", 1, 10), SizeIs(0));
}

TEST_P(EventStoreContractTest, AnyExpectedVersionAlwaysAppends) {
  ASSERT_THAT(store().Append(MakeAppend("s-1", ExpectedVersion::Any())),
              IsOk());
  auto result = store().Append(MakeAppend("s-1", ExpectedVersion::Any()));
  ASSERT_THAT(result, IsOk());
  EXPECT_EQ(result->stream_version, 2);
}

TEST_P(EventStoreContractTest, RejectsMalformedRequests) {
  EXPECT_THAT(store().Append(MakeAppend("", ExpectedVersion::Any())),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(store().Append(MakeAppend("s-1", ExpectedVersion::Any(), 0)),
              StatusIs(absl::StatusCode::kInvalidArgument));
  AppendRequest untyped = MakeAppend("s-1", ExpectedVersion::Any());
  untyped.events[0].event_type.clear();
  EXPECT_THAT(store().Append(untyped),
              StatusIs(absl::StatusCode::kInvalidArgument));
  for (const char* payload : {"", "{not json", "[1, 2]", "42"}) {
    AppendRequest bad_payload = MakeAppend("s-1", ExpectedVersion::Any());
    bad_payload.events[0].payload_json = payload;
    EXPECT_THAT(store().Append(bad_payload),
                StatusIs(absl::StatusCode::kInvalidArgument))
        << payload;
  }
  AppendRequest nul_stream =
      MakeAppend(std::string("s-1\0x", 5), ExpectedVersion::Any());
  EXPECT_THAT(store().Append(nul_stream),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(store().ReadAll(-1, 10),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(store().ReadAll(0, 0),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(store().ReadStream("s-1", 0, 10),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(store().ReadStream("s-1", 1, 0),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(ReadWholeLog(store()), SizeIs(0));
}

TEST_P(EventStoreContractTest, StoresHostileTextVerbatim) {
  const std::string hostile =
      "x'); DROP TABLE events;-- \"\\ $1 %s \xE2\x9C\x93";
  AppendRequest request = MakeAppend(hostile, ExpectedVersion::Any());
  request.events[0].payload_json = R"({"name": "x'); DROP TABLE events;--"})";
  request.events[0].metadata.correlation_id = hostile;
  request.request_id = hostile;
  ASSERT_THAT(store().Append(request), IsOk());
  auto events = store().ReadStream(hostile, 1, 10);
  ASSERT_THAT(events, IsOk());
  ASSERT_THAT(*events, SizeIs(1));
  EXPECT_EQ((*events)[0].stream_id, hostile);
  EXPECT_EQ((*events)[0].metadata.correlation_id, hostile);
  EXPECT_THAT((*events)[0].payload_json, HasSubstr("DROP TABLE events;--"));
  EXPECT_TRUE((*store().FindRequest(hostile)).has_value());
}

TEST_P(EventStoreContractTest, GlobalPositionsIncreaseAcrossStreams) {
  for (int i = 0; i < 10; ++i) {
    auto result = store().Append(MakeAppend(absl::StrCat("s-", i % 3),
                                            ExpectedVersion::Any(), 1 + i % 2));
    ASSERT_THAT(result, IsOk());
  }
  const std::vector<RecordedEvent> log = ReadWholeLog(store());
  ASSERT_THAT(log, SizeIs(15));
  for (size_t i = 0; i < log.size(); ++i) {
    EXPECT_EQ(log[i].global_position, static_cast<int64_t>(i) + 1);
  }
  EXPECT_EQ(*store().HeadPosition(), 15);
}

TEST_P(EventStoreContractTest, ReadAllPagesThroughTheLog) {
  for (int i = 0; i < 7; ++i) {
    ASSERT_THAT(store().Append(MakeAppend(absl::StrCat("s-", i % 2),
                                          ExpectedVersion::Any(), 2)),
                IsOk());
  }
  std::vector<int64_t> paged;
  int64_t after = 0;
  for (;;) {
    auto page = store().ReadAll(after, 3);
    ASSERT_THAT(page, IsOk());
    ASSERT_LE(page->size(), 3u);
    if (page->empty()) break;
    for (const RecordedEvent& e : *page) paged.push_back(e.global_position);
    after = page->back().global_position;
  }
  std::vector<int64_t> expected;
  for (int64_t p = 1; p <= 14; ++p) expected.push_back(p);
  EXPECT_EQ(paged, expected);
  EXPECT_THAT(*store().ReadAll(14, 10), SizeIs(0));
  EXPECT_THAT(*store().ReadAll(100, 10), SizeIs(0));
}

TEST_P(EventStoreContractTest, ReadStreamFromVersionWithLimit) {
  ASSERT_THAT(store().Append(MakeAppend("s-1", ExpectedVersion::Any(), 5)),
              IsOk());
  ASSERT_THAT(store().Append(MakeAppend("s-2", ExpectedVersion::Any(), 5)),
              IsOk());
  auto events = store().ReadStream("s-1", 2, 3);
  ASSERT_THAT(events, IsOk());
  ASSERT_THAT(*events, SizeIs(3));
  EXPECT_EQ((*events)[0].stream_version, 2);
  EXPECT_EQ((*events)[2].stream_version, 4);
  EXPECT_THAT(*store().ReadStream("s-1", 6, 3), SizeIs(0));
  // A stream id is matched exactly, never as a prefix.
  EXPECT_THAT(*store().ReadStream("s-", 1, 100), SizeIs(0));
}

TEST_P(EventStoreContractTest, RepeatedRequestIdReturnsOriginalResult) {
  AppendRequest request = MakeAppend("s-1", ExpectedVersion::NoStream());
  request.request_id = "req-1";
  auto first = store().Append(request);
  ASSERT_THAT(first, IsOk());
  ASSERT_THAT(store().Append(MakeAppend("s-1", ExpectedVersion::Any())),
              IsOk());

  // Same content: the original result, even though NoStream no longer holds.
  auto again = store().Append(request);
  ASSERT_THAT(again, IsOk());
  EXPECT_TRUE(again->replayed);
  EXPECT_EQ(again->stream_version, first->stream_version);
  EXPECT_EQ(again->global_position, first->global_position);
  EXPECT_THAT(ReadWholeLog(store()), SizeIs(2));

  auto recorded = store().FindRequest("req-1");
  ASSERT_THAT(recorded, IsOk());
  ASSERT_TRUE(recorded->has_value());
  EXPECT_EQ((*recorded)->stream_id, "s-1");
  EXPECT_EQ((*recorded)->result, *first);
}

TEST_P(EventStoreContractTest, RequestIdWithOtherContentIsAlreadyExists) {
  AppendRequest request = MakeAppend("s-1", ExpectedVersion::Any());
  request.request_id = "req-1";
  ASSERT_THAT(store().Append(request), IsOk());

  AppendRequest other_payload =
      MakeAppend("s-1", ExpectedVersion::Any(), 1, "x");
  other_payload.request_id = "req-1";
  EXPECT_THAT(store().Append(other_payload),
              StatusIs(absl::StatusCode::kAlreadyExists));
  AppendRequest other_stream = MakeAppend("s-2", ExpectedVersion::Any());
  other_stream.request_id = "req-1";
  EXPECT_THAT(store().Append(other_stream),
              StatusIs(absl::StatusCode::kAlreadyExists));
  AppendRequest other_fingerprint = request;
  other_fingerprint.request_fingerprint = "another command";
  EXPECT_THAT(store().Append(other_fingerprint),
              StatusIs(absl::StatusCode::kAlreadyExists));
  EXPECT_THAT(ReadWholeLog(store()), SizeIs(1));
}

TEST_P(EventStoreContractTest, ExplicitFingerprintDecidesSameness) {
  AppendRequest request = MakeAppend("s-1", ExpectedVersion::Any());
  request.request_id = "req-1";
  request.request_fingerprint = "CheckIn 5";
  ASSERT_THAT(store().Append(request), IsOk());
  // Different events, same fingerprint: the same request (a retried command
  // may decide different events once the stream has moved on).
  AppendRequest retried = MakeAppend("s-1", ExpectedVersion::Any(), 2, "y");
  retried.request_id = "req-1";
  retried.request_fingerprint = "CheckIn 5";
  auto result = store().Append(retried);
  ASSERT_THAT(result, IsOk());
  EXPECT_TRUE(result->replayed);
  EXPECT_EQ((*store().FindRequest("req-1"))->fingerprint, "CheckIn 5");
  EXPECT_THAT(ReadWholeLog(store()), SizeIs(1));
}

TEST_P(EventStoreContractTest, FailedAppendDoesNotRecordItsRequestId) {
  AppendRequest request = MakeAppend("s-1", ExpectedVersion::Exact(4));
  request.request_id = "req-1";
  ASSERT_THAT(store().Append(request), StatusIs(absl::StatusCode::kAborted));
  EXPECT_EQ(*store().FindRequest("req-1"), std::nullopt);
  request.expected_version = ExpectedVersion::NoStream();
  auto result = store().Append(request);
  ASSERT_THAT(result, IsOk());
  EXPECT_FALSE(result->replayed);
}

TEST_P(EventStoreContractTest, ConcurrentWritersToOneStreamEachVersionOnce) {
  constexpr int kThreads = 8;
  constexpr int kAttemptsPerThread = 25;
  absl::Mutex mu;
  std::vector<int64_t> won_versions;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kAttemptsPerThread; ++i) {
        auto events = store().ReadStream("s-1", 1, 1'000'000);
        ASSERT_THAT(events, IsOk());
        const int64_t version = static_cast<int64_t>(events->size());
        auto result =
            store().Append(MakeAppend("s-1", ExpectedVersion::Exact(version), 1,
                                      absl::StrCat(t, "-", i)));
        if (result.ok()) {
          absl::MutexLock lock(&mu);
          won_versions.push_back(result->stream_version);
          EXPECT_EQ(result->stream_version, version + 1);
        } else {
          EXPECT_THAT(result, StatusIs(absl::StatusCode::kAborted));
        }
      }
    });
  }
  for (std::thread& t : threads) t.join();

  const std::set<int64_t> unique(won_versions.begin(), won_versions.end());
  EXPECT_EQ(unique.size(), won_versions.size()) << "a version was won twice";
  auto stream = store().ReadStream("s-1", 1, 1'000'000);
  ASSERT_THAT(stream, IsOk());
  ASSERT_EQ(stream->size(), won_versions.size());
  for (size_t i = 0; i < stream->size(); ++i) {
    EXPECT_EQ((*stream)[i].stream_version, static_cast<int64_t>(i) + 1);
  }
}

TEST_P(EventStoreContractTest, ConcurrentWritersToManyStreamsAllSucceed) {
  constexpr int kThreads = 8;
  constexpr int kAppendsPerThread = 40;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kAppendsPerThread; ++i) {
        auto result = store().Append(MakeAppend(
            absl::StrCat("s-", t, "-", i % 4), ExpectedVersion::Any()));
        EXPECT_THAT(result, IsOk());
      }
    });
  }
  for (std::thread& t : threads) t.join();

  const std::vector<RecordedEvent> log = ReadWholeLog(store());
  ASSERT_THAT(log, SizeIs(kThreads * kAppendsPerThread));
  for (size_t i = 0; i < log.size(); ++i) {
    EXPECT_EQ(log[i].global_position, static_cast<int64_t>(i) + 1);
  }
  for (int t = 0; t < kThreads; ++t) {
    for (int s = 0; s < 4; ++s) {
      auto stream = store().ReadStream(absl::StrCat("s-", t, "-", s), 1, 1000);
      ASSERT_THAT(stream, IsOk());
      ASSERT_THAT(*stream, SizeIs(kAppendsPerThread / 4));
      EXPECT_EQ(stream->back().stream_version, kAppendsPerThread / 4);
    }
  }
}

TEST_P(EventStoreContractTest, ConcurrentRepeatsOfOneRequestAppendOnce) {
  constexpr int kThreads = 8;
  AppendRequest request = MakeAppend("s-1", ExpectedVersion::Any());
  request.request_id = "req-1";
  std::atomic<int> appended{0};
  std::atomic<int> replayed{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      auto result = store().Append(request);
      ASSERT_THAT(result, IsOk());
      (result->replayed ? replayed : appended)++;
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(appended.load(), 1);
  EXPECT_EQ(replayed.load(), kThreads - 1);
  EXPECT_THAT(ReadWholeLog(store()), SizeIs(1));
}

TEST_P(EventStoreContractTest, WaitForEventsAfterTimesOutWhenIdle) {
  ASSERT_THAT(store().Append(MakeAppend("s-1", ExpectedVersion::Any())),
              IsOk());
  auto woke =
      store().WaitForEventsAfter(1, absl::Now() + absl::Milliseconds(50));
  ASSERT_THAT(woke, IsOk());
  EXPECT_FALSE(*woke);
  auto already = store().WaitForEventsAfter(0, absl::Now() + absl::Seconds(10));
  ASSERT_THAT(already, IsOk());
  EXPECT_TRUE(*already);
}

TEST_P(EventStoreContractTest, WaitForEventsAfterWakesOnAppend) {
  std::thread writer([this] {
    // The waiter may or may not be waiting yet; either way it must see it.
    EXPECT_THAT(store().Append(MakeAppend("s-1", ExpectedVersion::Any())),
                IsOk());
  });
  auto woke = store().WaitForEventsAfter(0, absl::Now() + absl::Seconds(30));
  writer.join();
  ASSERT_THAT(woke, IsOk());
  EXPECT_TRUE(*woke);
  EXPECT_THAT(*store().ReadAll(0, 10), SizeIs(1));
}

}  // namespace inventory
