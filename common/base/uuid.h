// Random (version 4) UUIDs for event ids.
#ifndef INVENTORY_COMMON_BASE_UUID_H_
#define INVENTORY_COMMON_BASE_UUID_H_

#include <string>

namespace inventory {

// Returns a new random UUID in its canonical text form,
// "xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx" (lowercase hex). Thread-safe.
std::string NewUuid();

}  // namespace inventory

#endif  // INVENTORY_COMMON_BASE_UUID_H_
