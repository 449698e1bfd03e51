// SigV4 verification for the local IVS stand-in; see sigv4_verify.hpp.
#include "app/aws/sigv4_verify.hpp"

#include <algorithm>
#include <cctype>

#include "app/aws/credentials.hpp"
#include "proto/text.hpp"

namespace ivs::app::aws {
namespace {

std::vector<std::string_view> split(std::string_view text, char separator) {
  std::vector<std::string_view> parts;
  std::size_t start = 0;
  while (start <= text.size()) {
    const std::size_t end = std::min(text.find(separator, start), text.size());
    parts.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return parts;
}

// "YYYYMMDDTHHMMSSZ" -> Unix seconds.
Result<std::int64_t> parse_amz_date(std::string_view text) {
  if (text.size() != 16 || text[8] != 'T' || text[15] != 'Z') {
    return Error{"X-Amz-Date is not YYYYMMDD'T'HHMMSS'Z'"};
  }
  const std::string iso = std::string(text.substr(0, 4)) + "-" + std::string(text.substr(4, 2)) +
                          "-" + std::string(text.substr(6, 2)) + "T" +
                          std::string(text.substr(9, 2)) + ":" + std::string(text.substr(11, 2)) +
                          ":" + std::string(text.substr(13, 2)) + "Z";
  return parse_iso8601_utc(iso);
}

SigV4Rejection incomplete(std::string message) {
  return {"IncompleteSignatureException", std::move(message)};
}

}  // namespace

Result<ParsedAuthorization> parse_authorization(std::string_view header) {
  constexpr std::string_view kPrefix = "AWS4-HMAC-SHA256 ";
  if (!header.starts_with(kPrefix)) {
    return Error{"Authorization does not start with AWS4-HMAC-SHA256"};
  }
  ParsedAuthorization out;
  for (const auto raw : split(header.substr(kPrefix.size()), ',')) {
    const std::string_view part = proto::text::trim(raw);
    const std::size_t equals = part.find('=');
    if (equals == std::string_view::npos) {
      return Error{"Authorization has a part without '='"};
    }
    const std::string_view name = part.substr(0, equals);
    const std::string_view value = part.substr(equals + 1);
    if (name == "Credential") {
      const auto scope = split(value, '/');
      if (scope.size() != 5 || scope[4] != "aws4_request") {
        return Error{"Credential is not AKID/date/region/service/aws4_request"};
      }
      out.access_key_id = scope[0];
      out.date = scope[1];
      out.region = scope[2];
      out.service = scope[3];
    } else if (name == "SignedHeaders") {
      for (const auto signed_header : split(value, ';')) {
        out.signed_headers.emplace_back(signed_header);
      }
    } else if (name == "Signature") {
      out.signature = value;
    }
  }
  if (out.access_key_id.empty() || out.signed_headers.empty() || out.signature.size() != 64) {
    return Error{"Authorization lacks Credential, SignedHeaders or a 64-digit Signature"};
  }
  return out;
}

std::optional<SigV4Rejection> verify_sigv4(const ReceivedRequest& request, const Scope& scope,
                                           const CredentialLookup& lookup, std::int64_t now_unix,
                                           std::int64_t max_skew_seconds) {
  HeaderPairs lowered;
  std::string authorization;
  std::string date_header;
  for (const auto& [name, value] : request.headers) {
    lowered.emplace_back(proto::text::to_lower(name), value);
    if (lowered.back().first == "authorization") {
      authorization = value;
    } else if (lowered.back().first == "x-amz-date") {
      date_header = value;
    }
  }
  auto parsed = parse_authorization(authorization);
  if (!parsed) {
    return incomplete(parsed.error().message);
  }
  auto signed_at = parse_amz_date(date_header);
  if (!signed_at) {
    return incomplete(signed_at.error().message);
  }
  if (*signed_at < now_unix - max_skew_seconds || *signed_at > now_unix + max_skew_seconds) {
    return SigV4Rejection{"InvalidSignatureException",
                          "Signature expired: " + date_header + " is now earlier than " +
                              amz_date(now_unix - max_skew_seconds) + " (" + amz_date(now_unix) +
                              " - 5 min.)"};
  }
  if (parsed->region != scope.region || parsed->service != scope.service ||
      parsed->date != date_header.substr(0, 8)) {
    return SigV4Rejection{"InvalidSignatureException",
                          "Credential should be scoped to a valid region, service and date"};
  }
  const auto credentials = lookup(parsed->access_key_id);
  if (!credentials) {
    return SigV4Rejection{"UnrecognizedClientException",
                          "The security token included in the request is invalid."};
  }
  if (!std::is_sorted(parsed->signed_headers.begin(), parsed->signed_headers.end()) ||
      std::find(parsed->signed_headers.begin(), parsed->signed_headers.end(), "host") ==
          parsed->signed_headers.end()) {
    return incomplete("SignedHeaders must be sorted and include host");
  }
  SignableRequest rebuilt;
  rebuilt.method = request.method;
  const std::size_t question = request.target.find('?');
  rebuilt.path = request.target.substr(0, question);
  if (question != std::string::npos) {
    for (const auto pair : split(std::string_view(request.target).substr(question + 1), '&')) {
      const std::size_t equals = std::min(pair.find('='), pair.size());
      rebuilt.query.emplace_back(percent_decode(pair.substr(0, equals)),
                                 percent_decode(pair.substr(std::min(equals + 1, pair.size()))));
    }
  }
  rebuilt.body = request.body;
  HeaderPairs signed_headers;
  for (const auto& name : parsed->signed_headers) {
    bool found = false;
    for (const auto& header : lowered) {
      if (header.first == name) {
        signed_headers.push_back(header);
        found = true;
      }
    }
    if (!found) {
      return incomplete("signed header " + name + " is missing from the request");
    }
  }
  const std::string canonical = canonical_request(rebuilt, signed_headers);
  const std::string credential_scope =
      parsed->date + "/" + scope.region + "/" + scope.service + "/aws4_request";
  const std::string expected =
      hex_hmac_sha256(signing_key(credentials->secret_access_key, parsed->date, scope),
                      string_to_sign(date_header, credential_scope, canonical));
  if (expected != parsed->signature) {
    return SigV4Rejection{"InvalidSignatureException",
                          "The request signature we calculated does not match the signature "
                          "you provided."};
  }
  const bool token_signed = std::find(parsed->signed_headers.begin(), parsed->signed_headers.end(),
                                      "x-amz-security-token") != parsed->signed_headers.end();
  if (!credentials->session_token.empty()) {
    const auto token = std::find_if(lowered.begin(), lowered.end(), [](const auto& header) {
      return header.first == "x-amz-security-token";
    });
    if (token == lowered.end() || token->second != credentials->session_token || !token_signed) {
      return SigV4Rejection{"UnrecognizedClientException",
                            "The security token included in the request is invalid."};
    }
  }
  return std::nullopt;
}

}  // namespace ivs::app::aws
