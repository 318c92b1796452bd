// ItemCommandHandler: the application service of the write side.
//
// Handling a command is load -> decide -> save:
//   1. load the item's state: from the cache of recently used items
//      (item_state_cache.h), or by reading its events from the store and
//      folding them (replay);
//   2. ask the pure domain (item.h) which events the command records;
//   3. append them with the version that was loaded as expected version,
//      so a concurrent writer makes the append fail instead of being lost.
// A cached state may be stale (another replica wrote the item). A stale
// acceptance is caught by step 3 (the store refuses the expected version);
// a refusal computed from a cached state is checked again after reading
// the events the cache missed. Either way the command is decided again on
// the item's current events: the cache never changes an answer.
// Idempotency: a command that carries a request_id already recorded with the
// same content returns the original result and appends nothing.
#ifndef INVENTORY_COMMAND_SERVICE_APPLICATION_ITEM_COMMAND_HANDLER_H_
#define INVENTORY_COMMAND_SERVICE_APPLICATION_ITEM_COMMAND_HANDLER_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "command-service/application/item_state_cache.h"
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

  // `store` must outlive the handler.
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
  // has none). DATA_LOSS when a stored event cannot be decoded.
  absl::StatusOr<ItemState> Load(const ItemId& item_id);

  // The number of items in the cache.
  size_t cached_items() { return cache_.size(); }

 private:
  // A decision ready to append: the request and the events it carries.
  struct Decision {
    AppendRequest append;
    std::vector<ItemEvent> events;
  };

  // `state` with the item's events after state.version folded in.
  absl::StatusOr<ItemState> CatchUp(const ItemId& item_id, ItemState state);
  absl::StatusOr<std::optional<CommandResult>> FindReplay(
      const CommandEnvelope& envelope, const std::string& fingerprint);
  // Checks the expected version and asks the domain.
  absl::StatusOr<Decision> DecideAppend(const CommandEnvelope& envelope,
                                        const ItemState& state,
                                        const std::string& fingerprint);

  EventStore* const store_;
  const Options options_;
  ItemStateCache cache_;
};

// A canonical encoding of the command, its expected version and its target:
// equal for equal requests, different for any difference. Recorded with a
// request_id to recognise a retried request.
std::string CommandFingerprint(const CommandEnvelope& envelope);

}  // namespace inventory

#endif  // INVENTORY_COMMAND_SERVICE_APPLICATION_ITEM_COMMAND_HANDLER_H_
