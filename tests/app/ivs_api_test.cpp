// The pure parts of STAGE_SOURCE=ivs: IVS request bodies and answers, error classification,
// the SigV4 verifier the ivs-fake role uses (against our own signer, and against tampering),
// and self-signed participant tokens the stage role's checks accept.
#include <gtest/gtest.h>

#include "app/aws/ivs_api.hpp"
#include "app/aws/ivs_self_signed.hpp"
#include "app/aws/sigv4_verify.hpp"
#include "app/control/stage_auth.hpp"

namespace ivs::app::aws {
namespace {

constexpr std::int64_t kNow = 1'800'000'000;
const Credentials kKeys{"AKIATEST", "secret", "session"};
const Scope kScope{"us-east-1", "ivs"};

TEST(IvsApi, ListStagesPagesAndTags) {
  const auto page = parse_list_stages(
      R"({"stages":[{"arn":"arn:aws:ivs:us-east-1:1:stage/a","name":"a","tags":{"k":"v"}},)"
      R"({"name":"no arn"},{"arn":"arn:aws:ivs:us-east-1:1:stage/b"}],"nextToken":"t2"})");
  ASSERT_TRUE(page.ok()) << page.error().message;
  ASSERT_EQ(page->stages.size(), 2U);
  EXPECT_EQ(page->next_token, "t2");
  const auto tag = parse_stage_tag("k=v");
  ASSERT_TRUE(tag.ok());
  EXPECT_TRUE(tag->matches(page->stages[0]));
  EXPECT_FALSE(tag->matches(page->stages[1]));
  EXPECT_FALSE(parse_stage_tag("novalue").ok());
  EXPECT_FALSE(parse_list_stages("[]").ok());
  EXPECT_EQ(list_stages_body("t2"), R"({"maxResults":100,"nextToken":"t2"})");
}

TEST(IvsApi, TokenBodyAndAnswer) {
  EXPECT_EQ(create_participant_token_body("arn:s", "media-01", 60, {{"role", "relay"}}),
            R"({"stageArn":"arn:s","userId":"media-01","duration":60,)"
            R"("capabilities":["PUBLISH"],"attributes":{"role":"relay"}})");
  const auto token =
      parse_participant_token(R"({"participantToken":{"token":"eyJ","participantId":"p1"}})");
  ASSERT_TRUE(token.ok());
  EXPECT_EQ(token->participant_id, "p1");
  EXPECT_FALSE(parse_participant_token(R"({"participantToken":{}})").ok());
}

TEST(IvsApi, ErrorsAreClassified) {
  EXPECT_EQ(parse_aws_error(429, "", "{}").kind, AwsErrorKind::throttled);
  EXPECT_EQ(parse_aws_error(400, "ThrottlingException:http://x", "{}").kind,
            AwsErrorKind::throttled);
  const auto denied = parse_aws_error(403, "AccessDeniedException:http://internal/",
                                      R"({"message":"not authorized"})");
  EXPECT_EQ(denied.kind, AwsErrorKind::access_denied);
  EXPECT_EQ(denied.code, "AccessDeniedException");
  EXPECT_EQ(denied.message, "not authorized");
  EXPECT_EQ(parse_aws_error(403, "InvalidSignatureException",
                            R"({"message":"Signature expired: 20260101T000000Z is now earlier"})")
                .kind,
            AwsErrorKind::clock_skew);
  EXPECT_EQ(parse_aws_error(400, "", R"({"__type":"com.amazon#RequestTimeTooSkewed"})").kind,
            AwsErrorKind::clock_skew);
  EXPECT_EQ(parse_aws_error(503, "", "").kind, AwsErrorKind::server);
}

ReceivedRequest signed_request(const std::string& body, std::int64_t at) {
  SignableRequest request;
  request.method = "POST";
  request.host = "127.0.0.1:4566";
  request.path = "/ListStages";
  request.headers = {{"content-type", "application/json"}};
  request.body = body;
  const auto signature = sign(request, kKeys, kScope, at);
  ReceivedRequest received{"POST",
                           "/ListStages",
                           {{"Host", "127.0.0.1:4566"}, {"Content-Type", "application/json"}},
                           body};
  received.headers.insert(received.headers.end(), signature.headers_to_add.begin(),
                          signature.headers_to_add.end());
  return received;
}

std::optional<Credentials> lookup(std::string_view key) {
  return key == kKeys.access_key_id ? std::optional<Credentials>(kKeys) : std::nullopt;
}

TEST(SigV4Verify, AcceptsOurSignatureAndRejectsTampering) {
  EXPECT_FALSE(verify_sigv4(signed_request("{}", kNow), kScope, lookup, kNow).has_value());
  auto body_changed = signed_request("{}", kNow);
  body_changed.body = "{ }";
  EXPECT_EQ(verify_sigv4(body_changed, kScope, lookup, kNow)->code, "InvalidSignatureException");
  auto header_changed = signed_request("{}", kNow);
  header_changed.headers[1].second = "text/plain";
  EXPECT_TRUE(verify_sigv4(header_changed, kScope, lookup, kNow).has_value());
  auto token_changed = signed_request("{}", kNow);
  for (auto& [name, value] : token_changed.headers) {
    if (name == "X-Amz-Security-Token") {
      value = "other";
    }
  }
  EXPECT_TRUE(verify_sigv4(token_changed, kScope, lookup, kNow).has_value());
  EXPECT_EQ(verify_sigv4(signed_request("{}", kNow), {"eu-west-1", "ivs"}, lookup, kNow)->code,
            "InvalidSignatureException");
  const auto unknown = [](std::string_view) { return std::optional<Credentials>(); };
  EXPECT_EQ(verify_sigv4(signed_request("{}", kNow), kScope, unknown, kNow)->code,
            "UnrecognizedClientException");
}

TEST(SigV4Verify, ClockWindowIsFiveMinutes) {
  EXPECT_FALSE(verify_sigv4(signed_request("{}", kNow - 299), kScope, lookup, kNow).has_value());
  const auto late = verify_sigv4(signed_request("{}", kNow - 301), kScope, lookup, kNow);
  ASSERT_TRUE(late.has_value());
  EXPECT_NE(late->message.find("Signature expired"), std::string::npos);
  EXPECT_TRUE(verify_sigv4(signed_request("{}", kNow + 301), kScope, lookup, kNow).has_value());
}

TEST(SigV4Verify, AuthorizationParser) {
  const auto parsed = parse_authorization(
      "AWS4-HMAC-SHA256 Credential=AK/20260101/us-east-1/ivs/aws4_request, "
      "SignedHeaders=host;x-amz-date, Signature=" +
      std::string(64, 'a'));
  ASSERT_TRUE(parsed.ok()) << parsed.error().message;
  EXPECT_EQ(parsed->service, "ivs");
  EXPECT_EQ(parsed->signed_headers.size(), 2U);
  EXPECT_FALSE(parse_authorization("Bearer x").ok());
  EXPECT_FALSE(parse_authorization("AWS4-HMAC-SHA256 Credential=AK/x, Signature=ab").ok());
}

TEST(IvsSelfSigned, TokenHasIvsClaimsAndPassesTheStageCheck) {
  auto key = jwt::Es384Key::generate();
  ASSERT_TRUE(key.ok());
  const std::string arn = "arn:aws:ivs:us-east-1:123456789012:stage/AbCdEf123456";
  const std::string key_arn = "arn:aws:ivs:us-east-1:123456789012:public-key/k1";
  const auto token = mint_self_signed_token(
      *key, key_arn, {arn, "media-01", "participant1", {{"role", "relay"}}, 60, "http://h/whip/"},
      kNow);
  ASSERT_TRUE(token.ok()) << token.error().message;
  EXPECT_EQ(token->whip_url, "http://h/whip/AbCdEf123456");
  const auto verified = jwt::verify(*key, token->token, kNow);
  ASSERT_TRUE(verified.ok()) << verified.error().message;
  EXPECT_EQ(verified->header.at("kid").as_string(), key_arn);
  EXPECT_EQ(verified->claims.at("topic").as_string(), "AbCdEf123456");
  EXPECT_EQ(verified->claims.at("exp").as_int64(), kNow + 3600);
  EXPECT_EQ(verified->claims.at("user_id").as_string(), "media-01");
  EXPECT_FALSE(check_stage_token(*key, "Bearer " + token->token, "AbCdEf123456", kNow).has_value());
  EXPECT_TRUE(check_stage_token(*key, "Bearer " + token->token, "Other", kNow).has_value());
  const auto global = mint_self_signed_token(
      *key, key_arn, {arn, "m", "p", {}, 60, "https://global.whip.live-video.net"}, kNow);
  EXPECT_EQ(global->whip_url, "https://global.whip.live-video.net");
}

}  // namespace
}  // namespace ivs::app::aws
