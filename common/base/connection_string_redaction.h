// Hiding the passwords in a PostgreSQL connection string, for logs.
#ifndef INVENTORY_COMMON_BASE_CONNECTION_STRING_REDACTION_H_
#define INVENTORY_COMMON_BASE_CONNECTION_STRING_REDACTION_H_

#include <string>

#include "absl/strings/string_view.h"

namespace inventory {

// `conninfo`, a libpq connection string in either of its forms, with the
// value of every password replaced by "***" (an empty one too):
//
//   postgresql://app:secret@db/x              -> postgresql://app:***@db/x
//   postgresql://app@db/x?password=secret     -> ...?password=***
//   host=db user=app password='se cret'       -> host=db user=app password=***
//
// The string is split as libpq splits it: the URI form (any "scheme://",
// not only postgresql:// and postgres://) has its user info before the
// first '@' that precedes any '/', and '&'-separated query parameters whose
// names are percent-decoded; the keyword form has `keyword = value` pairs
// whose values may be single-quoted, with backslash escapes. So only real
// password values are masked: a user, a database or an application_name
// that merely contains the word "password" is left alone. Both `password`
// and `sslpassword` (the passphrase of a client key) count as passwords;
// keywords are compared without regard to case. Everything else is kept
// byte for byte.
std::string RedactConnectionString(absl::string_view conninfo);

}  // namespace inventory

#endif  // INVENTORY_COMMON_BASE_CONNECTION_STRING_REDACTION_H_
