#include "query-service/read_model/low_stock_index.h"

namespace inventory {

void LowStockIndex::Set(const std::string& item_id, int64_t quantity) {
  auto found = by_id_.find(item_id);
  if (found != by_id_.end()) {
    if (found->second == quantity) return;
    by_quantity_.erase({found->second, item_id});
    // The subtree minimums are only recomputed on insert and erase, so a
    // changed quantity is an erase and an insert, never an assignment.
    by_id_.erase(found);
  }
  by_id_.insert({item_id, quantity});
  by_quantity_.insert({quantity, item_id});
}

void LowStockIndex::Erase(const std::string& item_id) {
  auto found = by_id_.find(item_id);
  if (found == by_id_.end()) return;
  by_quantity_.erase({found->second, item_id});
  by_id_.erase(found);
}

void LowStockIndex::Clear() {
  by_id_.clear();
  by_quantity_.clear();
}

int64_t LowStockIndex::CountBelow(int64_t threshold) const {
  // Every entry (q, id) with q < threshold sorts before (threshold, ""), and
  // none with q >= threshold does.
  return static_cast<int64_t>(
      by_quantity_.order_of_key({threshold, std::string()}));
}

std::vector<std::string> LowStockIndex::IdsBelow(int64_t threshold,
                                                 size_t max_ids,
                                                 int64_t* nodes_visited) const {
  std::vector<std::string> ids;
  int64_t visited = 0;
  CollectBelow(by_id_.node_begin(), threshold, max_ids, &ids, &visited);
  if (nodes_visited != nullptr) *nodes_visited += visited;
  return ids;
}

// In-order walk that skips every subtree holding nothing below `threshold`
// and stops once `max_ids` are found. Recursion depth is the tree's height
// (a red-black tree: at most 2 * log2(n + 1)).
void LowStockIndex::CollectBelow(ById::node_const_iterator node,
                                 int64_t threshold, size_t max_ids,
                                 std::vector<std::string>* ids,
                                 int64_t* nodes_visited) const {
  if (node == by_id_.node_end() || ids->size() >= max_ids) return;
  ++*nodes_visited;
  if (node.get_metadata() >= threshold) return;
  CollectBelow(node.get_l_child(), threshold, max_ids, ids, nodes_visited);
  if (ids->size() < max_ids && (*node)->second < threshold) {
    ids->push_back((*node)->first);
  }
  CollectBelow(node.get_r_child(), threshold, max_ids, ids, nodes_visited);
}

}  // namespace inventory
