#include "common/eventstore/in_memory_event_store.h"

#include <memory>

#include "common/eventstore/event_store_contract_test.h"

namespace inventory {
namespace {

INSTANTIATE_TEST_SUITE_P(
    InMemory, EventStoreContractTest,
    testing::Values(EventStoreFactory{
        "InMemory", [] { return std::make_unique<InMemoryEventStore>(); }}),
    EventStoreFactoryName);

}  // namespace
}  // namespace inventory
