#include "command-service/application/item_command_handler.h"

#include <vector>

#include "absl/strings/str_cat.h"
#include "command-service/application/item_event_codec.h"
#include "command-service/domain/overloaded.h"
#include "common/field_violation.h"
#include "common/status_macros.h"
#include "common/uuid.h"

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

std::string Fingerprint(const CommandEnvelope& envelope) {
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
    : store_(store), options_(options) {}

absl::StatusOr<ItemState> ItemCommandHandler::Load(const ItemId& item_id) {
  const std::string stream_id = item_id.StreamId();
  ItemState state;
  for (;;) {
    ASSIGN_OR_RETURN(
        std::vector<RecordedEvent> page,
        store_->ReadStream(stream_id, state.version + 1, kLoadPageSize));
    for (const RecordedEvent& recorded : page) {
      ASSIGN_OR_RETURN(ItemEvent event, ItemEventFromRecorded(recorded));
      state = Evolve(std::move(state), event);
    }
    if (static_cast<int64_t>(page.size()) < kLoadPageSize) return state;
  }
}

absl::StatusOr<CommandResult> ItemCommandHandler::Handle(
    const CommandEnvelope& envelope) {
  RETURN_IF_ERROR(ValidateEnvelope(envelope));
  const ItemId& item_id = TargetOf(envelope.command);
  const std::string fingerprint = Fingerprint(envelope);
  for (int attempt = 1;; ++attempt) {
    // Checked on every attempt: the race just lost may have been against a
    // retry of this very request.
    ASSIGN_OR_RETURN(std::optional<CommandResult> replay,
                     FindReplay(envelope, fingerprint));
    if (replay.has_value()) return *replay;

    ASSIGN_OR_RETURN(ItemState state, Load(item_id));
    if (envelope.expected_version.has_value() &&
        *envelope.expected_version != state.version) {
      return absl::AbortedError(absl::StrCat("item is at version ",
                                             state.version, ", expected ",
                                             *envelope.expected_version));
    }
    ASSIGN_OR_RETURN(AppendRequest append,
                     BuildAppend(envelope, state, fingerprint));
    absl::StatusOr<AppendResult> appended = store_->Append(append);
    if (appended.ok()) return ResultOf(item_id, *appended);
    const bool lost_race =
        appended.status().code() == absl::StatusCode::kAborted;
    if (!lost_race || envelope.expected_version.has_value()) {
      return appended.status();
    }
    if (attempt >= options_.max_attempts) {
      return absl::AbortedError(
          absl::StrCat("item is being changed concurrently; gave up after ",
                       attempt, " attempts"));
    }
  }
}

absl::StatusOr<std::optional<CommandResult>> ItemCommandHandler::FindReplay(
    const CommandEnvelope& envelope, const std::string& fingerprint) {
  if (envelope.request_id.empty()) return std::optional<CommandResult>();
  ASSIGN_OR_RETURN(std::optional<RecordedRequest> recorded,
                   store_->FindRequest(envelope.request_id));
  if (!recorded.has_value()) return std::optional<CommandResult>();
  if (recorded->fingerprint != fingerprint) return RequestIdReused();
  CommandResult result = ResultOf(TargetOf(envelope.command), recorded->result);
  result.replayed = true;
  return std::optional<CommandResult>(result);
}

absl::StatusOr<AppendRequest> ItemCommandHandler::BuildAppend(
    const CommandEnvelope& envelope, const ItemState& state,
    const std::string& fingerprint) {
  ASSIGN_OR_RETURN(std::vector<ItemEvent> events,
                   Decide(state, envelope.command));
  EventMetadata metadata;
  metadata.request_id = envelope.request_id;
  metadata.causation_id =
      envelope.request_id.empty() ? NewUuid() : envelope.request_id;
  metadata.correlation_id = envelope.correlation_id.empty()
                                ? metadata.causation_id
                                : envelope.correlation_id;
  AppendRequest append;
  append.stream_id = TargetOf(envelope.command).StreamId();
  append.expected_version = ExpectedVersion::Exact(state.version);
  append.request_id = envelope.request_id;
  append.request_fingerprint = fingerprint;
  for (const ItemEvent& event : events) {
    ASSIGN_OR_RETURN(EventData data, ToEventData(event, metadata));
    append.events.push_back(std::move(data));
  }
  return append;
}

}  // namespace inventory
