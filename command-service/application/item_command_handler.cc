#include "command-service/application/item_command_handler.h"

#include <vector>

#include "absl/strings/str_cat.h"
#include "command-service/application/item_event_codec.h"
#include "common/base/error_reason.h"
#include "common/base/field_violation.h"
#include "common/base/overloaded.h"
#include "common/base/status_macros.h"
#include "common/base/uuid.h"

namespace inventory {
namespace {

constexpr size_t kMaxRequestIdLength = 128;
constexpr int64_t kLoadPageSize = 512;

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
    : store_(store), options_(options), cache_(options.cache_capacity) {}

absl::StatusOr<ItemState> ItemCommandHandler::Load(const ItemId& item_id) {
  return CatchUp(item_id, ItemState());
}

absl::StatusOr<ItemState> ItemCommandHandler::CatchUp(const ItemId& item_id,
                                                      ItemState state) {
  const std::string stream_id = item_id.StreamId();
  for (;;) {
    INVENTORY_ASSIGN_OR_RETURN(
        std::vector<RecordedEvent> page,
        store_->ReadStream(stream_id, state.version + 1, kLoadPageSize));
    for (const RecordedEvent& recorded : page) {
      INVENTORY_ASSIGN_OR_RETURN(ItemEvent event,
                                 ItemEventFromRecorded(recorded));
      state = Evolve(std::move(state), event);
    }
    if (static_cast<int64_t>(page.size()) < kLoadPageSize) return state;
  }
}

absl::StatusOr<CommandResult> ItemCommandHandler::Handle(
    const CommandEnvelope& envelope) {
  INVENTORY_RETURN_IF_ERROR(ValidateEnvelope(envelope));
  const ItemId& item_id = TargetOf(envelope.command);
  const std::string fingerprint = CommandFingerprint(envelope);

  // `fresh`: the state was just read from the store, so a refusal computed
  // from it is the answer. A cached state gets read again first.
  std::optional<ItemState> cached = cache_.Get(item_id.value());
  bool fresh = !cached.has_value();
  ItemState state;
  if (cached.has_value()) {
    state = std::move(*cached);
  } else {
    INVENTORY_ASSIGN_OR_RETURN(state, Load(item_id));
    cache_.Put(item_id.value(), state);
  }
  auto refresh = [&]() -> absl::Status {
    INVENTORY_ASSIGN_OR_RETURN(state, CatchUp(item_id, std::move(state)));
    cache_.Put(item_id.value(), state);
    fresh = true;
    return absl::OkStatus();
  };

  for (int attempt = 1;; ++attempt) {
    absl::StatusOr<Decision> decision =
        DecideAppend(envelope, state, fingerprint);
    if (!decision.ok()) {
      if (!fresh) {
        INVENTORY_RETURN_IF_ERROR(refresh());
        continue;
      }
      // A refused command may be the retry of one that was applied: then
      // the original answer is due, not the refusal.
      INVENTORY_ASSIGN_OR_RETURN(std::optional<CommandResult> replay,
                                 FindReplay(envelope, fingerprint));
      if (replay.has_value()) return *replay;
      return decision.status();
    }
    absl::StatusOr<AppendResult> appended = store_->Append(decision->append);
    if (appended.ok()) {
      if (!appended->replayed) {
        for (const ItemEvent& event : decision->events) {
          state = Evolve(std::move(state), event);
        }
        if (state.version == appended->stream_version) {
          cache_.Put(item_id.value(), state);
        } else {
          cache_.Erase(item_id.value());
        }
      }
      return ResultOf(item_id, *appended);
    }
    if (appended.status().code() != absl::StatusCode::kAborted) {
      return appended.status();
    }
    // Another writer got there first (or the cache was behind): decide
    // again on the item's current events.
    if (attempt >= options_.max_attempts) {
      return WithReason(
          absl::AbortedError(
              absl::StrCat("item is being changed concurrently; gave up after ",
                           attempt, " attempts")),
          reason::kConcurrentModification,
          {{"attempts", absl::StrCat(attempt)}});
    }
    INVENTORY_RETURN_IF_ERROR(refresh());
  }
}

absl::StatusOr<std::optional<CommandResult>> ItemCommandHandler::FindReplay(
    const CommandEnvelope& envelope, const std::string& fingerprint) {
  if (envelope.request_id.empty()) return std::optional<CommandResult>();
  INVENTORY_ASSIGN_OR_RETURN(std::optional<RecordedRequest> recorded,
                             store_->FindRequest(envelope.request_id));
  if (!recorded.has_value()) return std::optional<CommandResult>();
  if (recorded->fingerprint != fingerprint) return RequestIdReused();
  CommandResult result = ResultOf(TargetOf(envelope.command), recorded->result);
  result.replayed = true;
  return std::optional<CommandResult>(result);
}

absl::StatusOr<ItemCommandHandler::Decision> ItemCommandHandler::DecideAppend(
    const CommandEnvelope& envelope, const ItemState& state,
    const std::string& fingerprint) {
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
  Decision decision;
  INVENTORY_ASSIGN_OR_RETURN(decision.events, Decide(state, envelope.command));
  EventMetadata metadata;
  metadata.request_id = envelope.request_id;
  metadata.causation_id =
      envelope.request_id.empty() ? NewUuid() : envelope.request_id;
  metadata.correlation_id = envelope.correlation_id.empty()
                                ? metadata.causation_id
                                : envelope.correlation_id;
  AppendRequest& append = decision.append;
  append.stream_id = TargetOf(envelope.command).StreamId();
  append.expected_version = ExpectedVersion::Exact(state.version);
  append.request_id = envelope.request_id;
  append.request_fingerprint = fingerprint;
  for (const ItemEvent& event : decision.events) {
    INVENTORY_ASSIGN_OR_RETURN(EventData data, ToEventData(event, metadata));
    append.events.push_back(std::move(data));
  }
  return decision;
}

}  // namespace inventory
