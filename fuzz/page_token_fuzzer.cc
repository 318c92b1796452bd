// Fuzzes the page tokens of the read side (inventory_read_model.h) through
// its public API, on a small read model built once.
//
// Invariants checked: a page_token of any content either decodes to a page
// or is INVALID_ARGUMENT naming page_token (NOT_FOUND also for the history
// of an unknown item; page_size 0 is INVALID_ARGUMENT naming page_size). A
// page is never larger than page_size and is a contiguous run of the full
// answer (every matching item in item_id order, or every event of the
// item); it has a next_page_token exactly when the answer goes on after it,
// and following the tokens from there reaches the end of the answer, in
// order, without repeating or skipping. The full answer is not the model's
// own: a reference fold of the generated events (Reference below) says
// which items match a filter and which versions an item's history holds.
//
// Input: three selector bytes, each read as (byte - '0') modulo n, so that
// the digits of the seed files mean what they say: byte 0 picks the mode
// (n = 4), byte 1 the page size (n = 8), byte 2 the filter's `active`
// (n = 3: none, true, false) or the item whose history is read (n = 10:
// kItemIds[0] to [8], 9 an unknown item). The rest is the text:
//   0  ListItems: "<name_contains>\0<sku_prefix>\0<page_token>"
//   1  ListItems: the same, but the token is the base64url of the text
//      after the second \0 (the form of the tokens the service issues)
//   2  GetItemHistory: the page_token
//   3  GetItemHistory: the base64url of the text is the page_token
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "common/base/field_violation.h"
#include "fuzz/fuzz_check.h"
#include "query-service/read_model/inventory_read_model.h"

namespace inventory {
namespace {

using inventory::v1::Event;

// The items of the model, in no particular order; the histories below
// refer to them by index.
const char* const kItemIds[] = {"widget-1", "widget-10", "widget-2",
                                "B-7",      "a",         "a_b",
                                "Zed",      "0",         "gadget"};
constexpr int kItems = 9;

// The events of a small, varied inventory, in log order: several events
// per item, deactivated and reactivated items, mixed-case and non-ASCII
// names.
std::vector<Event> GeneratedLog() {
  std::vector<Event> log;
  int64_t position = 0;
  std::vector<int64_t> versions(kItems, 0);
  auto next = [&](int item) {
    Event event;
    event.set_global_position(++position);
    event.set_stream_id(absl::StrCat("item-", kItemIds[item]));
    event.set_stream_version(++versions[item]);
    event.mutable_recorded_at()->set_seconds(1700000000 + position);
    return event;
  };
  const char* const kNames[] = {"Blue Widget",  "Widget XL", "widget",
                                "Bolt",         "Anvil",     "Caf\xc3\xa9",
                                "Zed's Zapper", "Zero",      "Gadget Go"};
  for (int i = 0; i < kItems; ++i) {
    Event created = next(i);
    created.mutable_item_created()->set_item_id(kItemIds[i]);
    created.mutable_item_created()->set_sku(
        absl::StrCat(i % 3 ? "W-" : "G-", i));
    created.mutable_item_created()->set_name(kNames[i]);
    log.push_back(std::move(created));
  }
  for (int round = 0; round < 3; ++round) {
    for (int i = 0; i < kItems; i += 1 + round) {
      Event checked_in = next(i);
      checked_in.mutable_items_checked_in()->set_item_id(kItemIds[i]);
      checked_in.mutable_items_checked_in()->set_quantity(5 + i);
      log.push_back(std::move(checked_in));
    }
  }
  for (int i : {1, 4, 6}) {
    Event deactivated = next(i);
    deactivated.mutable_item_deactivated()->set_item_id(kItemIds[i]);
    log.push_back(std::move(deactivated));
  }
  Event reactivated = next(6);
  reactivated.mutable_item_reactivated()->set_item_id(kItemIds[6]);
  log.push_back(std::move(reactivated));
  Event renamed = next(0);
  renamed.mutable_item_renamed()->set_item_id(kItemIds[0]);
  renamed.mutable_item_renamed()->set_name("Blue Widget II");
  log.push_back(std::move(renamed));
  return log;
}

const std::vector<Event>& Log() {
  static const std::vector<Event>* const log =
      new std::vector<Event>(GeneratedLog());
  return *log;
}

const InventoryReadModel& Model() {
  static const InventoryReadModel* const model = [] {
    auto* m = new InventoryReadModel();
    for (const Event& event : Log()) {
      const absl::Status status = m->Apply(event);
      FUZZ_CHECK(status.ok(), status.ToString());
    }
    return m;
  }();
  return *model;
}

// What the answers should be, from the generated events alone: the fuzzer's
// own fold of Log(), sharing no code with the read model.
class Reference {
 public:
  static const Reference& Get() {
    static const Reference* const reference = new Reference(Log());
    return *reference;
  }

  // The ids of the items that match `filter`, in item_id order (byte by
  // byte, as std::string compares).
  std::vector<std::string> Matching(const ItemFilter& filter) const {
    std::vector<std::string> ids;
    for (const auto& [id, item] : items_) {
      if (filter.active.has_value() && item.active != *filter.active) continue;
      if (!absl::StartsWith(item.sku, filter.sku_prefix)) continue;
      if (!absl::StrContains(absl::AsciiStrToLower(item.name),
                             absl::AsciiStrToLower(filter.name_contains))) {
        continue;
      }
      ids.push_back(id);
    }
    std::sort(ids.begin(), ids.end());
    return ids;
  }

  // The stream versions of the item's events, in log order, as text.
  std::vector<std::string> History(const std::string& item_id) const {
    const auto it = items_.find(item_id);
    return it == items_.end() ? std::vector<std::string>()
                              : it->second.versions;
  }

 private:
  struct Item {
    std::string sku;
    std::string name;
    bool active = true;
    std::vector<std::string> versions;
  };

  explicit Reference(const std::vector<Event>& log) {
    for (const Event& event : log) {
      switch (event.payload_case()) {
        case Event::kItemCreated: {
          Item& item = items_[event.item_created().item_id()];
          item.sku = event.item_created().sku();
          item.name = event.item_created().name();
          Record(item, event);
          break;
        }
        case Event::kItemRenamed: {
          Item& item = items_.at(event.item_renamed().item_id());
          item.name = event.item_renamed().name();
          Record(item, event);
          break;
        }
        case Event::kItemsCheckedIn:
          Record(items_.at(event.items_checked_in().item_id()), event);
          break;
        case Event::kItemDeactivated: {
          Item& item = items_.at(event.item_deactivated().item_id());
          item.active = false;
          Record(item, event);
          break;
        }
        case Event::kItemReactivated: {
          Item& item = items_.at(event.item_reactivated().item_id());
          item.active = true;
          Record(item, event);
          break;
        }
        default:
          FUZZ_CHECK(false, "Log() made an event the reference does not know: ",
                     event.ShortDebugString());
      }
    }
  }

  static void Record(Item& item, const Event& event) {
    item.versions.push_back(absl::StrCat(event.stream_version()));
  }

  std::unordered_map<std::string, Item> items_;
};

void CheckInvalidToken(const absl::Status& status, const char* field) {
  FUZZ_CHECK(status.code() == absl::StatusCode::kInvalidArgument,
             status.ToString());
  const std::optional<FieldViolation> violation = FieldViolationOf(status);
  FUZZ_CHECK(violation.has_value() && violation->field == field,
             "expected a violation of ", field, ": ", status.ToString());
}

// Where `got` starts in `all` when it is a contiguous run of it (the end of
// `all` for an empty run); nullopt otherwise.
std::optional<size_t> RunStart(const std::vector<std::string>& all,
                               const std::vector<std::string>& got) {
  if (got.empty()) return all.size();
  for (size_t k = 0; k + got.size() <= all.size(); ++k) {
    if (std::equal(got.begin(), got.end(), all.begin() + k)) return k;
  }
  return std::nullopt;
}

// Checks a page and every page after it: `fetch(token)` returns the page
// after `token` as ids plus its next token.
template <typename Fetch>
void CheckPages(const std::vector<std::string>& all, size_t page_size,
                std::vector<std::string> ids, std::string next_token,
                bool from_start, Fetch fetch) {
  std::optional<size_t> start = RunStart(all, ids);
  FUZZ_CHECK(start.has_value(), "a page that is not a run of the answer");
  FUZZ_CHECK(!from_start || *start == 0, "the first page starts at ", *start);
  size_t end = *start + ids.size();
  for (size_t pages = 0;; ++pages) {
    FUZZ_CHECK(ids.size() <= page_size, "page of ", ids.size(),
               " for page_size ", page_size);
    FUZZ_CHECK(next_token.empty() == (end == all.size()), "next_page_token is ",
               next_token.empty() ? "empty" : "set", " with ", all.size() - end,
               " more to come");
    if (next_token.empty()) return;
    FUZZ_CHECK(pages <= all.size(), "paging does not end");
    std::pair<std::vector<std::string>, std::string> page = fetch(next_token);
    ids = std::move(page.first);
    next_token = std::move(page.second);
    FUZZ_CHECK(!ids.empty() && RunStart(all, ids) == end,
               "a next page does not continue where the last one ended");
    end += ids.size();
  }
}

std::vector<std::string> IdsOf(const std::vector<inventory::v1::Item>& items) {
  std::vector<std::string> ids;
  for (const auto& item : items) ids.push_back(item.item_id());
  return ids;
}

// Stream versions as text, so that CheckPages can compare them.
std::vector<std::string> VersionsOf(const std::vector<Event>& events) {
  std::vector<std::string> versions;
  for (const Event& e : events)
    versions.push_back(absl::StrCat(e.stream_version()));
  return versions;
}

void ListItems(size_t page_size, int active, absl::string_view text,
               bool encode) {
  std::vector<std::string> parts =
      absl::StrSplit(text, absl::MaxSplits('\0', 2));
  parts.resize(3);
  ItemFilter filter;
  if (active > 0) filter.active = active == 1;
  filter.name_contains = parts[0];
  filter.sku_prefix = parts[1];
  const std::string token =
      encode ? absl::WebSafeBase64Escape(parts[2]) : parts[2];

  const InventoryReadModel& model = Model();
  absl::StatusOr<ItemPage> page = model.ListItems(filter, page_size, token);
  if (page_size == 0) return CheckInvalidToken(page.status(), "page_size");
  if (!page.ok()) return CheckInvalidToken(page.status(), "page_token");
  FUZZ_CHECK(page->position == model.position(), "position");

  CheckPages(
      Reference::Get().Matching(filter), page_size, IdsOf(page->items),
      page->next_page_token, token.empty(), [&](const std::string& next) {
        absl::StatusOr<ItemPage> p = model.ListItems(filter, page_size, next);
        FUZZ_CHECK(p.ok(),
                   "an issued token is refused: ", p.status().ToString());
        return std::make_pair(IdsOf(p->items), p->next_page_token);
      });
}

void GetItemHistory(size_t page_size, int item, absl::string_view text,
                    bool encode) {
  const std::string item_id = item < kItems ? kItemIds[item] : "nobody";
  const std::string token =
      encode ? absl::WebSafeBase64Escape(text) : std::string(text);
  const InventoryReadModel& model = Model();
  absl::StatusOr<HistoryPage> page =
      model.GetItemHistory(item_id, page_size, token);
  if (page_size == 0) return CheckInvalidToken(page.status(), "page_size");
  if (!page.ok() && page.status().code() == absl::StatusCode::kNotFound) {
    FUZZ_CHECK(item >= kItems, "NOT_FOUND for a known item");
    return;
  }
  if (!page.ok()) return CheckInvalidToken(page.status(), "page_token");
  FUZZ_CHECK(item < kItems, "a page for an unknown item");
  FUZZ_CHECK(page->position == model.position(), "position");

  CheckPages(
      Reference::Get().History(item_id), page_size, VersionsOf(page->events),
      page->next_page_token, token.empty(), [&](const std::string& next) {
        absl::StatusOr<HistoryPage> p =
            model.GetItemHistory(item_id, page_size, next);
        FUZZ_CHECK(p.ok(),
                   "an issued token is refused: ", p.status().ToString());
        return std::make_pair(VersionsOf(p->events), p->next_page_token);
      });
}

}  // namespace
}  // namespace inventory

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 3) return 0;
  auto pick = [](uint8_t byte, int n) {
    return static_cast<uint8_t>(byte - '0') % n;
  };
  const int mode = pick(data[0], 4);
  const size_t page_size = pick(data[1], 8);
  const absl::string_view text(reinterpret_cast<const char*>(data + 3),
                               size - 3);
  if (mode < 2) {
    inventory::ListItems(page_size, pick(data[2], 3), text, mode == 1);
  } else {
    inventory::GetItemHistory(page_size, pick(data[2], inventory::kItems + 1),
                              text, mode == 3);
  }
  return 0;
}
