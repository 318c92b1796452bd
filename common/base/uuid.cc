#include "common/base/uuid.h"

#include <array>
#include <cstdint>

#include "absl/random/random.h"

namespace inventory {

std::string NewUuid() {
  // absl::BitGen is not thread-safe; one generator per thread is.
  thread_local absl::BitGen gen;
  std::array<uint8_t, 16> bytes;
  for (uint8_t& b : bytes) b = absl::Uniform<uint8_t>(gen);
  bytes[6] = (bytes[6] & 0x0f) | 0x40;  // version 4
  bytes[8] = (bytes[8] & 0x3f) | 0x80;  // RFC 4122 variant
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(36);
  for (size_t i = 0; i < bytes.size(); ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out.push_back('-');
    out.push_back(kHex[bytes[i] >> 4]);
    out.push_back(kHex[bytes[i] & 0x0f]);
  }
  return out;
}

}  // namespace inventory
