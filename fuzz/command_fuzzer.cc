// Fuzzes the write side from request to recorded fact: a command request of
// any content is validated into a domain command (command_requests.h) and
// decided (item.h) against an item whose state is a fuzzed history of
// events folded with Evolve.
//
// Invariants checked:
//  * validation accepts a request exactly when an independent reading of
//    the value-object rules (item_id, sku, name, quantity;
//    docs/architecture.md, "The domain") does; a refusal is INVALID_ARGUMENT
//    naming the first bad field; an accepted envelope carries the request's
//    values (the name trimmed);
//  * Evolve keeps stock within [0, INT64_MAX], counts versions, and Replay
//    is the same fold;
//  * Decide answers with exactly the status item.h documents for the state
//    and command (OK, NOT_FOUND, ALREADY_EXISTS or FAILED_PRECONDITION);
//    on OK it records one event of the command's kind, for the command's
//    item, which, applied, changes the state as the command says and comes
//    back unchanged through the stored form (JSON payload and back).
//
// Input, read with FuzzedDataProvider: from the front the strings item_id,
// sku, name, request_id and the name used by the history's events; from
// the back the command kind, quantity, expected_version and the history.
#include <fuzzer/FuzzedDataProvider.h>

#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "command-service/application/item_event_codec.h"
#include "command-service/domain/item.h"
#include "command-service/server/command_requests.h"
#include "common/base/field_violation.h"
#include "fuzz/fuzz_check.h"
#include "google/protobuf/util/message_differencer.h"

namespace inventory {
namespace {

constexpr int64_t kMaxStock = std::numeric_limits<int64_t>::max();

enum Kind { kCreate, kRename, kCheckIn, kRemove, kDeactivate, kReactivate };

// The fields of a request, whichever kind it is.
struct Request {
  Kind kind = kCreate;
  std::string item_id;
  std::string sku;
  std::string name;
  int64_t quantity = 0;
  std::optional<int64_t> expected_version;
  std::string request_id;
};

// ---- The value-object rules, written apart from the domain's code. ----

bool ValidItemId(const std::string& v) {
  if (v.empty() || v.size() > 64) return false;
  for (char c : v) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                    (c >= '0' && c <= '9') || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

bool ValidSku(const std::string& v) {
  if (v.size() < 3 || v.size() > 32) return false;
  for (char c : v) {
    if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-')) {
      return false;
    }
  }
  return true;
}

bool ValidQuantity(int64_t q) { return q >= 1 && q <= 1'000'000; }

// The well-formed UTF-8 byte sequences (Unicode, table 3-7): the allowed
// range of the second byte depends on the first; later bytes are 80..BF.
struct SequenceRule {
  unsigned char first_lo, first_hi, second_lo, second_hi;
  int length;
};
constexpr SequenceRule kSequences[] = {
    {0xC2, 0xDF, 0x80, 0xBF, 2}, {0xE0, 0xE0, 0xA0, 0xBF, 3},
    {0xE1, 0xEC, 0x80, 0xBF, 3}, {0xED, 0xED, 0x80, 0x9F, 3},
    {0xEE, 0xEF, 0x80, 0xBF, 3}, {0xF0, 0xF0, 0x90, 0xBF, 4},
    {0xF1, 0xF3, 0x80, 0xBF, 4}, {0xF4, 0xF4, 0x80, 0x8F, 4},
};

// The name an ItemName made of `v` must hold, or nullopt when it must be
// refused: trimmed of ASCII whitespace, well-formed UTF-8 without C0, DEL
// or C1 controls, 1 to 200 code points.
std::optional<std::string> ValidName(const std::string& v) {
  const char* kSpace = " \t\n\v\f\r";
  const size_t begin = v.find_first_not_of(kSpace);
  if (begin == std::string::npos) return std::nullopt;  // nothing left
  const std::string name =
      v.substr(begin, v.find_last_not_of(kSpace) - begin + 1);
  size_t code_points = 0;
  for (size_t i = 0; i < name.size(); ++code_points) {
    const unsigned char b = static_cast<unsigned char>(name[i]);
    if (b < 0x80) {
      if (b < 0x20 || b == 0x7F) return std::nullopt;
      ++i;
      continue;
    }
    const SequenceRule* rule = nullptr;
    for (const SequenceRule& r : kSequences) {
      if (b >= r.first_lo && b <= r.first_hi) rule = &r;
    }
    if (rule == nullptr || i + rule->length > name.size()) return std::nullopt;
    const unsigned char second = static_cast<unsigned char>(name[i + 1]);
    if (second < rule->second_lo || second > rule->second_hi) {
      return std::nullopt;
    }
    for (int k = 2; k < rule->length; ++k) {
      const unsigned char c = static_cast<unsigned char>(name[i + k]);
      if (c < 0x80 || c > 0xBF) return std::nullopt;
    }
    if (b == 0xC2 && second <= 0x9F) return std::nullopt;  // U+0080-009F
    i += rule->length;
  }
  if (code_points > 200) return std::nullopt;
  return name;
}

// The field validation must name, or "" when the request is valid.
std::string FirstBadField(const Request& r) {
  if (!ValidItemId(r.item_id)) return "item_id";
  switch (r.kind) {
    case kCreate:
      if (!ValidSku(r.sku)) return "sku";
      return ValidName(r.name) ? "" : "name";
    case kRename:
      return ValidName(r.name) ? "" : "name";
    case kCheckIn:
    case kRemove:
      return ValidQuantity(r.quantity) ? "" : "quantity";
    case kDeactivate:
    case kReactivate:
      return "";
  }
  return "";
}

// ---- Validation. ----

template <typename Proto>
void FillCommon(const Request& r, Proto* proto) {
  proto->set_item_id(r.item_id);
  proto->set_request_id(r.request_id);
  if (r.expected_version.has_value()) {
    proto->set_expected_version(*r.expected_version);
  }
}

absl::StatusOr<CommandEnvelope> Validate(const Request& r,
                                         const std::string& correlation_id) {
  switch (r.kind) {
    case kCreate: {
      inventory::v1::CreateItemRequest proto;
      proto.set_item_id(r.item_id);
      proto.set_sku(r.sku);
      proto.set_name(r.name);
      proto.set_request_id(r.request_id);
      return ToEnvelope(proto, correlation_id);
    }
    case kRename: {
      inventory::v1::RenameItemRequest proto;
      FillCommon(r, &proto);
      proto.set_name(r.name);
      return ToEnvelope(proto, correlation_id);
    }
    case kCheckIn: {
      inventory::v1::CheckInItemsRequest proto;
      FillCommon(r, &proto);
      proto.set_quantity(r.quantity);
      return ToEnvelope(proto, correlation_id);
    }
    case kRemove: {
      inventory::v1::RemoveItemsRequest proto;
      FillCommon(r, &proto);
      proto.set_quantity(r.quantity);
      return ToEnvelope(proto, correlation_id);
    }
    case kDeactivate: {
      inventory::v1::DeactivateItemRequest proto;
      FillCommon(r, &proto);
      return ToEnvelope(proto, correlation_id);
    }
    case kReactivate: {
      inventory::v1::ReactivateItemRequest proto;
      FillCommon(r, &proto);
      return ToEnvelope(proto, correlation_id);
    }
  }
  return absl::InternalError("unreachable");
}

void CheckValidation(const Request& r,
                     const absl::StatusOr<CommandEnvelope>& envelope) {
  const std::string bad = FirstBadField(r);
  const std::string input =
      absl::StrCat("kind ", r.kind, " item_id \"", absl::CHexEscape(r.item_id),
                   "\" sku \"", absl::CHexEscape(r.sku), "\" name \"",
                   absl::CHexEscape(r.name), "\" quantity ", r.quantity);
  if (!bad.empty()) {
    FUZZ_CHECK(!envelope.ok(), "accepted, but ", bad, " is invalid: ", input);
    FUZZ_CHECK(envelope.status().code() == absl::StatusCode::kInvalidArgument,
               envelope.status().ToString());
    const std::optional<FieldViolation> violation =
        FieldViolationOf(envelope.status());
    FUZZ_CHECK(violation.has_value() && violation->field == bad,
               "expected a violation of ", bad, ", got ",
               envelope.status().ToString(), " for ", input);
    return;
  }
  FUZZ_CHECK(envelope.ok(),
             "refused a valid request: ", envelope.status().ToString(), " for ",
             input);
  const CommandEnvelope& e = *envelope;
  FUZZ_CHECK(static_cast<int>(e.command.index()) == r.kind, input);
  FUZZ_CHECK(TargetOf(e.command).value() == r.item_id, input);
  FUZZ_CHECK(e.request_id == r.request_id, input);
  FUZZ_CHECK(e.expected_version ==
                 (r.kind == kCreate ? std::nullopt : r.expected_version),
             input);
  if (const auto* c = std::get_if<CreateItem>(&e.command)) {
    FUZZ_CHECK(c->sku.value() == r.sku, input);
    FUZZ_CHECK(c->name.value() == *ValidName(r.name), input);
  } else if (const auto* c = std::get_if<RenameItem>(&e.command)) {
    FUZZ_CHECK(c->name.value() == *ValidName(r.name), input);
  } else if (const auto* c = std::get_if<CheckInItems>(&e.command)) {
    FUZZ_CHECK(c->quantity.value() == r.quantity, input);
  } else if (const auto* c = std::get_if<RemoveItems>(&e.command)) {
    FUZZ_CHECK(c->quantity.value() == r.quantity, input);
  }
}

// ---- The item's history. ----

// Any events at all (events are never re-validated), for `item_id`.
std::vector<ItemEvent> History(FuzzedDataProvider* in,
                               const std::string& item_id,
                               const std::string& name) {
  std::vector<ItemEvent> events;
  const int count = in->ConsumeIntegralInRange<int>(0, 12);
  for (int i = 0; i < count; ++i) {
    switch (in->ConsumeIntegralInRange<int>(0, 5)) {
      case 0:
        events.push_back(ItemCreated{item_id, "SKU-1", name});
        break;
      case 1:
        events.push_back(ItemRenamed{item_id, in->ConsumeBool() ? name : ""});
        break;
      case 2:
        events.push_back(
            ItemsCheckedIn{item_id, in->ConsumeIntegral<int64_t>()});
        break;
      case 3:
        events.push_back(ItemsRemoved{item_id, in->ConsumeIntegral<int64_t>()});
        break;
      case 4:
        events.push_back(ItemDeactivated{item_id});
        break;
      default:
        events.push_back(ItemReactivated{item_id});
        break;
    }
  }
  return events;
}

bool SameState(const ItemState& a, const ItemState& b) {
  return a.exists == b.exists && a.sku == b.sku && a.name == b.name &&
         a.quantity_on_hand == b.quantity_on_hand && a.active == b.active &&
         a.version == b.version;
}

ItemState Fold(const std::vector<ItemEvent>& events) {
  ItemState state;
  for (const ItemEvent& event : events) {
    const ItemState next = Evolve(state, event);
    FUZZ_CHECK(next.version == state.version + 1, "version not counted");
    FUZZ_CHECK(next.quantity_on_hand >= 0, "negative stock ",
               next.quantity_on_hand);
    state = next;
  }
  FUZZ_CHECK(SameState(state, Replay(ItemState{}, events)),
             "Replay differs from folding Evolve");
  return state;
}

// ---- Decide. ----

// The status item.h documents for `command` on `state`.
absl::StatusCode ExpectedCode(const ItemState& state,
                              const ItemCommand& command) {
  using absl::StatusCode;
  if (std::holds_alternative<CreateItem>(command)) {
    return state.exists ? StatusCode::kAlreadyExists : StatusCode::kOk;
  }
  if (!state.exists) return StatusCode::kNotFound;
  if (std::holds_alternative<ReactivateItem>(command)) {
    return state.active ? StatusCode::kFailedPrecondition : StatusCode::kOk;
  }
  if (!state.active) return StatusCode::kFailedPrecondition;
  if (const auto* c = std::get_if<RenameItem>(&command)) {
    return c->name.value() == state.name ? StatusCode::kFailedPrecondition
                                         : StatusCode::kOk;
  }
  if (const auto* c = std::get_if<CheckInItems>(&command)) {
    return state.quantity_on_hand > kMaxStock - c->quantity.value()
               ? StatusCode::kFailedPrecondition
               : StatusCode::kOk;
  }
  if (const auto* c = std::get_if<RemoveItems>(&command)) {
    return c->quantity.value() > state.quantity_on_hand
               ? StatusCode::kFailedPrecondition
               : StatusCode::kOk;
  }
  return StatusCode::kOk;  // DeactivateItem on an active item
}

// The state an accepted command must lead to.
ItemState ExpectedState(ItemState state, const ItemCommand& command) {
  ++state.version;
  if (const auto* c = std::get_if<CreateItem>(&command)) {
    state.exists = true;
    state.active = true;
    state.sku = c->sku.value();
    state.name = c->name.value();
    state.quantity_on_hand = 0;
  } else if (const auto* c = std::get_if<RenameItem>(&command)) {
    state.name = c->name.value();
  } else if (const auto* c = std::get_if<CheckInItems>(&command)) {
    state.quantity_on_hand += c->quantity.value();
  } else if (const auto* c = std::get_if<RemoveItems>(&command)) {
    state.quantity_on_hand -= c->quantity.value();
  } else if (std::holds_alternative<DeactivateItem>(command)) {
    state.active = false;
  } else {
    state.active = true;
  }
  return state;
}

inventory::v1::Event AsProto(const ItemEvent& event) {
  inventory::v1::Event proto;
  SetPayload(event, &proto);
  return proto;
}

// The event survives its stored form: encoded as a type name plus JSON,
// then decoded as the store's readers do.
void CheckStoredForm(const ItemEvent& event, const std::string& request_id) {
  const EventMetadata metadata{request_id, "correlation", "causation"};
  absl::StatusOr<EventData> data = ToEventData(event, metadata);
  FUZZ_CHECK(data.ok(),
             "cannot store a decided event: ", data.status().ToString());
  FUZZ_CHECK(data->metadata == metadata, "metadata changed");
  RecordedEvent recorded;
  recorded.global_position = 1;
  recorded.stream_version = 1;
  recorded.event_type = data->event_type;
  recorded.payload_json = data->payload_json;
  recorded.metadata = data->metadata;
  absl::StatusOr<ItemEvent> decoded = ItemEventFromRecorded(recorded);
  FUZZ_CHECK(decoded.ok(),
             "cannot read a stored event back: ", decoded.status().ToString(),
             " ", data->payload_json);
  FUZZ_CHECK(google::protobuf::util::MessageDifferencer::Equals(
                 AsProto(event), AsProto(*decoded)),
             "stored form changed the event: ", data->payload_json);
}

void CheckDecide(const ItemState& state, const ItemCommand& command,
                 const std::string& request_id) {
  const absl::StatusOr<std::vector<ItemEvent>> events = Decide(state, command);
  const absl::StatusCode expected = ExpectedCode(state, command);
  FUZZ_CHECK(events.status().code() == expected, "Decide answered ",
             events.status().ToString(), ", item.h says ",
             absl::StatusCodeToString(expected));
  if (!events.ok()) return;
  FUZZ_CHECK(events->size() == 1, "one event per command, got ",
             events->size());
  const ItemEvent& event = events->front();
  FUZZ_CHECK(event.index() == command.index(), "event of another kind");
  const inventory::v1::Event proto = AsProto(event);
  const google::protobuf::Message& payload = proto.GetReflection()->GetMessage(
      proto, proto.GetDescriptor()->FindFieldByNumber(
                 static_cast<int>(proto.payload_case())));
  const auto* id_field = payload.GetDescriptor()->FindFieldByName("item_id");
  FUZZ_CHECK(payload.GetReflection()->GetString(payload, id_field) ==
                 TargetOf(command).value(),
             "event for another item");
  FUZZ_CHECK(SameState(Evolve(state, event), ExpectedState(state, command)),
             "the event does not do what the command says");
  CheckStoredForm(event, request_id);
}

}  // namespace
}  // namespace inventory

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using inventory::Request;
  FuzzedDataProvider in(data, size);
  Request r;
  r.item_id = in.ConsumeRandomLengthString(80);
  r.sku = in.ConsumeRandomLengthString(40);
  r.name = in.ConsumeRandomLengthString(900);
  r.request_id = in.ConsumeRandomLengthString(40);
  const std::string history_name = in.ConsumeRandomLengthString(40);
  r.kind = static_cast<inventory::Kind>(in.ConsumeIntegralInRange<int>(0, 5));
  // Mostly quantities near the valid range, sometimes any int64.
  r.quantity = in.ConsumeBool()
                   ? in.ConsumeIntegralInRange<int64_t>(-2, 1'000'002)
                   : in.ConsumeIntegral<int64_t>();
  if (in.ConsumeBool()) r.expected_version = in.ConsumeIntegral<int64_t>();

  const absl::StatusOr<inventory::CommandEnvelope> envelope =
      inventory::Validate(r, "correlation");
  inventory::CheckValidation(r, envelope);

  const inventory::ItemState state =
      inventory::Fold(inventory::History(&in, r.item_id, history_name));
  if (envelope.ok()) {
    inventory::CheckDecide(state, envelope->command, r.request_id);
  }
  return 0;
}
