// AWS SigV4 signing; see sigv4.hpp for the rules and why each is decided the way it is.
#include "app/aws/sigv4.hpp"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <map>

#include "proto/bytes.hpp"
#include "proto/text.hpp"

namespace ivs::app::aws {
namespace {

constexpr std::string_view kAlgorithm = "AWS4-HMAC-SHA256";

std::array<unsigned char, 32> hmac(std::string_view key, std::string_view data) {
  std::array<unsigned char, 32> out{};
  unsigned int length = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), out.data(), &length);
  return out;
}

std::string_view as_view(const std::array<unsigned char, 32>& bytes) {
  return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
}

bool is_unreserved(unsigned char c) {
  return std::isalnum(c) != 0 || c == '-' || c == '_' || c == '.' || c == '~';
}

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

// Trimall (the SigV4 header rule): no white space at either end, runs of it become one space.
std::string trim_all(std::string_view value) {
  std::string out;
  bool pending_space = false;
  for (const char c : value) {
    if (is_space(c)) {
      pending_space = !out.empty();
      continue;
    }
    if (pending_space) {
      out += ' ';
      pending_space = false;
    }
    out += c;
  }
  return out;
}

// RFC 3986 §5.2.4 dot-segment removal plus the SigV4 rule that empty segments ("//") go too.
std::string normalize_path(std::string_view path) {
  if (path.empty()) {
    return "/";
  }
  std::vector<std::string_view> kept;
  std::size_t start = 0;
  while (start <= path.size()) {
    std::size_t end = path.find('/', start);
    if (end == std::string_view::npos) {
      end = path.size();
    }
    const std::string_view segment = path.substr(start, end - start);
    if (segment == "..") {
      if (!kept.empty()) {
        kept.pop_back();
      }
    } else if (!segment.empty() && segment != ".") {
      kept.push_back(segment);
    }
    start = end + 1;
  }
  std::string out = path.front() == '/' ? "/" : "";
  for (std::size_t i = 0; i < kept.size(); ++i) {
    out += (i > 0 ? "/" : "");
    out += kept[i];
  }
  if (path.back() == '/' && !kept.empty()) {
    out += '/';
  }
  return out;
}

}  // namespace

std::string amz_date(std::int64_t unix_seconds) {
  using namespace std::chrono;
  const sys_seconds time{seconds(unix_seconds)};
  const auto day = floor<days>(time);
  const year_month_day date{day};
  const hh_mm_ss clock{time - day};
  char text[20];
  std::snprintf(text, sizeof(text), "%04d%02u%02uT%02d%02d%02dZ", static_cast<int>(date.year()),
                static_cast<unsigned>(date.month()), static_cast<unsigned>(date.day()),
                static_cast<int>(clock.hours().count()), static_cast<int>(clock.minutes().count()),
                static_cast<int>(clock.seconds().count()));
  return text;
}

std::string uri_encode(std::string_view text, bool keep_slash) {
  std::string out;
  out.reserve(text.size());
  for (const char raw : text) {
    const auto c = static_cast<unsigned char>(raw);
    if (is_unreserved(c) || (keep_slash && c == '/')) {
      out += raw;
    } else {
      constexpr std::string_view kUpper = "0123456789ABCDEF";
      out += '%';
      out += kUpper[c >> 4];
      out += kUpper[c & 0x0f];
    }
  }
  return out;
}

std::string canonical_uri(std::string_view wire_path) {
  return uri_encode(normalize_path(wire_path), true);
}

std::string canonical_query(const HeaderPairs& decoded_query) {
  std::vector<std::pair<std::string, std::string>> encoded;
  encoded.reserve(decoded_query.size());
  for (const auto& [name, value] : decoded_query) {
    encoded.emplace_back(uri_encode(name, false), uri_encode(value, false));
  }
  std::sort(encoded.begin(), encoded.end());
  std::string out;
  for (const auto& [name, value] : encoded) {
    out += (out.empty() ? "" : "&");
    out += name;
    out += '=';
    out += value;
  }
  return out;
}

std::pair<std::string, std::string> canonical_headers(const HeaderPairs& headers) {
  std::map<std::string, std::string> folded;  // sorted by lower-case name
  for (const auto& [name, value] : headers) {
    auto [entry, inserted] =
        folded.try_emplace(proto::text::to_lower(trim_all(name)), trim_all(value));
    if (!inserted) {
      entry->second += ',';
      entry->second += trim_all(value);
    }
  }
  std::string block;
  std::string names;
  for (const auto& [name, value] : folded) {
    block.append(name).append(1, ':').append(value).append(1, '\n');
    names.append(names.empty() ? "" : ";").append(name);
  }
  return {block, names};
}

std::string canonical_request(const SignableRequest& request, const HeaderPairs& signed_headers) {
  const auto [block, names] = canonical_headers(signed_headers);
  const std::string payload =
      request.payload_hash ? *request.payload_hash : hex_sha256(request.body);
  std::string out = request.method;
  out += '\n' + canonical_uri(request.path);
  out += '\n' + canonical_query(request.query);
  out += '\n' + block;
  out += '\n' + names;
  out += '\n' + payload;
  return out;
}

std::string string_to_sign(std::string_view amz_date, std::string_view credential_scope,
                           std::string_view canonical_request) {
  std::string out(kAlgorithm);
  out += '\n';
  out += amz_date;
  out += '\n';
  out += credential_scope;
  out += '\n';
  out += hex_sha256(canonical_request);
  return out;
}

std::array<unsigned char, 32> signing_key(std::string_view secret, std::string_view date,
                                          const Scope& scope) {
  const auto k_date = hmac("AWS4" + std::string(secret), date);
  const auto k_region = hmac(as_view(k_date), scope.region);
  const auto k_service = hmac(as_view(k_region), scope.service);
  return hmac(as_view(k_service), "aws4_request");
}

std::string hex_sha256(std::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_Digest(data.data(), data.size(), digest, &length, EVP_sha256(), nullptr);
  return to_hex(ByteSpan(digest, length));
}

std::string hex_hmac_sha256(const std::array<unsigned char, 32>& key, std::string_view data) {
  const auto mac = hmac(as_view(key), data);
  return to_hex(ByteSpan(mac.data(), mac.size()));
}

SignedRequest sign(const SignableRequest& request, const Credentials& credentials,
                   const Scope& scope, std::int64_t unix_seconds) {
  SignedRequest out;
  out.amz_date = amz_date(unix_seconds);
  const std::string date = out.amz_date.substr(0, 8);
  const std::string credential_scope =
      date + '/' + scope.region + '/' + scope.service + "/aws4_request";

  HeaderPairs headers = request.headers;
  const bool has_host = std::any_of(headers.begin(), headers.end(), [](const auto& header) {
    return proto::text::iequals(header.first, "host");
  });
  if (!has_host) {
    headers.emplace_back("host", request.host);
  }
  out.headers_to_add.emplace_back("X-Amz-Date", out.amz_date);
  if (!credentials.session_token.empty()) {
    out.headers_to_add.emplace_back("X-Amz-Security-Token", credentials.session_token);
  }
  headers.insert(headers.end(), out.headers_to_add.begin(), out.headers_to_add.end());

  out.canonical_request = canonical_request(request, headers);
  out.signed_headers = canonical_headers(headers).second;
  out.string_to_sign = string_to_sign(out.amz_date, credential_scope, out.canonical_request);
  const auto key = signing_key(credentials.secret_access_key, date, scope);
  out.signature = hex_hmac_sha256(key, out.string_to_sign);
  out.authorization = std::string(kAlgorithm) + " Credential=" + credentials.access_key_id + '/' +
                      credential_scope + ", SignedHeaders=" + out.signed_headers +
                      ", Signature=" + out.signature;
  out.headers_to_add.emplace_back("Authorization", out.authorization);
  return out;
}

}  // namespace ivs::app::aws
