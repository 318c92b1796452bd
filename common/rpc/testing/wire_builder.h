// The protobuf wire format, written by hand, for tests: requests that the
// generated setters would refuse (or, in release builds, quietly accept),
// such as strings that are not UTF-8, varints that overflow, unknown
// fields, groups and malformed framing.
//
//   const std::string bytes = Wire()
//                                 .Bytes(1, "w-1")         // item_id
//                                 .Varint(2, 5)            // quantity
//                                 .Raw("\xff\xff")         // not a field
//                                 .str();
//
// Header-only; CMake target `inventory_wire_builder`.
#ifndef INVENTORY_COMMON_RPC_TESTING_WIRE_BUILDER_H_
#define INVENTORY_COMMON_RPC_TESTING_WIRE_BUILDER_H_

#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"

namespace inventory::test_support {

// Each call appends one field: its tag (field number << 3 | wire type),
// then its value.
class Wire {
 public:
  // Wire type 0. A negative int32 or int64 is encoded as protobuf does, in
  // ten bytes (two's complement, sign-extended).
  Wire& Varint(int field, uint64_t value) {
    Tag(field, 0);
    AppendVarint(value);
    return *this;
  }
  // Wire type 2: a string, bytes or (see Message) an embedded message.
  Wire& Bytes(int field, absl::string_view bytes) {
    Tag(field, 2);
    AppendVarint(bytes.size());
    out_.append(bytes.data(), bytes.size());
    return *this;
  }
  Wire& Message(int field, const Wire& message) {
    return Bytes(field, message.out_);
  }
  // Wire types 3 and 4: a (deprecated) group around `content`.
  Wire& Group(int field, const Wire& content) {
    Tag(field, 3);
    out_ += content.out_;
    Tag(field, 4);
    return *this;
  }
  // Bytes as they are, well-formed or not.
  Wire& Raw(absl::string_view bytes) {
    out_.append(bytes.data(), bytes.size());
    return *this;
  }

  const std::string& str() const { return out_; }
  operator std::string() const { return out_; }  // NOLINT: a builder

 private:
  void Tag(int field, int type) {
    AppendVarint((static_cast<uint64_t>(field) << 3) |
                 static_cast<uint64_t>(type));
  }
  void AppendVarint(uint64_t value) {
    while (value >= 0x80) {
      out_.push_back(static_cast<char>((value & 0x7F) | 0x80));
      value >>= 7;
    }
    out_.push_back(static_cast<char>(value));
  }

  std::string out_;
};

}  // namespace inventory::test_support

#endif  // INVENTORY_COMMON_RPC_TESTING_WIRE_BUILDER_H_
