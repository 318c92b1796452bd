#include "common/rpc/security/bearer_token_check.h"

#include <algorithm>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

namespace inventory {
namespace {

// "/inventory.v1.QueryService/GetItem" -> "inventory.v1.QueryService".
absl::string_view ServiceOf(absl::string_view method) {
  absl::ConsumePrefix(&method, "/");
  return method.substr(0, method.find('/'));
}

bool Lists(const std::vector<std::string>& services,
           absl::string_view service) {
  return std::find(services.begin(), services.end(), service) != services.end();
}

}  // namespace

bool ConstantTimeEquals(absl::string_view expected, absl::string_view given) {
  // Every byte of `expected` is compared, whatever `given` holds; a
  // shorter `given` is padded with zeros and fails on the length term.
  unsigned char difference = expected.size() == given.size() ? 0 : 1;
  for (size_t i = 0; i < expected.size(); ++i) {
    const unsigned char other =
        i < given.size() ? static_cast<unsigned char>(given[i]) : 0;
    difference |= static_cast<unsigned char>(expected[i]) ^ other;
  }
  return difference == 0;
}

BearerTokenCheck::BearerTokenCheck(std::string writer_token,
                                   std::string reader_token,
                                   AccessPolicy policy)
    : writer_token_(std::move(writer_token)),
      reader_token_(std::move(reader_token)),
      policy_(std::move(policy)) {}

BearerTokenCheck::Role BearerTokenCheck::RoleOf(
    absl::string_view authorization) const {
  const size_t space = authorization.find(' ');
  if (space == absl::string_view::npos ||
      !absl::EqualsIgnoreCase(authorization.substr(0, space), "bearer")) {
    return Role::kNone;
  }
  const absl::string_view token =
      absl::StripLeadingAsciiWhitespace(authorization.substr(space));
  // Both comparisons always run, so the time taken does not tell which
  // token (if any) matched.
  const bool writer =
      !writer_token_.empty() && ConstantTimeEquals(writer_token_, token);
  const bool reader =
      !reader_token_.empty() && ConstantTimeEquals(reader_token_, token);
  if (writer) return Role::kWriter;
  return reader ? Role::kReader : Role::kNone;
}

absl::Status BearerTokenCheck::Check(
    absl::string_view method,
    std::optional<absl::string_view> authorization) const {
  const absl::string_view service = ServiceOf(method);
  if (Lists(policy_.open_services, service)) return absl::OkStatus();
  if (!authorization.has_value()) {
    return absl::UnauthenticatedError(
        "this server requires a bearer token: send the header "
        "'authorization: Bearer <token>'");
  }
  const Role role = RoleOf(*authorization);
  if (role == Role::kNone) {
    return absl::UnauthenticatedError("invalid bearer token");
  }
  if (role == Role::kReader && !Lists(policy_.read_services, service)) {
    return absl::PermissionDeniedError(
        absl::StrCat("the reader token may not call ", service,
                     "; it takes the writer token"));
  }
  return absl::OkStatus();
}

}  // namespace inventory
