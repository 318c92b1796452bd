// LowStockIndex: the active items and their units on hand, kept so that
// GetInventoryStats can answer "which active items hold fewer than T units"
// for any threshold T without visiting every item.
//
// Two balanced trees over the same entries:
//   by quantity  (units, item_id), with subtree sizes: how many items lie
//                below T is the rank of (T, "") -- O(log n);
//   by item_id   with each subtree's smallest quantity: the first m ids
//                (in item_id order) below T are found by skipping every
//                subtree whose smallest quantity is not below T -- about
//                m * log n nodes, however many items there are.
//
// Not thread-safe: the read model guards it with its own lock.
#ifndef INVENTORY_QUERY_SERVICE_READ_MODEL_LOW_STOCK_INDEX_H_
#define INVENTORY_QUERY_SERVICE_READ_MODEL_LOW_STOCK_INDEX_H_

#include <algorithm>
#include <cstdint>
#include <ext/pb_ds/assoc_container.hpp>
#include <ext/pb_ds/tree_policy.hpp>
#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace inventory {

class LowStockIndex {
 public:
  // Records `item_id` as active with `quantity` units (adding it, or
  // moving it from its previous quantity).
  void Set(const std::string& item_id, int64_t quantity);
  // Forgets `item_id` (deactivated); nothing happens if it is not here.
  void Erase(const std::string& item_id);
  void Clear();

  // Items held, i.e. the active items.
  size_t size() const { return by_id_.size(); }

  // How many items hold fewer than `threshold` units.
  int64_t CountBelow(int64_t threshold) const;

  // The ids of the first `max_ids` of those items in item_id order.
  // `*nodes_visited` (if not null) is increased by the tree nodes the
  // search looked at: the work done, bounded by about max_ids * 2 * the
  // tree's height rather than by the number of items.
  std::vector<std::string> IdsBelow(int64_t threshold, size_t max_ids,
                                    int64_t* nodes_visited) const;

 private:
  // pb_ds node update: each node's metadata is the smallest quantity in its
  // subtree.
  template <class NodeConstIterator, class NodeIterator, class Compare,
            class Allocator>
  struct SubtreeMinQuantity {
    using metadata_type = int64_t;

    void operator()(NodeIterator node, NodeConstIterator end) const {
      int64_t least = (*node)->second;
      const NodeIterator left = node.get_l_child();
      const NodeIterator right = node.get_r_child();
      if (left != end) least = std::min(least, left.get_metadata());
      if (right != end) least = std::min(least, right.get_metadata());
      const_cast<int64_t&>(node.get_metadata()) = least;
    }

    virtual NodeConstIterator node_begin() const = 0;
    virtual NodeConstIterator node_end() const = 0;
    virtual ~SubtreeMinQuantity() = default;
  };

  using ById = __gnu_pbds::tree<std::string, int64_t, std::less<std::string>,
                                __gnu_pbds::rb_tree_tag, SubtreeMinQuantity>;
  using ByQuantity =
      __gnu_pbds::tree<std::pair<int64_t, std::string>, __gnu_pbds::null_type,
                       std::less<std::pair<int64_t, std::string>>,
                       __gnu_pbds::rb_tree_tag,
                       __gnu_pbds::tree_order_statistics_node_update>;

  void CollectBelow(ById::node_const_iterator node, int64_t threshold,
                    size_t max_ids, std::vector<std::string>* ids,
                    int64_t* nodes_visited) const;

  ById by_id_;
  ByQuantity by_quantity_;
};

}  // namespace inventory

#endif  // INVENTORY_QUERY_SERVICE_READ_MODEL_LOW_STOCK_INDEX_H_
