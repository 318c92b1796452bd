// Overloaded: builds one visitor for std::visit from several lambdas.
#ifndef INVENTORY_COMMON_BASE_OVERLOADED_H_
#define INVENTORY_COMMON_BASE_OVERLOADED_H_

namespace inventory {

template <class... Fs>
struct Overloaded : Fs... {
  using Fs::operator()...;
};
template <class... Fs>
Overloaded(Fs...) -> Overloaded<Fs...>;

}  // namespace inventory

#endif  // INVENTORY_COMMON_BASE_OVERLOADED_H_
