// Verifying AWS SigV4 Authorization headers, as an AWS service does (the signing steps are
// sigv4.hpp's; IAM User Guide, "Signature Version 4 signing process", and the services'
// "Common Errors": IncompleteSignature, InvalidSignatureException, UnrecognizedClientException,
// "Signature expired" beyond 5 minutes of skew). Used by the local IVS stand-in (`ivs-fake`) to
// check the media server's requests exactly; reusing our signer is the point: the botocore
// cross-check (tests/process/test_sigv4_botocore.py) shows it signs like the SDKs, so a request
// this verifier accepts is one AWS would accept.
//
//   Authorization: AWS4-HMAC-SHA256 Credential=AKID/20150830/us-east-1/ivs/aws4_request,
//                  SignedHeaders=content-type;host;x-amz-date, Signature=<64 hex>
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "app/aws/sigv4.hpp"
#include "proto/result.hpp"
#include "proto/text.hpp"

namespace ivs::app::aws {

struct ParsedAuthorization {
  std::string access_key_id;
  std::string date;  // YYYYMMDD
  std::string region;
  std::string service;
  std::vector<std::string> signed_headers;  // lower case, as listed
  std::string signature;
};

// The header's parts; errors say which part is missing or malformed.
Result<ParsedAuthorization> parse_authorization(std::string_view header);

struct ReceivedRequest {
  std::string method;
  std::string target;   // path and query as received ("/ListStages?x=1")
  HeaderPairs headers;  // every header received, names in any case
  std::string body;
};

struct SigV4Rejection {
  std::string code;  // the AWS error type to answer with
  std::string message;
};

// Looks up the secret (and session token, which must then match) of an access key id.
using CredentialLookup = std::function<std::optional<Credentials>(std::string_view)>;

// Nothing when the request is correctly signed for `scope` at a time within `max_skew_seconds`
// of `now_unix`; else why not, in AWS's terms.
std::optional<SigV4Rejection> verify_sigv4(const ReceivedRequest& request, const Scope& scope,
                                           const CredentialLookup& lookup, std::int64_t now_unix,
                                           std::int64_t max_skew_seconds = 300);

// Decodes one percent-encoded query component ('+' stays '+', as SigV4 expects).
using proto::text::percent_decode;

}  // namespace ivs::app::aws
