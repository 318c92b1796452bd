// Unit tests of InventoryReadModel::ListItems: order, filters, the name
// filter against lowering both sides, paging (also while items are added),
// page tokens, and the scan limit.
#include <algorithm>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "common/base/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "query-service/read_model/inventory_read_model.h"
#include "query-service/read_model/inventory_read_model_test_fixture.h"

namespace inventory::read_model_test {
namespace {

using ::testing::ElementsAre;
using ::testing::ElementsAreArray;
using ::testing::IsEmpty;

// --- ListItems ---------------------------------------------------------------

TEST(InventoryReadModelTest, ListItemsIsOrderedByItemId) {
  InventoryReadModel model;
  EventLog log;
  for (const std::string id : {"m", "b", "item-2", "Z", "item-10", "a", "_x"}) {
    ApplyOk(model, log.Create(id, "SKU-" + std::to_string(id.size()), id));
  }
  // Byte order: uppercase before '_' before lowercase, "item-10" < "item-2".
  EXPECT_THAT(ListAll(model, ItemFilter()),
              ElementsAre("Z", "_x", "a", "b", "item-10", "item-2", "m"));
  absl::StatusOr<ItemPage> page = model.ListItems(ItemFilter(), 100, "");
  ASSERT_THAT(page, IsOk());
  EXPECT_EQ(page->position, 7);
  EXPECT_EQ(page->next_page_token, "");
  EXPECT_EQ(page->items[0].sku(), "SKU-1");
  EXPECT_EQ(page->items[0].name(), "Z");
}

// Six items with varied names, SKUs and states, for the filter tests.
void AddFilterFixture(InventoryReadModel& model, EventLog& log) {
  ApplyOk(model, log.Create("i1", "ABC-100", "Blue Widget"));
  ApplyOk(model, log.Create("i2", "ABC-200", "red widget"));
  ApplyOk(model, log.Create("i3", "ABD-300", "Gadget"));
  ApplyOk(model, log.Create("i4", "XYZ-400", "WIDGET deluxe"));
  ApplyOk(model, log.Create("i5", "abc-500", "Sprocket"));
  ApplyOk(model, log.Create("i6", "ABC-600", "Über Widget"));
  ApplyOk(model, log.Deactivate("i2"));
  ApplyOk(model, log.Deactivate("i3"));
  ApplyOk(model, log.Deactivate("i6"));
}

TEST(InventoryReadModelTest, ListItemsFiltersByActive) {
  InventoryReadModel model;
  EventLog log;
  AddFilterFixture(model, log);
  EXPECT_THAT(ListAll(model, ItemFilter()),
              ElementsAre("i1", "i2", "i3", "i4", "i5", "i6"));
  EXPECT_THAT(ListAll(model, Active(true)), ElementsAre("i1", "i4", "i5"));
  EXPECT_THAT(ListAll(model, Active(false)), ElementsAre("i2", "i3", "i6"));

  // Reactivation moves an item back.
  ApplyOk(model, log.Reactivate("i3"));
  EXPECT_THAT(ListAll(model, Active(true)),
              ElementsAre("i1", "i3", "i4", "i5"));
  EXPECT_THAT(ListAll(model, Active(false)), ElementsAre("i2", "i6"));
}

TEST(InventoryReadModelTest, ListItemsFiltersByNameIgnoringAsciiCase) {
  InventoryReadModel model;
  EventLog log;
  AddFilterFixture(model, log);
  EXPECT_THAT(ListAll(model, NameContains("widget")),
              ElementsAre("i1", "i2", "i4", "i6"));
  EXPECT_THAT(ListAll(model, NameContains("WIDGET")),
              ElementsAre("i1", "i2", "i4", "i6"));
  EXPECT_THAT(ListAll(model, NameContains("wIdGeT D")), ElementsAre("i4"));
  EXPECT_THAT(ListAll(model, NameContains("dget")),
              ElementsAre("i1", "i2", "i3", "i4", "i6"));
  EXPECT_THAT(ListAll(model, NameContains("Blue Widget")), ElementsAre("i1"));
  EXPECT_THAT(ListAll(model, NameContains("sprockets")), IsEmpty());
  EXPECT_THAT(ListAll(model, NameContains("")),
              ElementsAre("i1", "i2", "i3", "i4", "i5", "i6"));
  // Non-ASCII letters match byte for byte (case folding is ASCII only).
  EXPECT_THAT(ListAll(model, NameContains("Über")), ElementsAre("i6"));
  EXPECT_THAT(ListAll(model, NameContains("über")), IsEmpty());

  // A rename moves an item into and out of the filter.
  ApplyOk(model, log.Rename("i5", "Sprocket widget"));
  ApplyOk(model, log.Rename("i1", "Blue Thing"));
  EXPECT_THAT(ListAll(model, NameContains("Widget")),
              ElementsAre("i2", "i4", "i5", "i6"));
}

TEST(InventoryReadModelTest, ListItemsFiltersBySkuPrefix) {
  InventoryReadModel model;
  EventLog log;
  AddFilterFixture(model, log);
  EXPECT_THAT(ListAll(model, SkuPrefix("ABC")), ElementsAre("i1", "i2", "i6"));
  EXPECT_THAT(ListAll(model, SkuPrefix("AB")),
              ElementsAre("i1", "i2", "i3", "i6"));
  EXPECT_THAT(ListAll(model, SkuPrefix("ABC-2")), ElementsAre("i2"));
  EXPECT_THAT(ListAll(model, SkuPrefix("ABC-200")), ElementsAre("i2"));
  EXPECT_THAT(ListAll(model, SkuPrefix("ABC-2000")), IsEmpty());
  // A prefix, not a substring, and case-sensitive.
  EXPECT_THAT(ListAll(model, SkuPrefix("100")), IsEmpty());
  EXPECT_THAT(ListAll(model, SkuPrefix("abc")), ElementsAre("i5"));
  EXPECT_THAT(ListAll(model, SkuPrefix("")),
              ElementsAre("i1", "i2", "i3", "i4", "i5", "i6"));
}

TEST(InventoryReadModelTest, ListItemsCombinesFilters) {
  InventoryReadModel model;
  EventLog log;
  AddFilterFixture(model, log);
  ItemFilter filter;
  filter.active = true;
  filter.name_contains = "widget";
  EXPECT_THAT(ListAll(model, filter), ElementsAre("i1", "i4"));
  filter.sku_prefix = "ABC";
  EXPECT_THAT(ListAll(model, filter), ElementsAre("i1"));
  filter.active = false;
  EXPECT_THAT(ListAll(model, filter), ElementsAre("i2", "i6"));
  filter.name_contains = "RED";
  EXPECT_THAT(ListAll(model, filter), ElementsAre("i2"));
  filter.active.reset();
  filter.name_contains = "";
  filter.sku_prefix = "AB";
  EXPECT_THAT(ListAll(model, filter), ElementsAre("i1", "i2", "i3", "i6"));
  filter.name_contains = "gadget";
  EXPECT_THAT(ListAll(model, filter), ElementsAre("i3"));
  filter.active = true;
  EXPECT_THAT(ListAll(model, filter), IsEmpty());
}

TEST(InventoryReadModelTest, ListItemsPagesThroughEveryPageSize) {
  InventoryReadModel model;
  EventLog log;
  std::vector<std::string> ids;
  constexpr int kItems = 13;
  for (int i = 0; i < kItems; ++i) {
    ids.push_back(absl::StrFormat("item-%02d", i));
  }
  // Created out of order.
  for (int i = 0; i < kItems; ++i) {
    const std::string& id = ids[(i * 5) % kItems];
    ApplyOk(model, log.Create(id, "SKU-" + id.substr(5), "Name " + id));
  }
  for (size_t page_size = 1; page_size <= kItems + 2; ++page_size) {
    SCOPED_TRACE(absl::StrCat("page_size ", page_size));
    const auto pages = AllPages(model, ItemFilter(), page_size);
    EXPECT_EQ(pages.size(), (kItems + page_size - 1) / page_size);
    for (size_t i = 0; i + 1 < pages.size(); ++i) {
      EXPECT_EQ(pages[i].size(), page_size);
    }
    EXPECT_THAT(Flatten(pages), ElementsAreArray(ids));
  }
}

TEST(InventoryReadModelTest, ListItemsPagesThroughAFilter) {
  InventoryReadModel model;
  EventLog log;
  std::vector<std::string> active_ids;
  for (int i = 0; i < 20; ++i) {
    const std::string id = absl::StrFormat("item-%02d", i);
    ApplyOk(model, log.Create(id, "SKU-" + id.substr(5), "Name " + id));
    if (i % 3 == 0) {
      ApplyOk(model, log.Deactivate(id));
    } else {
      active_ids.push_back(id);
    }
  }
  for (size_t page_size = 1; page_size <= active_ids.size() + 1; ++page_size) {
    SCOPED_TRACE(absl::StrCat("page_size ", page_size));
    const auto pages = AllPages(model, Active(true), page_size);
    EXPECT_EQ(pages.size(), (active_ids.size() + page_size - 1) / page_size);
    EXPECT_THAT(Flatten(pages), ElementsAreArray(active_ids));
  }
}

TEST(InventoryReadModelTest, PagingWhileItemsAreAddedNeverRepeatsOrSkips) {
  for (size_t page_size = 1; page_size <= 4; ++page_size) {
    SCOPED_TRACE(absl::StrCat("page_size ", page_size));
    InventoryReadModel model;
    EventLog log;
    const std::vector<std::string> initial = {"c", "e", "g", "i",
                                              "k", "m", "o"};
    for (const std::string& id : initial) {
      ApplyOk(model, log.Create(id, "SKU-" + id, "Widget " + id));
    }
    std::vector<std::string> seen;
    std::set<std::string> added_after_cursor;
    std::string token;
    for (int round = 0;; ++round) {
      ASSERT_LT(round, 100) << "the listing does not end";
      absl::StatusOr<ItemPage> page =
          model.ListItems(ItemFilter(), page_size, token);
      ASSERT_THAT(page, IsOk());
      ASSERT_LE(page->items.size(), page_size);
      for (const Item& item : page->items) seen.push_back(item.item_id());
      token = page->next_page_token;
      if (token.empty()) break;
      if (round >= 4) continue;  // the listing must end some time
      const std::string cursor = seen.back();
      // Between pages: an item sorted before everything, one right before
      // the cursor, one right after it, and one after everything.
      const std::string before_all = absl::StrCat("a", round);
      const std::string before_cursor = cursor.substr(0, cursor.size() - 1) +
                                        static_cast<char>(cursor.back() - 1) +
                                        absl::StrCat(round);
      const std::string after_cursor = absl::StrCat(cursor, "0", round);
      const std::string after_all = absl::StrCat("z", round);
      for (const std::string& id :
           {before_all, before_cursor, after_cursor, after_all}) {
        ApplyOk(model, log.Create(id, "SKU-X", "Widget " + id));
      }
      added_after_cursor.insert(after_cursor);
      added_after_cursor.insert(after_all);
    }
    // Strictly increasing: nothing twice, order kept across pages.
    EXPECT_TRUE(
        std::adjacent_find(seen.begin(), seen.end(),
                           [](const std::string& a, const std::string& b) {
                             return a >= b;
                           }) == seen.end())
        << absl::StrJoin(seen, ",");
    const std::set<std::string> seen_set(seen.begin(), seen.end());
    EXPECT_EQ(seen_set.size(), seen.size());
    for (const std::string& id : initial) {
      EXPECT_EQ(seen_set.count(id), 1u) << id << " skipped";
    }
    // Keyset paging: items added after the cursor are listed too.
    for (const std::string& id : added_after_cursor) {
      EXPECT_EQ(seen_set.count(id), 1u) << id << " skipped";
    }
  }
}

TEST(InventoryReadModelTest, PagingWithAFilterWhileItemsChangeAndAreAdded) {
  InventoryReadModel model;
  EventLog log;
  for (int i = 0; i < 10; ++i) {
    const std::string id = absl::StrFormat("w%02d", i * 2);
    ApplyOk(model, log.Create(id, "SKU-" + id, "Widget"));
  }
  ItemFilter filter = NameContains("WIDGET");
  std::vector<std::string> seen;
  std::string token;
  for (int round = 0;; ++round) {
    ASSERT_LT(round, 100);
    absl::StatusOr<ItemPage> page = model.ListItems(filter, 3, token);
    ASSERT_THAT(page, IsOk());
    for (const Item& item : page->items) seen.push_back(item.item_id());
    token = page->next_page_token;
    if (token.empty()) break;
    // The cursor item leaves the filter; new matching and non-matching
    // items appear on both sides of the cursor.
    ApplyOk(model, log.Rename(seen.back(), "Gizmo"));
    const std::string odd = absl::StrFormat("w%02d", round * 2 + 1);
    ApplyOk(model, log.Create(odd + "a", "SKU-A", "another widget"));
    ApplyOk(model, log.Create(odd + "b", "SKU-B", "not matching"));
    ApplyOk(model, log.Create(absl::StrCat("a", round), "SKU-C", "widget"));
  }
  const std::set<std::string> seen_set(seen.begin(), seen.end());
  EXPECT_EQ(seen_set.size(), seen.size()) << absl::StrJoin(seen, ",");
  EXPECT_TRUE(std::is_sorted(seen.begin(), seen.end()));
  for (int i = 0; i < 10; ++i) {
    EXPECT_EQ(seen_set.count(absl::StrFormat("w%02d", i * 2)), 1u) << i;
  }
  for (const std::string& id : seen) {
    EXPECT_NE(id.back(), 'b') << id << " does not match the filter";
  }
}

TEST(InventoryReadModelTest, APageTokenIsBoundToItsFilter) {
  InventoryReadModel model;
  EventLog log;
  AddFilterFixture(model, log);
  ItemFilter active_widgets = NameContains("widget");
  active_widgets.active = true;
  const std::vector<ItemFilter> filters = {
      ItemFilter(),      Active(true),    Active(false),    NameContains("w"),
      NameContains("W"), SkuPrefix("AB"), SkuPrefix("ABC"), active_widgets,
  };
  for (size_t i = 0; i < filters.size(); ++i) {
    absl::StatusOr<ItemPage> first = model.ListItems(filters[i], 1, "");
    ASSERT_THAT(first, IsOk());
    ASSERT_NE(first->next_page_token, "") << i;
    for (size_t j = 0; j < filters.size(); ++j) {
      SCOPED_TRACE(absl::StrCat("token of filter ", i, " used with ", j));
      absl::StatusOr<ItemPage> next =
          model.ListItems(filters[j], 1, first->next_page_token);
      if (i == j) {
        EXPECT_THAT(next, IsOk());
      } else {
        ExpectInvalidPageToken(next.status());
      }
    }
  }
}

TEST(InventoryReadModelTest, AGarbagePageTokenIsInvalid) {
  InventoryReadModel model;
  EventLog log;
  AddFilterFixture(model, log);
  absl::StatusOr<ItemPage> items = model.ListItems(ItemFilter(), 1, "");
  ASSERT_THAT(items, IsOk());
  ASSERT_NE(items->next_page_token, "");
  // Text that decodes (or not) but was never written by the service: it
  // must not be described as a token of another query.
  for (const std::string& token :
       {std::string("!!!not base64!!!"), std::string("garbage"),
        std::string("a"), absl::WebSafeBase64Escape("items:"),
        absl::WebSafeBase64Escape("hello\nworld"), std::string(1, '\0') + "x",
        items->next_page_token + "="}) {
    SCOPED_TRACE(token);
    for (const absl::Status& status :
         {model.ListItems(ItemFilter(), 10, token).status(),
          model.GetItemHistory("i2", 10, token).status()}) {
      ExpectInvalidPageToken(status);
      EXPECT_EQ(status.message(),
                "page_token: not a token issued by this service");
    }
  }
}

TEST(InventoryReadModelTest, ARealTokenOfAnotherQueryIsSaidToBeOne) {
  InventoryReadModel model;
  EventLog log;
  AddFilterFixture(model, log);
  absl::StatusOr<HistoryPage> history = model.GetItemHistory("i2", 1, "");
  ASSERT_THAT(history, IsOk());
  ASSERT_NE(history->next_page_token, "");
  absl::StatusOr<ItemPage> items = model.ListItems(Active(true), 1, "");
  ASSERT_THAT(items, IsOk());
  ASSERT_NE(items->next_page_token, "");
  for (const absl::Status& status :
       {model.ListItems(ItemFilter(), 10, history->next_page_token).status(),
        model.ListItems(ItemFilter(), 10, items->next_page_token).status(),
        model.GetItemHistory("i2", 10, items->next_page_token).status(),
        model.GetItemHistory("i3", 10, history->next_page_token).status()}) {
    ExpectInvalidPageToken(status);
    EXPECT_EQ(status.message(),
              "page_token: was issued for a different query or filter");
  }
}

// The answer of the code this search replaced: both sides lowered, then a
// plain substring search.
bool OracleNameMatch(const std::string& name, const std::string& text) {
  return absl::StrContains(absl::AsciiStrToLower(name),
                           absl::AsciiStrToLower(text));
}

// Every string of up to `max_length` pieces drawn from `alphabet`.
std::vector<std::string> AllStrings(const std::vector<std::string>& alphabet,
                                    int max_length) {
  std::vector<std::string> all = {""};
  std::vector<std::string> last = {""};
  for (int length = 1; length <= max_length; ++length) {
    std::vector<std::string> next;
    for (const std::string& prefix : last) {
      for (const std::string& piece : alphabet) next.push_back(prefix + piece);
    }
    all.insert(all.end(), next.begin(), next.end());
    last = std::move(next);
  }
  return all;
}

TEST(InventoryReadModelTest, TheNameFilterMatchesExactlyAsLoweringBothSides) {
  // Pieces chosen for the search's corner cases: repeated prefixes ("aab"
  // in "aaab", "abab" in "ababab"), case pairs, and the two bytes of "Ü"
  // and "ü" (0xC3 0x9C / 0xC3 0xBC), which share their first byte.
  const std::vector<std::string> alphabet = {"a", "A", "b", "\xC3\x9C",
                                             "\xC3\xBC"};
  const std::vector<std::string> names = AllStrings(alphabet, 4);
  InventoryReadModel model;
  EventLog log;
  std::vector<std::string> ids;
  for (size_t i = 0; i < names.size(); ++i) {
    ids.push_back(absl::StrFormat("n%04d", i));
    ApplyOk(model, log.Create(ids.back(), "SKU", names[i]));
  }
  std::vector<std::string> texts = AllStrings({"a", "B", "\xC3\x9C"}, 3);
  for (const std::string extra :
       {"aab", "AAB", "abab", "bab", "\xC3", "\x9C", "\xBC", "aaaab"}) {
    texts.push_back(extra);
  }
  for (const std::string& text : texts) {
    SCOPED_TRACE(absl::CEscape(text));
    std::vector<std::string> expected;
    for (size_t i = 0; i < names.size(); ++i) {
      if (OracleNameMatch(names[i], text)) expected.push_back(ids[i]);
    }
    EXPECT_THAT(ListAll(model, NameContains(text)), ElementsAreArray(expected));
  }
}

// Follows every page of a listing with `scan_limit`, checking each call's
// bounds; returns the ids listed.
std::vector<std::string> ListAllWithScanLimit(const InventoryReadModel& model,
                                              const ItemFilter& filter,
                                              size_t page_size,
                                              size_t scan_limit,
                                              size_t* calls = nullptr) {
  std::vector<std::string> ids;
  std::string token;
  size_t made = 0;
  do {
    absl::StatusOr<ItemPage> page =
        model.ListItems(filter, page_size, token, scan_limit);
    EXPECT_THAT(page, IsOk());
    if (!page.ok() || ++made > 100000) break;
    EXPECT_LE(page->items.size(), page_size);
    EXPECT_LE(page->items_scanned, scan_limit);
    for (const Item& item : page->items) ids.push_back(item.item_id());
    token = page->next_page_token;
  } while (!token.empty());
  if (calls != nullptr) *calls = made;
  return ids;
}

// One ListItems call that must succeed (an empty page, with a test failure,
// if it does not).
ItemPage ListOk(const InventoryReadModel& model, const ItemFilter& filter,
                size_t page_size, const std::string& token, size_t scan_limit) {
  absl::StatusOr<ItemPage> page =
      model.ListItems(filter, page_size, token, scan_limit);
  EXPECT_THAT(page, IsOk());
  return page.ok() ? *std::move(page) : ItemPage();
}

// What one call of a listing should return.
struct ExpectedPage {
  std::vector<std::string> ids;
  size_t items_scanned = 0;
  bool more = false;  // a next_page_token
};

// Follows a listing call by call, comparing each call with `expected`.
void ExpectPages(const InventoryReadModel& model, const ItemFilter& filter,
                 size_t page_size, size_t scan_limit,
                 const std::vector<ExpectedPage>& expected) {
  std::string token;
  for (size_t call = 0; call < expected.size(); ++call) {
    SCOPED_TRACE(absl::StrCat("call ", call));
    const ItemPage page = ListOk(model, filter, page_size, token, scan_limit);
    EXPECT_THAT(IdsOf(page.items), ElementsAreArray(expected[call].ids));
    EXPECT_EQ(page.items_scanned, expected[call].items_scanned);
    EXPECT_EQ(!page.next_page_token.empty(), expected[call].more);
    token = page.next_page_token;
  }
}

TEST(InventoryReadModelTest, AScanLimitedCallReturnsAnEmptyPageAndResumes) {
  InventoryReadModel model;
  EventLog log;
  constexpr int kItems = 25;
  for (int i = 0; i < kItems; ++i) {
    const std::string id = absl::StrFormat("item-%02d", i);
    ApplyOk(model, log.Create(id, "SKU", i == kItems - 1 ? "The Needle" : "x"));
  }
  const ItemFilter filter = NameContains("needle");
  // Two calls check 10 items each and find nothing; the third checks the
  // last 5 and finds the match.
  ExpectPages(model, filter, 5, 10,
              {{{}, 10, true}, {{}, 10, true}, {{"item-24"}, 5, false}});

  // A token issued at the scan limit is bound to its filter like any other.
  const ItemPage first = ListOk(model, filter, 5, "", 10);
  ExpectInvalidPageToken(
      model.ListItems(NameContains("needles"), 5, first.next_page_token, 10)
          .status());
}

TEST(InventoryReadModelTest, TheDefaultScanLimitBoundsACallOverAManyItemModel) {
  InventoryReadModel model;
  EventLog log;
  constexpr size_t kLimit = InventoryReadModel::kDefaultListScanLimit;
  for (size_t i = 0; i < kLimit + 7; ++i) {
    ApplyOk(model, log.Create(absl::StrFormat("item-%06d", i), "SKU",
                              i == kLimit + 6 ? "needle" : "hay"));
  }
  ExpectPages(model, NameContains("NEEDLE"), 100, kLimit,
              {{{}, kLimit, true},
               {{absl::StrFormat("item-%06d", kLimit + 6)}, 7, false}});
  // The limit is the default one.
  EXPECT_EQ(model.ListItems(NameContains("NEEDLE"), 100, "")->items_scanned,
            kLimit);
}

TEST(InventoryReadModelTest, ScanLimitedPagingListsEveryMatchOnceInOrder) {
  InventoryReadModel model;
  EventLog log;
  constexpr int kItems = 40;
  for (int i = 0; i < kItems; ++i) {
    const std::string id = absl::StrFormat("item-%02d", i);
    // Matches cluster and thin out, so that limits end calls both with a
    // full page and between matches.
    const bool widget = i < 6 || i % 7 == 0 || i == kItems - 1;
    ApplyOk(model, log.Create(id, i % 2 == 0 ? "EVEN" : "ODD",
                              widget ? "Widget" : "Gizmo"));
    if (i % 5 == 0) ApplyOk(model, log.Deactivate(id));
  }
  ItemFilter active_even_widgets = NameContains("widget");
  active_even_widgets.active = true;
  active_even_widgets.sku_prefix = "EVEN";
  for (const ItemFilter& filter :
       {ItemFilter(), NameContains("widget"), NameContains("nothing"),
        Active(false), active_even_widgets}) {
    const std::vector<std::string> expected = ListAll(model, filter);
    for (size_t limit = 1; limit <= 9; ++limit) {
      for (size_t page_size = 1; page_size <= 4; ++page_size) {
        SCOPED_TRACE(absl::StrCat("limit ", limit, ", page_size ", page_size,
                                  ", filter ", filter.name_contains));
        size_t calls = 0;
        EXPECT_THAT(
            ListAllWithScanLimit(model, filter, page_size, limit, &calls),
            ElementsAreArray(expected));
        // Each call but the last moves past at least `limit` items or
        // fills its page, so the listing ends in bounded calls.
        EXPECT_LE(calls, kItems / limit + expected.size() / page_size + 2);
      }
    }
  }
}

TEST(InventoryReadModelTest, AScanLimitOfZeroIsRefused) {
  InventoryReadModel model;
  EXPECT_THAT(model.ListItems(ItemFilter(), 10, "", 0),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace inventory::read_model_test
