// MockEventStore: a gMock EventStore for tests. Every call goes to a real
// store unless a test says otherwise, so a test scripts only the calls it
// is about (a fault, a race, a count) and the rest behaves as a store does:
//
//   MockEventStore store;  // backed by its own InMemoryEventStore
//   EXPECT_CALL(store, Append(_))
//       .WillOnce(Return(absl::UnavailableError("connection lost")))
//       .WillRepeatedly(DoDefault());  // then the real append
//
// Thread-safe as gMock is (expectations set before the calls start).
#ifndef INVENTORY_COMMON_EVENTSTORE_MOCK_EVENT_STORE_H_
#define INVENTORY_COMMON_EVENTSTORE_MOCK_EVENT_STORE_H_

#include <cstdint>
#include <optional>
#include <vector>

#include "common/eventstore/event_store.h"
#include "common/eventstore/in_memory_event_store.h"
#include "gmock/gmock.h"

namespace inventory {

class MockEventStore : public EventStore {
 public:
  // Backed by an in-memory store of its own.
  MockEventStore() : MockEventStore(nullptr) {}
  // Backed by `real` (not owned; must outlive the mock), e.g. a
  // PostgresEventStore; nullptr: an in-memory store of its own.
  explicit MockEventStore(EventStore* real)
      : real_(real != nullptr ? real : &own_) {
    using ::testing::_;
    ON_CALL(*this, Append(_)).WillByDefault([this](const AppendRequest& r) {
      return real_->Append(r);
    });
    ON_CALL(*this, ReadStream(_, _, _))
        .WillByDefault([this](absl::string_view stream_id, int64_t from_version,
                              int64_t max_count) {
          return real_->ReadStream(stream_id, from_version, max_count);
        });
    ON_CALL(*this, ReadAll(_, _))
        .WillByDefault([this](int64_t after_position, int64_t max_count) {
          return real_->ReadAll(after_position, max_count);
        });
    ON_CALL(*this, HeadPosition()).WillByDefault([this] {
      return real_->HeadPosition();
    });
    ON_CALL(*this, WaitForEventsAfter(_, _))
        .WillByDefault([this](int64_t after_position, absl::Time deadline) {
          return real_->WaitForEventsAfter(after_position, deadline);
        });
    ON_CALL(*this, StopWaiting()).WillByDefault([this] {
      real_->StopWaiting();
    });
    ON_CALL(*this, FindRequest(_))
        .WillByDefault([this](absl::string_view request_id) {
          return real_->FindRequest(request_id);
        });
  }

  // The store the default actions call; a test's own action may call it
  // too (to act and then fail, as a connection lost after a commit).
  EventStore& real() { return *real_; }

  MOCK_METHOD(absl::StatusOr<AppendResult>, Append,
              (const AppendRequest& request), (override));
  MOCK_METHOD(absl::StatusOr<std::vector<RecordedEvent>>, ReadStream,
              (absl::string_view stream_id, int64_t from_version,
               int64_t max_count),
              (override));
  MOCK_METHOD(absl::StatusOr<std::vector<RecordedEvent>>, ReadAll,
              (int64_t after_position, int64_t max_count), (override));
  MOCK_METHOD(absl::StatusOr<int64_t>, HeadPosition, (), (override));
  MOCK_METHOD(absl::StatusOr<bool>, WaitForEventsAfter,
              (int64_t after_position, absl::Time deadline), (override));
  MOCK_METHOD(void, StopWaiting, (), (override));
  MOCK_METHOD(absl::StatusOr<std::optional<RecordedRequest>>, FindRequest,
              (absl::string_view request_id), (override));

 private:
  InMemoryEventStore own_;
  EventStore* const real_;
};

// A MockEventStore whose uninteresting calls (the delegated ones no test
// expects) raise no warnings.
using NiceMockEventStore = ::testing::NiceMock<MockEventStore>;

}  // namespace inventory

#endif  // INVENTORY_COMMON_EVENTSTORE_MOCK_EVENT_STORE_H_
