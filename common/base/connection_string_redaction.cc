#include "common/base/connection_string_redaction.h"

#include <algorithm>
#include <cstddef>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"

namespace inventory {
namespace {

constexpr absl::string_view kMask = "***";

bool IsPasswordKeyword(absl::string_view keyword) {
  return absl::EqualsIgnoreCase(keyword, "password") ||
         absl::EqualsIgnoreCase(keyword, "sslpassword");
}

int HexDigitValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  c = absl::ascii_tolower(c);
  return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

// %XX sequences decoded, as libpq decodes URI parts; a malformed one is
// kept as it is (libpq would refuse the string).
std::string PercentDecode(absl::string_view text) {
  std::string decoded;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%' && i + 2 < text.size() &&
        HexDigitValue(text[i + 1]) >= 0 && HexDigitValue(text[i + 2]) >= 0) {
      decoded.push_back(static_cast<char>(HexDigitValue(text[i + 1]) * 16 +
                                          HexDigitValue(text[i + 2])));
      i += 2;
    } else {
      decoded.push_back(text[i]);
    }
  }
  return decoded;
}

// The length of a leading "scheme://", or 0 when `conninfo` has none (it
// is then in the keyword form).
size_t SchemeLength(absl::string_view conninfo) {
  const size_t separator = conninfo.find("://");
  if (separator == absl::string_view::npos || separator == 0) return 0;
  for (const char c : conninfo.substr(0, separator)) {
    if (!absl::ascii_isalnum(c) && c != '+' && c != '-' && c != '.') return 0;
  }
  return separator + 3;
}

// name=value&name=value, with the values of password parameters masked.
std::string RedactQuery(absl::string_view query) {
  std::vector<std::string> parameters;
  for (const absl::string_view parameter : absl::StrSplit(query, '&')) {
    const size_t equals = parameter.find('=');
    const absl::string_view name = parameter.substr(0, equals);
    if (equals != absl::string_view::npos &&
        IsPasswordKeyword(PercentDecode(name))) {
      parameters.push_back(absl::StrCat(name, "=", kMask));
    } else {
      parameters.emplace_back(parameter);
    }
  }
  return absl::StrJoin(parameters, "&");
}

std::string RedactUri(absl::string_view uri, size_t scheme_length) {
  std::string redacted(uri.substr(0, scheme_length));
  size_t rest = scheme_length;
  // libpq: user info is what comes before an '@' met ahead of any '/'.
  const size_t at = uri.find_first_of("@/", rest);
  if (at != absl::string_view::npos && uri[at] == '@') {
    const absl::string_view user_info = uri.substr(rest, at - rest);
    const size_t colon = user_info.find(':');
    absl::StrAppend(&redacted, user_info.substr(0, colon),
                    colon == absl::string_view::npos ? "" : ":",
                    colon == absl::string_view::npos ? "" : kMask, "@");
    rest = at + 1;
  }
  const size_t question = uri.find('?', rest);
  if (question == absl::string_view::npos) {
    absl::StrAppend(&redacted, uri.substr(rest));
    return redacted;
  }
  absl::StrAppend(&redacted, uri.substr(rest, question + 1 - rest),
                  RedactQuery(uri.substr(question + 1)));
  return redacted;
}

// keyword = value pairs, split as libpq's conninfo_parse() splits them.
class KeywordForm {
 public:
  explicit KeywordForm(absl::string_view conninfo) : text_(conninfo) {}

  std::string Redact() {
    std::string redacted;
    size_t copied = 0;  // text_[0, copied) is in `redacted` already
    for (;;) {
      SkipSpace();
      if (at_ == text_.size()) break;
      const size_t keyword_start = at_;
      while (at_ < text_.size() && text_[at_] != '=' && !IsSpace()) ++at_;
      const absl::string_view keyword =
          text_.substr(keyword_start, at_ - keyword_start);
      SkipSpace();
      // libpq refuses a keyword without '='; nothing after it is a value.
      if (at_ == text_.size() || text_[at_] != '=') break;
      ++at_;
      SkipSpace();
      const size_t value_start = at_;
      SkipValue();
      if (IsPasswordKeyword(keyword)) {
        absl::StrAppend(&redacted, text_.substr(copied, value_start - copied),
                        kMask);
        copied = at_;
      }
    }
    absl::StrAppend(&redacted, text_.substr(copied));
    return redacted;
  }

 private:
  bool IsSpace() const { return absl::ascii_isspace(text_[at_]); }

  void SkipSpace() {
    while (at_ < text_.size() && IsSpace()) ++at_;
  }

  // Past one value: 'quoted' (to the closing quote, or the end if there is
  // none) or bare (to the next space); a backslash escapes the next byte.
  void SkipValue() {
    const bool quoted = at_ < text_.size() && text_[at_] == '\'';
    if (quoted) ++at_;
    while (at_ < text_.size()) {
      const char c = text_[at_];
      if (c == '\\') {
        at_ = std::min(at_ + 2, text_.size());
        continue;
      }
      if (quoted ? c == '\'' : IsSpace()) {
        if (quoted) ++at_;
        return;
      }
      ++at_;
    }
  }

  const absl::string_view text_;
  size_t at_ = 0;
};

}  // namespace

std::string RedactConnectionString(absl::string_view conninfo) {
  const size_t scheme_length = SchemeLength(conninfo);
  if (scheme_length > 0) return RedactUri(conninfo, scheme_length);
  return KeywordForm(conninfo).Redact();
}

}  // namespace inventory
