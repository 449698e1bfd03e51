#include "io/redact.hpp"

#include <cctype>

namespace ivs::io {

namespace {

constexpr std::string_view kHidden = "***";

bool is_scheme_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '+' || c == '-' || c == '.';
}

bool ends_url(char c) {
  return std::isspace(static_cast<unsigned char>(c)) != 0 || c == '"' || c == '\'' || c == '<' ||
         c == '>' || c == '`';
}

// "a=1&b&c=" -> "a=***&***&c=***": names stay (they say what was there), values go.
std::string redact_query(std::string_view query) {
  std::string out;
  while (true) {
    const auto amp = query.find('&');
    const std::string_view param = query.substr(0, amp);
    if (const auto equals = param.find('='); equals != std::string_view::npos) {
      out.append(param.substr(0, equals + 1)).append(kHidden);
    } else if (!param.empty()) {
      out.append(kHidden);
    }
    if (amp == std::string_view::npos) {
      break;
    }
    out.push_back('&');
    query.remove_prefix(amp + 1);
  }
  return out;
}

}  // namespace

std::string redact_url(std::string_view url) {
  const auto scheme_end = url.find("://");
  std::string out;
  std::string_view rest = url;
  if (scheme_end != std::string_view::npos) {
    out.append(url.substr(0, scheme_end + 3));
    rest = url.substr(scheme_end + 3);
    const auto authority_end = rest.find_first_of("/?#");
    const std::string_view authority = rest.substr(0, authority_end);
    if (const auto at = authority.rfind('@'); at != std::string_view::npos) {
      out.append(kHidden).append(authority.substr(at));
    } else {
      out.append(authority);
    }
    rest =
        authority_end == std::string_view::npos ? std::string_view{} : rest.substr(authority_end);
  }
  const auto fragment = rest.find('#');
  const std::string_view before_fragment = rest.substr(0, fragment);
  const auto question = before_fragment.find('?');
  out.append(before_fragment.substr(0, question));
  if (question != std::string_view::npos) {
    out.push_back('?');
    out.append(redact_query(before_fragment.substr(question + 1)));
  }
  if (fragment != std::string_view::npos) {
    out.push_back('#');
    if (fragment + 1 < rest.size()) {
      out.append(kHidden);
    }
  }
  return out;
}

std::string redact_urls(std::string_view text) {
  std::string out;
  std::size_t copied = 0;
  std::size_t search = 0;
  while (true) {
    const auto marker = text.find("://", search);
    if (marker == std::string_view::npos) {
      break;
    }
    std::size_t start = marker;
    while (start > copied && is_scheme_char(text[start - 1])) {
      --start;
    }
    std::size_t end = marker + 3;
    while (end < text.size() && !ends_url(text[end])) {
      ++end;
    }
    // Sentence punctuation after a URL ("...?k=v: connect refused") is not part of it.
    while (end > marker + 3 &&
           std::string_view(":;,.)!").find(text[end - 1]) != std::string_view::npos) {
      --end;
    }
    if (start == marker) {  // "://" without a scheme: not a URL
      search = marker + 3;
      continue;
    }
    out.append(text.substr(copied, start - copied));
    out.append(redact_url(text.substr(start, end - start)));
    copied = end;
    search = end;
  }
  out.append(text.substr(copied));
  return out;
}

std::string redact_secret(std::string_view secret) {
  return secret.empty() ? "(unset)" : std::string(kHidden);
}

std::string redact_secrets(std::string_view text, std::span<const std::string> secrets) {
  std::string out(text);
  for (const std::string& secret : secrets) {
    if (secret.empty()) {
      continue;
    }
    for (auto at = out.find(secret); at != std::string::npos;
         at = out.find(secret, at + kHidden.size())) {
      out.replace(at, secret.size(), kHidden);
    }
  }
  return redact_urls(out);
}

}  // namespace ivs::io
