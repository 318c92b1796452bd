// BearerTokenCheck: whether one call may proceed, judged from its method
// and its `authorization` header, when the server requires bearer tokens.
//
// There are two tokens. The writer token may call everything; the reader
// token may call only the services an AccessPolicy lists as read services
// (queries, the event stream, reflection). Open services (health checking)
// need no token at all. A service the policy does not mention needs the
// writer token, so a service added later is closed to readers until it is
// listed.
#ifndef INVENTORY_COMMON_RPC_SECURITY_BEARER_TOKEN_CHECK_H_
#define INVENTORY_COMMON_RPC_SECURITY_BEARER_TOKEN_CHECK_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace inventory {

// Which services need which token. Names are full service names, e.g.
// "inventory.v1.QueryService".
struct AccessPolicy {
  std::vector<std::string> open_services;  // no token needed
  std::vector<std::string> read_services;  // reader or writer token
  // Everything else: the writer token.
};

// True when `a` and `b` are equal. The time taken depends on the length of
// `expected` only, not on where the two differ, so an attacker cannot
// learn a token character by character from response times.
bool ConstantTimeEquals(absl::string_view expected, absl::string_view given);

// Immutable after construction, so thread-safe.
class BearerTokenCheck {
 public:
  // An empty token is not accepted (there is no such token). With both
  // empty, every call that needs a token is refused.
  BearerTokenCheck(std::string writer_token, std::string reader_token,
                   AccessPolicy policy);

  // `method` is the call's path, "/package.Service/Method";
  // `authorization` the value of its `authorization` header, if any.
  // OK: the call may proceed. UNAUTHENTICATED: the call needs a token and
  // carries none, or not a valid one. PERMISSION_DENIED: the reader token
  // on a method that needs the writer token. Messages never contain a
  // token.
  absl::Status Check(absl::string_view method,
                     std::optional<absl::string_view> authorization) const;

 private:
  enum class Role { kNone, kReader, kWriter };
  // The role of the token in `authorization` ("Bearer <token>").
  Role RoleOf(absl::string_view authorization) const;

  const std::string writer_token_;
  const std::string reader_token_;
  const AccessPolicy policy_;
};

}  // namespace inventory

#endif  // INVENTORY_COMMON_RPC_SECURITY_BEARER_TOKEN_CHECK_H_
