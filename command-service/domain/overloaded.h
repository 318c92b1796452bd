// Overloaded: builds one visitor for std::visit from several lambdas.
#ifndef INVENTORY_COMMAND_SERVICE_DOMAIN_OVERLOADED_H_
#define INVENTORY_COMMAND_SERVICE_DOMAIN_OVERLOADED_H_

namespace inventory {

template <class... Fs>
struct Overloaded : Fs... {
  using Fs::operator()...;
};
template <class... Fs>
Overloaded(Fs...) -> Overloaded<Fs...>;

}  // namespace inventory

#endif  // INVENTORY_COMMAND_SERVICE_DOMAIN_OVERLOADED_H_
