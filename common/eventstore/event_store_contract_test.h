// The contract test suite of EventStore (event_store.h): one suite, run
// against every implementation, so they cannot drift apart.
//
// An implementation's test instantiates it with a factory that returns a
// new, empty store for each test:
//
//   INSTANTIATE_TEST_SUITE_P(
//       InMemory, EventStoreContractTest,
//       testing::Values(EventStoreFactory{"InMemory", [] {
//         return std::make_unique<InMemoryEventStore>();
//       }}),
//       EventStoreFactoryName);
#ifndef INVENTORY_COMMON_EVENTSTORE_EVENT_STORE_CONTRACT_TEST_H_
#define INVENTORY_COMMON_EVENTSTORE_EVENT_STORE_CONTRACT_TEST_H_

#include <functional>
#include <memory>
#include <ostream>
#include <string>

#include "common/eventstore/event_store.h"
#include "gtest/gtest.h"

namespace inventory {

struct EventStoreFactory {
  std::string name;
  std::function<std::unique_ptr<EventStore>()> make_empty_store;
};

// Prints the factory's name in test output.
inline void PrintTo(const EventStoreFactory& factory, std::ostream* os) {
  *os << factory.name;
}

// For INSTANTIATE_TEST_SUITE_P: names each instantiation after its factory.
std::string EventStoreFactoryName(
    const testing::TestParamInfo<EventStoreFactory>& info);

class EventStoreContractTest
    : public testing::TestWithParam<EventStoreFactory> {
 protected:
  void SetUp() override;
  EventStore& store() { return *store_; }

 private:
  std::unique_ptr<EventStore> store_;
};

}  // namespace inventory

#endif  // INVENTORY_COMMON_EVENTSTORE_EVENT_STORE_CONTRACT_TEST_H_
