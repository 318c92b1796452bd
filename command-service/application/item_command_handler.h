// ItemCommandHandler: the application service of the write side.
//
// Handling a command is load -> decide -> save:
//   1. load:   the item's state, folded from its events, through an
//              ItemRepository (item_repository.h); usually from the cache of
//              recently used items (caching_item_repository.h);
//   2. decide: the pure domain (item.h) says which events the command
//              records, or refuses it;
//   3. save:   append those events expecting the version that was loaded:
//              when another writer appended in between, the save fails
//              (nothing is overwritten) and the command is decided again on
//              the item's current events.
// A cached state may be stale (another replica wrote the item). A stale
// acceptance is caught by step 3; a refusal decided on a cached state is
// checked again on a fresh load before it is returned. The cache never
// changes an answer.
// Idempotency: a command that carries a request_id already recorded with the
// same content returns the original result and appends nothing.
#ifndef INVENTORY_COMMAND_SERVICE_APPLICATION_ITEM_COMMAND_HANDLER_H_
#define INVENTORY_COMMAND_SERVICE_APPLICATION_ITEM_COMMAND_HANDLER_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "command-service/application/caching_item_repository.h"
#include "command-service/application/event_store_item_repository.h"
#include "command-service/application/item_repository.h"
#include "command-service/domain/item.h"
#include "command-service/domain/item_commands.h"
#include "common/eventstore/event_store.h"

namespace inventory {

// A command plus what travels with it.
struct CommandEnvelope {
  ItemCommand command;
  // When set, the command applies only if the item is at this version.
  std::optional<int64_t> expected_version;
  // Idempotency key; empty for none. At most 128 printable ASCII characters.
  std::string request_id;
  // Groups related commands and events; empty = this command starts a new
  // correlation.
  std::string correlation_id;
};

// What a handled command returns to its caller.
struct CommandResult {
  std::string item_id;
  int64_t version = 0;          // the item's version after the command
  int64_t global_position = 0;  // of the last event the command recorded
  bool replayed = false;        // a repeated request_id; nothing appended
};

// Thread-safe if the store is. Between calls it keeps only the cache.
class ItemCommandHandler {
 public:
  struct Options {
    // How often a command without expected_version is tried when concurrent
    // writers keep winning the race for the item's next version.
    int max_attempts = 5;
    // How many items' states are kept in memory (0: none, every command
    // reads its item's events).
    size_t cache_capacity = 100'000;
  };

  // Loads and saves items in `store`, which must outlive the handler.
  ItemCommandHandler(EventStore* store, Options options);

  // Handles one command. Returns the domain's statuses (see Decide() in
  // item.h), and:
  //   INVALID_ARGUMENT  INVALID_FIELD: expected_version negative or
  //                     request_id malformed;
  //   ABORTED           VERSION_CONFLICT: expected_version differs from the
  //                     item's version (metadata expected_version and
  //                     actual_version; the message names both), or
  //                     CONCURRENT_MODIFICATION: max_attempts races were
  //                     lost (metadata attempts; deciding again is safe);
  //   ALREADY_EXISTS    REQUEST_ID_REUSED: request_id already used for a
  //                     different command;
  //   UNAVAILABLE etc.  from the store, unchanged.
  absl::StatusOr<CommandResult> Handle(const CommandEnvelope& envelope);

  // The item's state rebuilt from its stored events (exists == false when it
  // has none), bypassing the cache. DATA_LOSS when a stored event cannot be
  // decoded.
  absl::StatusOr<ItemState> Load(const ItemId& item_id);

  // The number of items in the cache.
  size_t cached_items() { return repository_.cached_items(); }

 private:
  // The answer to a command refused on fresh events: the original result
  // when it repeats a request that was applied, else `refusal`.
  absl::StatusOr<CommandResult> Refused(const CommandEnvelope& envelope,
                                        const std::string& fingerprint,
                                        absl::Status refusal);

  const Options options_;
  EventStoreItemRepository store_repository_;
  CachingItemRepository repository_;  // in front of store_repository_
};

// A canonical encoding of the command, its expected version and its target:
// equal for equal requests, different for any difference. Recorded with a
// request_id to recognise a retried request.
std::string CommandFingerprint(const CommandEnvelope& envelope);

}  // namespace inventory

#endif  // INVENTORY_COMMAND_SERVICE_APPLICATION_ITEM_COMMAND_HANDLER_H_
