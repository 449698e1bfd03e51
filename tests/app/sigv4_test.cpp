// SigV4 against cases of AWS's published test suite ("aws-sig-v4-test-suite": key AKIDEXAMPLE,
// region us-east-1, service "service", 20150830T123600Z), written out below as request and
// expected signature: they pin the rules AWS wrote down (path normalisation, query encoding).
// The byte-for-byte check of canonical request, string to sign and Authorization on hundreds
// of random requests is against botocore: tests/process/test_sigv4_botocore.py.
#include "app/aws/sigv4.hpp"
#include "app/aws/sigv4_verify.hpp"

#include <gtest/gtest.h>

#include <algorithm>

namespace ivs::app::aws {
namespace {

constexpr std::int64_t kSuiteTime = 1440938160;  // 20150830T123600Z

// A .req file: "METHOD target HTTP/1.1", headers (a line starting with white space continues
// the previous value), an empty line, the body. X-Amz-Date and X-Amz-Security-Token are left
// out: the signer adds them from the time and the credentials.
SignableRequest parse_req(const std::string& text) {
  SignableRequest request;
  std::size_t line_end = text.find('\n');
  const std::string first = text.substr(0, line_end);
  const std::size_t method_end = first.find(' ');
  request.method = first.substr(0, method_end);
  const std::string target = first.substr(method_end + 1, first.rfind(" HTTP/") - method_end - 1);
  const std::size_t question = target.find('?');
  request.path = target.substr(0, question);
  if (question != std::string::npos) {
    std::string_view query = std::string_view(target).substr(question + 1);
    while (!query.empty()) {
      const std::size_t amp = std::min(query.find('&'), query.size());
      const std::string_view pair = query.substr(0, amp);
      const std::size_t equals = std::min(pair.find('='), pair.size());
      request.query.emplace_back(percent_decode(pair.substr(0, equals)),
                                 percent_decode(pair.substr(std::min(equals + 1, pair.size()))));
      query.remove_prefix(std::min(amp + 1, query.size()));
    }
  }
  std::size_t start = line_end == std::string::npos ? text.size() : line_end + 1;
  while (start < text.size()) {
    line_end = std::min(text.find('\n', start), text.size());
    const std::string line = text.substr(start, line_end - start);
    start = line_end + 1;
    if (line.empty()) {
      request.body = start < text.size() ? text.substr(start) : "";
      break;
    }
    if (line.front() == ' ' && !request.headers.empty()) {
      request.headers.back().second += "\n" + line;
      continue;
    }
    const std::size_t colon = line.find(':');
    request.headers.emplace_back(line.substr(0, colon), line.substr(colon + 1));
  }
  std::erase_if(request.headers, [](const auto& header) {
    std::string name = header.first;
    std::transform(name.begin(), name.end(), name.begin(), ::tolower);
    return name == "x-amz-date" || name == "x-amz-security-token";
  });
  return request;
}

TEST(SigV4, AmzDateFormatsUtc) {
  EXPECT_EQ(amz_date(kSuiteTime), "20150830T123600Z");
  EXPECT_EQ(amz_date(0), "19700101T000000Z");
  EXPECT_EQ(amz_date(951782400), "20000229T000000Z");  // a leap day
}

// AWS's worked example of the key derivation (IAM User Guide, "Examples of how to derive a
// signing key for Signature Version 4").
TEST(SigV4, SigningKeyMatchesTheDocumentedDerivation) {
  const auto key =
      signing_key("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "20120215", {"us-east-1", "iam"});
  std::string hex;
  for (const unsigned char byte : key) {
    constexpr std::string_view kDigits = "0123456789abcdef";
    hex += kDigits[byte >> 4];
    hex += kDigits[byte & 0x0f];
  }
  EXPECT_EQ(hex, "f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d");
}

TEST(SigV4, UriEncodingKeepsOnlyUnreservedCharacters) {
  EXPECT_EQ(uri_encode("a b+c/d~e", false), "a%20b%2Bc%2Fd~e");
  EXPECT_EQ(uri_encode("a b/c", true), "a%20b/c");
  EXPECT_EQ(uri_encode("\xe1\x88\xb4", false), "%E1%88%B4");
  // The wire path is encoded again: what was %20 on the wire is %2520 in the canonical URI.
  EXPECT_EQ(canonical_uri("/a%20b//./c/../d"), "/a%2520b/d");
  EXPECT_EQ(canonical_uri(""), "/");
}

TEST(SigV4, RepeatedHeadersJoinInOrderAndValuesFold) {
  const auto [block, names] =
      canonical_headers({{"My-H", " b  c "}, {"Host", "h"}, {"my-h", "a"}, {"Z", "\tx\n y"}});
  EXPECT_EQ(block, "host:h\nmy-h:b c,a\nz:x y\n");
  EXPECT_EQ(names, "host;my-h;z");
}

TEST(SigV4, SessionTokenIsAddedAndSigned) {
  SignableRequest request;
  request.host = "ivsrealtime.us-east-1.amazonaws.com";
  request.method = "POST";
  request.path = "/ListStages";
  request.body = "{}";
  const auto signed_request =
      sign(request, {"AKID", "secret", "token=="}, {"us-east-1", "ivs"}, kSuiteTime);
  EXPECT_EQ(signed_request.signed_headers, "host;x-amz-date;x-amz-security-token");
  ASSERT_EQ(signed_request.headers_to_add.size(), 3U);
  EXPECT_EQ(signed_request.headers_to_add[1].second, "token==");
  EXPECT_EQ(signed_request.headers_to_add[2].first, "Authorization");
  // A different token must change the signature: it is part of what is signed.
  const auto other = sign(request, {"AKID", "secret", "token=!"}, {"us-east-1", "ivs"}, kSuiteTime);
  EXPECT_NE(other.signature, signed_request.signature);
}

struct SuiteCase {
  const char* name;
  const char* request;    // the case's .req, without X-Amz-Date (the signer adds it)
  const char* signature;  // from the case's .authz
};

TEST(SigV4, AwsTestSuiteVectors) {
  static const SuiteCase kCases[] = {
      {"get-vanilla", "GET / HTTP/1.1\nHost:example.amazonaws.com\n\n",
       "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"},
      {"get-vanilla-empty-query-key",
       "GET /?Param1=value1 HTTP/1.1\nHost:example.amazonaws.com\n\n",
       "a67d582fa61cc504c4bae71f336f98b97f1ea3c7a6bfe1b6e45aec72011b9aeb"},
      {"get-slash-pointless-dot", "GET /./example HTTP/1.1\nHost:example.amazonaws.com\n\n",
       "ef75d96142cf21edca26f06005da7988e4f8dc83a165a80865db7089db637ec5"},
      {"get-slashes", "GET //example// HTTP/1.1\nHost:example.amazonaws.com\n\n",
       "9a624bd73a37c9a373b5312afbebe7a714a789de108f0bdfe846570885f57e84"},
      {"get-space", "GET /example space/ HTTP/1.1\nHost:example.amazonaws.com\n\n",
       "652487583200325589f1fba4c7e578f72c47cb61beeca81406b39ddec1366741"},
  };
  const Credentials credentials{"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", ""};
  for (const SuiteCase& suite_case : kCases) {
    SCOPED_TRACE(suite_case.name);
    const auto signed_request =
        sign(parse_req(suite_case.request), credentials, {"us-east-1", "service"}, kSuiteTime);
    EXPECT_EQ(signed_request.authorization,
              std::string("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/"
                          "aws4_request, SignedHeaders=host;x-amz-date, Signature=") +
                  suite_case.signature);
  }
}

}  // namespace
}  // namespace ivs::app::aws
