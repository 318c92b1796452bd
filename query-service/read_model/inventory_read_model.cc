#include "query-service/read_model/inventory_read_model.h"

#include <algorithm>
#include <iterator>
#include <limits>
#include <optional>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/base/field_violation.h"
#include "common/base/status_macros.h"
#include "query-service/read_model/item_projection.h"

namespace inventory {
namespace {

using inventory::v1::Event;
using inventory::v1::Item;

// Page tokens are opaque to clients: base64url of "<scope>\n<cursor>". The
// scope ties a token to the filter (or item) it was made for; the cursor is
// the last item_id returned (items) or the next version (history). Keyset
// cursors stay valid however many items are added meanwhile.
std::string MakeToken(absl::string_view scope, absl::string_view cursor) {
  return absl::WebSafeBase64Escape(absl::StrCat(scope, "\n", cursor));
}

// What a token says, or nullopt when it is not one MakeToken() wrote: it
// must decode, re-encode to itself, and name a scope of a kind this
// service issues, so that arbitrary text is told apart from a real token
// used with another query.
struct DecodedToken {
  std::string scope;
  std::string cursor;
};
std::optional<DecodedToken> DecodeToken(const std::string& token) {
  std::string decoded;
  if (!absl::WebSafeBase64Unescape(token, &decoded) ||
      absl::WebSafeBase64Escape(decoded) != token) {
    return std::nullopt;
  }
  // The cursor never holds a newline; the scope may (a filter's text).
  const size_t separator = decoded.rfind('\n');
  if (separator == std::string::npos) return std::nullopt;
  DecodedToken parts{decoded.substr(0, separator),
                     decoded.substr(separator + 1)};
  if (!absl::StartsWith(parts.scope, "items:") &&
      !absl::StartsWith(parts.scope, "history:")) {
    return std::nullopt;
  }
  return parts;
}

constexpr absl::string_view kNotIssued = "not a token issued by this service";

absl::StatusOr<std::string> CursorOf(const std::string& token,
                                     absl::string_view scope) {
  std::optional<DecodedToken> decoded = DecodeToken(token);
  if (!decoded.has_value()) return InvalidField("page_token", kNotIssued);
  if (decoded->scope != scope) {
    return InvalidField("page_token",
                        "was issued for a different query or filter");
  }
  return std::move(decoded->cursor);
}

std::string FilterScope(const ItemFilter& filter) {
  // Length-prefixed, so that different filters never share a scope.
  return absl::StrCat(
      "items:", filter.active.has_value() ? (*filter.active ? "1" : "0") : "-",
      ":", filter.name_contains.size(), ":", filter.name_contains, ":",
      filter.sku_prefix.size(), ":", filter.sku_prefix);
}

// Finds a text in names ignoring ASCII case: exactly what
// StrContains(AsciiStrToLower(name), AsciiStrToLower(text)) answers, since
// lowering is byte by byte, but with the text lowered once per call and no
// copy of any name. Bytes outside A-Z, including all bytes of multi-byte
// UTF-8 characters, only match themselves. Knuth-Morris-Pratt: each byte
// of a name is looked at a bounded number of times, so a name costs time
// linear in its length whatever the text.
class CaseInsensitiveNameSearch {
 public:
  explicit CaseInsensitiveNameSearch(absl::string_view text)
      : text_(absl::AsciiStrToLower(text)), fallback_(text_.size(), 0) {
    // fallback_[i]: length of the longest proper prefix of text_[0..i]
    // that is also a suffix of it.
    for (size_t i = 1, k = 0; i < text_.size(); ++i) {
      while (k > 0 && text_[i] != text_[k]) k = fallback_[k - 1];
      if (text_[i] == text_[k]) ++k;
      fallback_[i] = k;
    }
  }

  bool FoundIn(absl::string_view name) const {
    if (text_.empty()) return true;
    size_t matched = 0;
    for (const char byte : name) {
      const char c = absl::ascii_tolower(static_cast<unsigned char>(byte));
      while (matched > 0 && c != text_[matched]) {
        matched = fallback_[matched - 1];
      }
      if (c == text_[matched] && ++matched == text_.size()) return true;
    }
    return false;
  }

 private:
  const std::string text_;
  std::vector<size_t> fallback_;
};

bool Matches(const ItemFilter& filter, const CaseInsensitiveNameSearch& name,
             const Item& item) {
  if (filter.active.has_value() && item.active() != *filter.active) {
    return false;
  }
  if (!absl::StartsWith(item.sku(), filter.sku_prefix)) return false;
  return name.FoundIn(item.name());
}

// Why `event` cannot be applied to an item with `record` (null: an item
// not seen yet); "" when it can. Applying such an event anyway would make
// the model something other than the fold of the log.
std::string UnprojectableBecause(const Event& event, const Item* current) {
  if (event.payload_case() == Event::PAYLOAD_NOT_SET) {
    return "it has no payload: its type is unknown to this build of the "
           "query-service, or the command-service could not decode it";
  }
  if (ItemIdOf(event).empty()) return "it names no item";
  if (current == nullptr) {
    return event.payload_case() == Event::kItemCreated
               ? ""
               : "its item was never created";
  }
  if (event.payload_case() == Event::kItemCreated) {
    return "it creates an item that exists already";
  }
  if (event.stream_version() <= current->version()) {
    return absl::StrCat("its stream version does not follow the item's ",
                        current->version());
  }
  return "";
}

// The events of `history` up to and including stream version `version`,
// or end() when it holds no event of that version.
auto FindVersion(const std::vector<std::shared_ptr<const Event>>& history,
                 int64_t version) {
  auto found =
      std::lower_bound(history.begin(), history.end(), version,
                       [](const std::shared_ptr<const Event>& event,
                          int64_t v) { return event->stream_version() < v; });
  return found != history.end() && (*found)->stream_version() == version
             ? found
             : history.end();
}

}  // namespace

absl::Status InventoryReadModel::Apply(const Event& event) {
  absl::MutexLock lock(&mu_);
  if (event.global_position() <= position_) return absl::OkStatus();
  return ApplyLocked(Event(event));
}

absl::Status InventoryReadModel::ApplyAll(
    google::protobuf::RepeatedPtrField<Event>* events) {
  absl::MutexLock lock(&mu_);
  for (Event& event : *events) {
    INVENTORY_RETURN_IF_ERROR(ApplyLocked(std::move(event)));
  }
  return absl::OkStatus();
}

absl::Status InventoryReadModel::ApplyLocked(Event&& event) {
  if (event.global_position() <= position_) return absl::OkStatus();
  if (event.global_position() != position_ + 1) {
    return absl::OutOfRangeError(
        absl::StrCat("event at position ", event.global_position(),
                     " would leave a gap after ", position_));
  }
  const std::string item_id = ItemIdOf(event);
  auto found = items_.find(item_id);
  const std::string why = UnprojectableBecause(
      event, found != items_.end() ? &found->second.current : nullptr);
  if (!why.empty()) {
    stop_ = ProjectionStop{event.global_position(), event.event_type(),
                           event.stream_id(), event.stream_version(), why};
    return absl::FailedPreconditionError(absl::StrCat(
        "the event at position ", event.global_position(), " (type \"",
        event.event_type(), "\", stream \"", event.stream_id(), "\" version ",
        event.stream_version(), ") cannot be projected: ", why));
  }
  stop_.reset();
  position_ = event.global_position();
  position_event_id_ = event.event_id();
  ItemRecord& record = found != items_.end() ? found->second : items_[item_id];
  Item& item = record.current;
  const bool was_active = item.active();
  const int64_t old_quantity = item.quantity_on_hand();
  ApplyToItem(event, &item);
  record.history.push_back(std::make_shared<const Event>(std::move(event)));
  active_count_ +=
      static_cast<int64_t>(item.active()) - static_cast<int64_t>(was_active);
  // Clamped like the projection itself: a sum over all items may exceed
  // int64 only in theory, but a read model must never overflow.
  const int64_t delta = item.quantity_on_hand() - old_quantity;
  if (__builtin_add_overflow(total_quantity_, delta, &total_quantity_)) {
    total_quantity_ = std::numeric_limits<int64_t>::max();
  }
  if (item.active()) {
    low_stock_.Set(item_id, item.quantity_on_hand());
  } else if (was_active) {
    low_stock_.Erase(item_id);
  }
  return absl::OkStatus();
}

int64_t InventoryReadModel::position() const {
  absl::ReaderMutexLock lock(&mu_);
  return position_;
}

InventoryReadModel::Checkpoint InventoryReadModel::checkpoint() const {
  absl::ReaderMutexLock lock(&mu_);
  return Checkpoint{position_, position_event_id_};
}

std::optional<ProjectionStop> InventoryReadModel::stop() const {
  absl::ReaderMutexLock lock(&mu_);
  return stop_;
}

void InventoryReadModel::Reset() {
  absl::MutexLock lock(&mu_);
  position_ = 0;
  position_event_id_.clear();
  ++generation_;
  stop_.reset();
  items_.clear();
  active_count_ = 0;
  total_quantity_ = 0;
  low_stock_.Clear();
}

int64_t InventoryReadModel::generation() const {
  absl::ReaderMutexLock lock(&mu_);
  return generation_;
}

bool InventoryReadModel::WaitForPosition(int64_t min_position,
                                         absl::Time deadline) const {
  absl::ReaderMutexLock lock(&mu_);
  auto done = [this, min_position]() ABSL_SHARED_LOCKS_REQUIRED(mu_) {
    return position_ >= min_position || stop_.has_value();
  };
  // Counted while mu_ is held (shared, so the count is atomic): whoever
  // next holds mu_ exclusively finds this call counted and waiting.
  position_waiters_.fetch_add(1, std::memory_order_relaxed);
  mu_.AwaitWithDeadline(absl::Condition(&done), deadline);
  position_waiters_.fetch_sub(1, std::memory_order_relaxed);
  return position_ >= min_position;
}

bool InventoryReadModel::AwaitPositionWaitersForTesting(
    int count, absl::Time deadline) const {
  // Exclusive: granted only when no WaitForPosition holds mu_ between its
  // count and its wait. Each waiter's Await releases mu_, which re-checks
  // this condition.
  auto enough = [this, count]() {
    return position_waiters_.load(std::memory_order_relaxed) >= count;
  };
  bool reached = mu_.LockWhenWithDeadline(absl::Condition(&enough), deadline);
  // Checked again: a waiter may have timed out in between.
  reached = reached && enough();
  mu_.Unlock();
  return reached;
}

absl::StatusOr<ItemAtPosition> InventoryReadModel::GetItem(
    const std::string& item_id, std::optional<int64_t> as_of_version) const {
  absl::ReaderMutexLock lock(&mu_);
  auto it = items_.find(item_id);
  if (it == items_.end()) return absl::NotFoundError("item not found");
  const ItemRecord& record = it->second;
  if (!as_of_version.has_value()) {
    return ItemAtPosition{record.current, position_};
  }
  // Versions are the events' own stream versions, not places in the
  // history: the two differ for a stream whose versions have gaps.
  const auto last = FindVersion(record.history, *as_of_version);
  if (last == record.history.end()) {
    return absl::NotFoundError(absl::StrCat("item has no version ",
                                            *as_of_version, " (latest is ",
                                            record.current.version(), ")"));
  }
  // A temporal query is a replay of the item's events up to that version.
  ItemAtPosition result;
  for (auto it = record.history.begin(); it <= last; ++it) {
    ApplyToItem(**it, &result.item);
  }
  result.position = position_;
  return result;
}

absl::StatusOr<ItemPage> InventoryReadModel::ListItems(
    const ItemFilter& filter, size_t page_size, const std::string& page_token,
    size_t scan_limit) const {
  if (page_size == 0) return InvalidField("page_size", "must be at least 1");
  if (scan_limit == 0) {
    return absl::InvalidArgumentError("scan_limit must be at least 1");
  }
  const std::string scope = FilterScope(filter);
  std::string after;
  if (!page_token.empty()) {
    absl::StatusOr<std::string> cursor = CursorOf(page_token, scope);
    if (!cursor.ok()) return cursor.status();
    after = *cursor;
  }
  const CaseInsensitiveNameSearch name_search(filter.name_contains);
  absl::ReaderMutexLock lock(&mu_);
  ItemPage page;
  page.position = position_;
  auto it = page_token.empty() ? items_.begin() : items_.upper_bound(after);
  for (; it != items_.end(); ++it) {
    if (page.items_scanned == scan_limit) {
      // Out of budget with items left: resume right after the last item
      // checked. Those after the last match did not match, so the cursor
      // skips nothing (an item changed meanwhile is a concurrent change,
      // as for any keyset page).
      page.next_page_token = MakeToken(scope, std::prev(it)->first);
      break;
    }
    ++page.items_scanned;
    if (!Matches(filter, name_search, it->second.current)) continue;
    if (page.items.size() == page_size) {
      page.next_page_token = MakeToken(scope, page.items.back().item_id());
      break;
    }
    page.items.push_back(it->second.current);
  }
  return page;
}

absl::StatusOr<HistoryPage> InventoryReadModel::GetItemHistory(
    const std::string& item_id, size_t page_size,
    const std::string& page_token) const {
  if (page_size == 0) return InvalidField("page_size", "must be at least 1");
  const std::string scope = absl::StrCat("history:", item_id);
  // The cursor is the stream_version of the last event already returned.
  int64_t after_version = 0;
  if (!page_token.empty()) {
    absl::StatusOr<std::string> cursor = CursorOf(page_token, scope);
    if (!cursor.ok()) return cursor.status();
    if (!absl::SimpleAtoi(*cursor, &after_version) || after_version < 0) {
      return InvalidField("page_token", kNotIssued);
    }
  }
  absl::ReaderMutexLock lock(&mu_);
  auto it = items_.find(item_id);
  if (it == items_.end()) return absl::NotFoundError("item not found");
  const auto& history = it->second.history;
  HistoryPage page;
  page.position = position_;
  auto next = std::upper_bound(
      history.begin(), history.end(), after_version,
      [](int64_t v, const std::shared_ptr<const Event>& event) {
        return v < event->stream_version();
      });
  for (; next != history.end() && page.events.size() < page_size; ++next) {
    page.events.push_back(**next);
  }
  if (next != history.end()) {
    page.next_page_token =
        MakeToken(scope, absl::StrCat(page.events.back().stream_version()));
  }
  return page;
}

InventoryStats InventoryReadModel::GetStats(int64_t low_stock_threshold) const {
  absl::ReaderMutexLock lock(&mu_);
  InventoryStats stats;
  stats.position = position_;
  stats.item_count = static_cast<int64_t>(items_.size());
  stats.active_item_count = active_count_;
  stats.total_quantity_on_hand = total_quantity_;
  stats.low_stock_item_count = low_stock_.CountBelow(low_stock_threshold);
  stats.low_stock_item_ids = low_stock_.IdsBelow(
      low_stock_threshold, kMaxLowStockIds, &stats.index_nodes_visited);
  return stats;
}

std::optional<ItemAtPosition> InventoryReadModel::WaitForItemChange(
    const std::string& item_id, int64_t seen_version,
    absl::Time deadline) const {
  absl::ReaderMutexLock lock(&mu_);
  auto changed = [&]() ABSL_SHARED_LOCKS_REQUIRED(mu_) {
    auto it = items_.find(item_id);
    return it != items_.end() && it->second.current.version() > seen_version;
  };
  if (!mu_.AwaitWithDeadline(absl::Condition(&changed), deadline)) {
    return std::nullopt;
  }
  return ItemAtPosition{items_.find(item_id)->second.current, position_};
}

}  // namespace inventory
