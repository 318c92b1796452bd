#include "common/rpc/request_decoding.h"

#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"
#include "common/base/field_violation.h"
#include "common/base/status_matchers.h"
#include "common/rpc/testing/wire_builder.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "inventory/v1/command_service.pb.h"
#include "inventory/v1/event_stream_service.pb.h"

namespace inventory {
namespace {

using test_support::Wire;
using ::testing::HasSubstr;

constexpr absl::string_view kInvalid = "ab\xff";  // 0xFF never occurs in UTF-8

std::string FieldOf(const absl::Status& status) {
  const auto violation = FieldViolationOf(status);
  return violation.has_value() ? violation->field : "<none>";
}

TEST(RequestDecodingTest, ValidRequestDecodesAsTheParserWould) {
  const std::string wire = Wire()
                               .Bytes(1, "w-1")
                               .Bytes(2, "SKU-1")
                               .Bytes(3, "Caf\xc3\xa9 \xe2\x82\xac")
                               .Bytes(4, "req-1")
                               .str();
  inventory::v1::CreateItemRequest request;
  ASSERT_THAT(DecodeRequest(wire, &request), IsOk());
  EXPECT_EQ(request.item_id(), "w-1");
  EXPECT_EQ(request.name(), "Caf\xc3\xa9 \xe2\x82\xac");
  EXPECT_EQ(request.request_id(), "req-1");
}

TEST(RequestDecodingTest, InvalidUtf8NamesTheField) {
  inventory::v1::CreateItemRequest request;
  for (const auto& [field_number, name] :
       {std::pair<int, const char*>{1, "item_id"},
        {2, "sku"},
        {3, "name"},
        {4, "request_id"}}) {
    const std::string wire =
        Wire().Bytes(1, "w-1").Bytes(field_number, kInvalid).str();
    const absl::Status status = DecodeRequest(wire, &request);
    EXPECT_THAT(status, StatusIs(absl::StatusCode::kInvalidArgument));
    EXPECT_EQ(FieldOf(status), name);
    EXPECT_THAT(status.message(), HasSubstr("must be valid UTF-8"));
  }
}

TEST(RequestDecodingTest, EveryKindOfInvalidSequenceIsCaught) {
  for (absl::string_view bad :
       {absl::string_view("\xc0\xaf"),          // overlong '/'
        absl::string_view("\xed\xa0\x80"),      // surrogate U+D800
        absl::string_view("\xf4\x90\x80\x80"),  // above U+10FFFF
        absl::string_view("\xe2\x82"),          // truncated
        absl::string_view("\x80"),              // stray continuation
        absl::string_view("\xfe")}) {
    const std::string wire = Wire().Bytes(3, bad).str();
    EXPECT_EQ(FieldOf(CheckStringFieldsAreUtf8(
                  *inventory::v1::CreateItemRequest::descriptor(), wire)),
              "name");
  }
}

TEST(RequestDecodingTest, NestedAndRepeatedFieldsAreNamedWithTheirPath) {
  const auto& descriptor = *inventory::v1::SubscribeRequest::descriptor();
  const std::string prefix =
      Wire().Varint(1, 5).Bytes(2, Wire().Bytes(2, kInvalid).str()).str();
  EXPECT_EQ(FieldOf(CheckStringFieldsAreUtf8(descriptor, prefix)),
            "filter.stream_id_prefix");
  const std::string types =
      Wire()
          .Bytes(2, Wire()
                        .Bytes(1, "inventory.v1.ItemCreated")
                        .Bytes(1, kInvalid)
                        .str())
          .str();
  EXPECT_EQ(FieldOf(CheckStringFieldsAreUtf8(descriptor, types)),
            "filter.event_types");
}

TEST(RequestDecodingTest, UnknownFieldsAndBytesAreNotChecked) {
  // Unknown fields (any wire type, groups included) are kept by the parser
  // as they are; only string fields must be text.
  const std::string wire = Wire()
                               .Bytes(1, "w-1")
                               .Bytes(99, kInvalid)
                               .Varint(100, 7)
                               .Group(101, Wire().Bytes(1, kInvalid))
                               .Bytes(3, kInvalid)
                               .str();
  // ... but checking goes on after them.
  EXPECT_EQ(FieldOf(CheckStringFieldsAreUtf8(
                *inventory::v1::CreateItemRequest::descriptor(), wire)),
            "name");
  inventory::v1::CreateItemRequest request;
  EXPECT_THAT(DecodeRequest(Wire()
                                .Bytes(1, "w-1")
                                .Bytes(99, kInvalid)
                                .Group(101, Wire().Varint(1, 1))
                                .str(),
                            &request),
              IsOk());
  EXPECT_EQ(request.item_id(), "w-1");
}

TEST(RequestDecodingTest, MalformedBytesAreInvalidArgumentWithoutAField) {
  inventory::v1::CreateItemRequest request;
  for (const std::string& wire :
       {std::string("\xff\xff\xff"),  // a tag that never ends
        Wire()
            .Raw("\x0a\x05"
                 "ab")
            .str(),                              // length past the end
        Wire().Raw("\x0b").Bytes(1, "x").str(),  // group never ended
        Wire().Raw("\x0c").str(),                // end of no group
        Wire().Raw("\x0f").str(),                // wire type 7
        std::string("\x00", 1)}) {               // field number 0
    const absl::Status status = DecodeRequest(wire, &request);
    EXPECT_THAT(status, StatusIs(absl::StatusCode::kInvalidArgument));
    EXPECT_FALSE(FieldViolationOf(status).has_value()) << status;
    EXPECT_THAT(status.message(),
                HasSubstr("not a valid inventory.v1.CreateItemRequest"));
  }
}

TEST(RequestDecodingTest, DeepNestingIsLeftToTheParser) {
  // Well-formed unknown groups nested deeper than protobuf accepts: no
  // crash, no field named, and the parser refuses them.
  std::string wire;
  for (int i = 0; i < 200; ++i) wire += "\x0b";  // start group 1
  for (int i = 0; i < 200; ++i) wire += "\x0c";  // end group 1
  inventory::v1::SubscribeRequest request;
  const absl::Status status = DecodeRequest(wire, &request);
  EXPECT_THAT(status, StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_FALSE(FieldViolationOf(status).has_value());
}

TEST(RequestDecodingTest, EmptyBytesAreTheDefaultMessage) {
  inventory::v1::SubscribeRequest request;
  request.set_after_position(9);
  ASSERT_THAT(DecodeRequest(absl::string_view(), &request), IsOk());
  EXPECT_EQ(request.after_position(), 0);
}

}  // namespace
}  // namespace inventory
