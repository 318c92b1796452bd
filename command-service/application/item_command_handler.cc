#include "command-service/application/item_command_handler.h"

#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/base/error_reason.h"
#include "common/base/field_violation.h"
#include "common/base/overloaded.h"
#include "common/base/status_macros.h"
#include "common/base/uuid.h"

namespace inventory {
namespace {

constexpr size_t kMaxRequestIdLength = 128;

absl::Status ValidateEnvelope(const CommandEnvelope& envelope) {
  if (envelope.expected_version.has_value() && *envelope.expected_version < 0) {
    return InvalidField("expected_version", "must not be negative");
  }
  const std::string& id = envelope.request_id;
  bool printable = true;
  for (char c : id) printable = printable && c >= 0x20 && c <= 0x7e;
  if (id.size() > kMaxRequestIdLength || !printable) {
    return InvalidField("request_id",
                        absl::StrCat("must be at most ", kMaxRequestIdLength,
                                     " printable ASCII characters"));
  }
  return absl::OkStatus();
}

// Length-prefixed, so no two different field lists encode alike.
void AddPart(std::string* out, absl::string_view part) {
  absl::StrAppend(out, part.size(), ":", part, ";");
}

CommandResult ResultOf(const ItemId& item_id, const AppendResult& append) {
  return CommandResult{item_id.value(), append.stream_version,
                       append.global_position, append.replayed};
}

// Step 2: the events `envelope` records on an item in `state`, after
// checking the caller's expected version; or why it is refused.
absl::StatusOr<std::vector<ItemEvent>> DecideOn(const CommandEnvelope& envelope,
                                                const ItemState& state) {
  if (envelope.expected_version.has_value() &&
      *envelope.expected_version != state.version) {
    return WithReason(
        absl::AbortedError(absl::StrCat("item is at version ", state.version,
                                        ", expected ",
                                        *envelope.expected_version)),
        reason::kVersionConflict,
        {{"expected_version", absl::StrCat(*envelope.expected_version)},
         {"actual_version", absl::StrCat(state.version)}});
  }
  return Decide(state, envelope.command);
}

// What is recorded with the events of `envelope`, which carry its
// request_id; the causation is the request (or a new id that starts its
// own correlation when the caller gave neither).
ItemChanges ChangesWithoutEvents(const CommandEnvelope& envelope) {
  ItemChanges changes;
  EventMetadata& metadata = changes.metadata;
  metadata.request_id = envelope.request_id;
  metadata.causation_id =
      envelope.request_id.empty() ? NewUuid() : envelope.request_id;
  metadata.correlation_id = envelope.correlation_id.empty()
                                ? metadata.causation_id
                                : envelope.correlation_id;
  changes.fingerprint = CommandFingerprint(envelope);
  return changes;
}

absl::Status GaveUp(int attempts) {
  return WithReason(absl::AbortedError(absl::StrCat(
                        "item is being changed concurrently; gave up after ",
                        attempts, " attempts")),
                    reason::kConcurrentModification,
                    {{"attempts", absl::StrCat(attempts)}});
}

}  // namespace

std::string CommandFingerprint(const CommandEnvelope& envelope) {
  std::string out;
  std::visit(
      Overloaded{
          [&](const CreateItem& c) {
            AddPart(&out, "CreateItem");
            AddPart(&out, c.sku.value());
            AddPart(&out, c.name.value());
          },
          [&](const RenameItem& c) {
            AddPart(&out, "RenameItem");
            AddPart(&out, c.name.value());
          },
          [&](const CheckInItems& c) {
            AddPart(&out, "CheckInItems");
            AddPart(&out, absl::StrCat(c.quantity.value()));
          },
          [&](const RemoveItems& c) {
            AddPart(&out, "RemoveItems");
            AddPart(&out, absl::StrCat(c.quantity.value()));
          },
          [&](const DeactivateItem&) { AddPart(&out, "DeactivateItem"); },
          [&](const ReactivateItem&) { AddPart(&out, "ReactivateItem"); },
      },
      envelope.command);
  AddPart(&out, TargetOf(envelope.command).value());
  AddPart(&out, envelope.expected_version.has_value()
                    ? absl::StrCat(*envelope.expected_version)
                    : "any");
  return out;
}

ItemCommandHandler::ItemCommandHandler(EventStore* store, Options options)
    : options_(options),
      store_repository_(store),
      repository_(&store_repository_, options.cache_capacity) {}

absl::StatusOr<ItemState> ItemCommandHandler::Load(const ItemId& item_id) {
  INVENTORY_ASSIGN_OR_RETURN(LoadedItem loaded,
                             store_repository_.Load(item_id));
  return loaded.state;
}

absl::StatusOr<CommandResult> ItemCommandHandler::Handle(
    const CommandEnvelope& envelope) {
  INVENTORY_RETURN_IF_ERROR(ValidateEnvelope(envelope));
  const ItemId& item_id = TargetOf(envelope.command);
  ItemChanges changes = ChangesWithoutEvents(envelope);
  // 1. Load (usually from the cache: maybe stale).
  INVENTORY_ASSIGN_OR_RETURN(LoadedItem item, repository_.Load(item_id));
  for (int attempt = 1;; ++attempt) {
    // 2. Decide.
    absl::StatusOr<std::vector<ItemEvent>> events =
        DecideOn(envelope, item.state);
    if (!events.ok()) {
      if (item.fresh) {
        return Refused(envelope, changes.fingerprint, events.status());
      }
      // Decided on a cached state: the refusal may be stale.
      INVENTORY_ASSIGN_OR_RETURN(
          item, repository_.LoadFresh(item_id, std::move(item.state)));
      continue;
    }
    // 3. Save, expecting the version decided on.
    changes.events = *std::move(events);
    absl::StatusOr<AppendResult> saved =
        repository_.Save(item_id, item.state, changes);
    if (saved.ok()) return ResultOf(item_id, *saved);
    if (saved.status().code() != absl::StatusCode::kAborted) {
      return saved.status();
    }
    // Another writer got there first (or the cache was behind): decide
    // again on the item's current events.
    if (attempt >= options_.max_attempts) return GaveUp(attempt);
    INVENTORY_ASSIGN_OR_RETURN(
        item, repository_.LoadFresh(item_id, std::move(item.state)));
  }
}

absl::StatusOr<CommandResult> ItemCommandHandler::Refused(
    const CommandEnvelope& envelope, const std::string& fingerprint,
    absl::Status refusal) {
  // A refused command may be the retry of one that was applied: then the
  // original answer is due, not the refusal.
  if (envelope.request_id.empty()) return refusal;
  INVENTORY_ASSIGN_OR_RETURN(std::optional<RecordedRequest> recorded,
                             repository_.FindSave(envelope.request_id));
  if (!recorded.has_value()) return refusal;
  if (recorded->fingerprint != fingerprint) return RequestIdReused();
  CommandResult result = ResultOf(TargetOf(envelope.command), recorded->result);
  result.replayed = true;
  return result;
}

}  // namespace inventory
