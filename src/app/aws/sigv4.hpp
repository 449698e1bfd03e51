// AWS Signature Version 4 for HTTP Authorization headers (AWS General Reference / IAM User
// Guide, "Signing AWS API requests": "Create a canonical request", "Create a string to sign",
// "Calculate the signature", "Add the signature to the request"; algorithm AWS4-HMAC-SHA256).
//
//   CanonicalRequest = Method \n CanonicalURI \n CanonicalQuery \n CanonicalHeaders \n
//                      SignedHeaders \n HexSha256(payload)
//   StringToSign     = "AWS4-HMAC-SHA256" \n AmzDate \n Date/Region/Service/aws4_request \n
//                      HexSha256(CanonicalRequest)
//   SigningKey       = HMAC(HMAC(HMAC(HMAC("AWS4" + secret, Date), Region), Service),
//                      "aws4_request")
//   Authorization    = AWS4-HMAC-SHA256 Credential=AKID/scope, SignedHeaders=..., Signature=hex
//
// Written here because no AWS SDK for C++ is packaged in Debian (issue 14). Pure functions:
// the time is an input, so every test (AWS's published test suite, the botocore cross-check)
// pins the exact bytes. The rules that differ between signers and trip up hand-written ones,
// each decided once here and checked against botocore:
//   - The path is the one sent on the wire; it is normalised (dot segments and empty segments
//     removed, as for every service but S3) and then URI-encoded again, so "%20" on the wire
//     becomes "%2520" in the canonical request ("double encoding").
//   - Query names and values are given decoded; they are encoded with RFC 3986's unreserved set
//     (A-Z a-z 0-9 - _ . ~ kept, everything else %XX in upper case, spaces as %20 never '+')
//     and sorted by name, then value. The same string goes into the URL (canonical_query()).
//   - Header names are lower-cased and sorted; values are trimmed and runs of white space
//     collapsed to one space; repeated headers are joined with ',' in the order given.
//   - X-Amz-Date and X-Amz-Security-Token (when the credentials carry a session token) are
//     added and signed; IVS and STS accept the token signed.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ivs::app::aws {

using HeaderPairs = std::vector<std::pair<std::string, std::string>>;

struct Credentials {
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;  // empty for long-term keys
};

struct SignableRequest {
  std::string method = "GET";
  std::string host;  // host[:port]; signed as "host" unless `headers` carries its own
  std::string path = "/";
  HeaderPairs query;    // decoded names and values, in any order
  HeaderPairs headers;  // the headers to sign, names in any case
  std::string body;
  // Replaces the body's hash, e.g. "UNSIGNED-PAYLOAD".
  std::optional<std::string> payload_hash;
};

struct Scope {
  std::string region;
  std::string service;
};

struct SignedRequest {
  std::string amz_date;  // YYYYMMDD'T'HHMMSS'Z'
  std::string canonical_request;
  std::string string_to_sign;
  std::string signed_headers;  // "host;x-amz-date"
  std::string signature;       // 64 hex digits
  std::string authorization;
  // What to add to the request as sent: X-Amz-Date, X-Amz-Security-Token when there is a
  // session token, and Authorization.
  HeaderPairs headers_to_add;
};

// Signs `request` at `unix_seconds` (UTC).
SignedRequest sign(const SignableRequest& request, const Credentials& credentials,
                   const Scope& scope, std::int64_t unix_seconds);

// The pieces, exposed for tests and for the verifier (sigv4_verify.hpp).

// "20150830T123600Z" for 1440938160.
std::string amz_date(std::int64_t unix_seconds);
// RFC 3986 percent-encoding of everything outside the unreserved set; '/' kept when asked.
std::string uri_encode(std::string_view text, bool keep_slash);
std::string canonical_uri(std::string_view wire_path);
std::string canonical_query(const HeaderPairs& decoded_query);
// Lower-cased, sorted, trimmed and folded: {canonical headers block, signed header list}.
std::pair<std::string, std::string> canonical_headers(const HeaderPairs& headers);
std::string canonical_request(const SignableRequest& request, const HeaderPairs& signed_headers);
std::string string_to_sign(std::string_view amz_date, std::string_view credential_scope,
                           std::string_view canonical_request);
std::array<unsigned char, 32> signing_key(std::string_view secret, std::string_view date,
                                          const Scope& scope);
std::string hex_sha256(std::string_view data);
std::string hex_hmac_sha256(const std::array<unsigned char, 32>& key, std::string_view data);

}  // namespace ivs::app::aws
