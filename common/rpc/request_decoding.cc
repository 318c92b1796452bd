#include "common/rpc/request_decoding.h"

#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/base/field_violation.h"
#include "common/base/utf8.h"

namespace inventory {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;

// Protobuf's parser refuses messages nested deeper than this, so deeper
// data is left to it.
constexpr int kMaxDepth = 100;

// The wire types of the protobuf encoding.
enum WireType : uint32_t {
  kVarint = 0,
  kFixed64 = 1,
  kLengthDelimited = 2,
  kStartGroup = 3,
  kEndGroup = 4,
  kFixed32 = 5,
};

// Reads the protobuf wire format from a string, front to back. Every read
// reports whether the data was long enough.
class WireReader {
 public:
  explicit WireReader(absl::string_view data) : rest_(data) {}

  bool done() const { return rest_.empty(); }

  bool ReadVarint(uint64_t* value) {
    *value = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (rest_.empty()) return false;
      const auto byte = static_cast<unsigned char>(rest_.front());
      rest_.remove_prefix(1);
      *value |= static_cast<uint64_t>(byte & 0x7F) << shift;
      if ((byte & 0x80) == 0) return true;
    }
    return false;  // more than 10 bytes
  }

  bool Skip(uint64_t size) {
    if (size > rest_.size()) return false;
    rest_.remove_prefix(static_cast<size_t>(size));
    return true;
  }

  bool ReadLengthDelimited(absl::string_view* bytes) {
    uint64_t size = 0;
    if (!ReadVarint(&size) || size > rest_.size()) return false;
    *bytes = rest_.substr(0, static_cast<size_t>(size));
    rest_.remove_prefix(static_cast<size_t>(size));
    return true;
  }

 private:
  absl::string_view rest_;
};

// One pass over a serialized message. Stops at the first invalid string
// (reported) or at the first malformed byte (not reported: the parser
// refuses the message with a better reason than we could give).
class Utf8Check {
 public:
  absl::Status Message(const Descriptor* descriptor, WireReader& in,
                       const std::string& path, int depth,
                       uint64_t group_number) {
    while (!in.done()) {
      uint64_t tag = 0;
      if (!in.ReadVarint(&tag)) return Malformed();
      const uint64_t number = tag >> 3;
      const auto type = static_cast<uint32_t>(tag & 7);
      if (number == 0) return Malformed();
      const FieldDescriptor* field =
          descriptor == nullptr || number > INT32_MAX
              ? nullptr
              : descriptor->FindFieldByNumber(static_cast<int>(number));
      uint64_t ignored = 0;
      switch (type) {
        case kVarint:
          if (!in.ReadVarint(&ignored)) return Malformed();
          break;
        case kFixed64:
          if (!in.Skip(8)) return Malformed();
          break;
        case kFixed32:
          if (!in.Skip(4)) return Malformed();
          break;
        case kLengthDelimited: {
          absl::string_view bytes;
          if (!in.ReadLengthDelimited(&bytes)) return Malformed();
          absl::Status status = LengthDelimited(field, bytes, path, depth);
          if (!status.ok() || malformed_) return status;
          break;
        }
        case kStartGroup: {
          if (depth >= kMaxDepth) return Malformed();
          const Descriptor* group =
              field != nullptr && field->type() == FieldDescriptor::TYPE_GROUP
                  ? field->message_type()
                  : nullptr;
          absl::Status status =
              Message(group, in, Nested(path, field), depth + 1, number);
          if (!status.ok() || malformed_) return status;
          break;
        }
        case kEndGroup:
          // Only the end of the group being read is well-formed here.
          if (number != group_number) return Malformed();
          return absl::OkStatus();
        default:
          return Malformed();
      }
    }
    // A group must end with its end tag, not with the data.
    if (group_number != 0) return Malformed();
    return absl::OkStatus();
  }

 private:
  absl::Status LengthDelimited(const FieldDescriptor* field,
                               absl::string_view bytes, const std::string& path,
                               int depth) {
    if (field == nullptr) return absl::OkStatus();  // unknown: kept as is
    if (field->type() == FieldDescriptor::TYPE_STRING) {
      if (!DecodeUtf8(bytes).has_value()) {
        return InvalidField(absl::StrCat(path, field->name()),
                            "must be valid UTF-8");
      }
      return absl::OkStatus();
    }
    if (field->type() == FieldDescriptor::TYPE_MESSAGE) {
      if (depth >= kMaxDepth) return Malformed();
      WireReader nested(bytes);
      return Message(field->message_type(), nested, Nested(path, field),
                     depth + 1, 0);
    }
    return absl::OkStatus();  // bytes, or packed numbers
  }

  static std::string Nested(const std::string& path,
                            const FieldDescriptor* field) {
    if (field == nullptr) return path;
    return absl::StrCat(path, field->name(), ".");
  }

  absl::Status Malformed() {
    malformed_ = true;
    return absl::OkStatus();
  }

  bool malformed_ = false;
};

}  // namespace

absl::Status CheckStringFieldsAreUtf8(const Descriptor& descriptor,
                                      absl::string_view wire) {
  WireReader in(wire);
  return Utf8Check().Message(&descriptor, in, "", 0, 0);
}

absl::Status DecodeRequest(absl::string_view wire,
                           google::protobuf::Message* request) {
  request->Clear();
  const absl::Status strings =
      CheckStringFieldsAreUtf8(*request->GetDescriptor(), wire);
  if (!strings.ok()) return strings;
  if (wire.size() > static_cast<size_t>(INT32_MAX) ||
      !request->ParseFromArray(wire.data(), static_cast<int>(wire.size()))) {
    request->Clear();
    return absl::InvalidArgumentError(
        absl::StrCat("request: not a valid ",
                     request->GetDescriptor()->full_name(), " message"));
  }
  return absl::OkStatus();
}

absl::Status DecodeRequest(const grpc::ByteBuffer& raw,
                           google::protobuf::Message* request) {
  std::vector<grpc::Slice> slices;
  if (!raw.Dump(&slices).ok()) {
    return absl::InvalidArgumentError("request: unreadable message");
  }
  if (slices.size() == 1) {
    return DecodeRequest(
        absl::string_view(reinterpret_cast<const char*>(slices[0].begin()),
                          slices[0].size()),
        request);
  }
  std::string wire;
  wire.reserve(raw.Length());
  for (const grpc::Slice& slice : slices) {
    wire.append(reinterpret_cast<const char*>(slice.begin()), slice.size());
  }
  return DecodeRequest(wire, request);
}

}  // namespace inventory
