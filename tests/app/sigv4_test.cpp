// SigV4 against AWS's published test suite (testdata/aws/sigv4_testsuite.json, see the README
// there): every case's canonical request, string to sign and Authorization header must match
// byte for byte. The botocore cross-check on random requests is tests/process/
// test_sigv4_botocore.py; these vectors pin the rules AWS wrote down.
#include "app/aws/sigv4.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "support/testdata.hpp"

namespace ivs::app::aws {
namespace {

constexpr std::int64_t kSuiteTime = 1440938160;  // 20150830T123600Z

int hex_value(char c) {
  if (c >= '0' && c <= '9') {
    return c - '0';
  }
  if (c >= 'A' && c <= 'F') {
    return c - 'A' + 10;
  }
  return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

std::string percent_decode(std::string_view text) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%' && i + 2 < text.size() + 0 && hex_value(text[i + 1]) >= 0 &&
        hex_value(text[i + 2]) >= 0) {
      out += static_cast<char>(hex_value(text[i + 1]) * 16 + hex_value(text[i + 2]));
      i += 2;
    } else {
      out += text[i];
    }
  }
  return out;
}

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

std::string text_of(const boost::json::object& object, std::string_view key) {
  const auto* value = object.if_contains(key);
  return value != nullptr ? std::string(value->as_string()) : std::string();
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

TEST(SigV4, AwsTestSuiteVectors) {
  const auto document = boost::json::parse(test::read_testdata("aws/sigv4_testsuite.json"));
  const auto& suite = document.as_object();
  const Credentials base{text_of(suite, "access_key_id"), text_of(suite, "secret_access_key"), ""};
  const Scope scope{text_of(suite, "region"), text_of(suite, "service")};
  const auto& cases = suite.at("cases").as_array();
  ASSERT_GE(cases.size(), 30U);
  for (const auto& entry : cases) {
    const auto& vector = entry.as_object();
    SCOPED_TRACE(text_of(vector, "name"));
    const SignableRequest request = parse_req(text_of(vector, "req"));
    Credentials credentials = base;
    credentials.session_token = text_of(vector, "token");
    const auto signed_request = sign(request, credentials, scope, kSuiteTime);
    EXPECT_EQ(signed_request.canonical_request, text_of(vector, "creq"));
    EXPECT_EQ(signed_request.string_to_sign, text_of(vector, "sts"));
    EXPECT_EQ(signed_request.authorization, text_of(vector, "authz"));
  }
}

}  // namespace
}  // namespace ivs::app::aws
