// FUZZ_CHECK: the invariant checks of the fuzz targets. A broken invariant
// prints what broke and aborts, which libFuzzer reports as a crash and
// saves the input that caused it (the reproducer).
#ifndef INVENTORY_FUZZ_FUZZ_CHECK_H_
#define INVENTORY_FUZZ_FUZZ_CHECK_H_

#include <cstdio>
#include <cstdlib>
#include <string>

#include "absl/strings/str_cat.h"

namespace inventory {
namespace fuzz {

[[noreturn]] inline void Fail(const char* condition, const char* file, int line,
                              const std::string& details) {
  std::fprintf(stderr, "%s:%d: invariant broken: %s\n  %s\n", file, line,
               condition, details.c_str());
  std::abort();
}

}  // namespace fuzz
}  // namespace inventory

// FUZZ_CHECK(condition, details...): the details (one or more absl::StrCat
// arguments) are only computed when the condition is false.
#define FUZZ_CHECK(condition, ...)                            \
  do {                                                        \
    if (!(condition)) {                                       \
      ::inventory::fuzz::Fail(#condition, __FILE__, __LINE__, \
                              ::absl::StrCat(__VA_ARGS__));   \
    }                                                         \
  } while (false)

#endif  // INVENTORY_FUZZ_FUZZ_CHECK_H_
