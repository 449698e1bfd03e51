// The stage role's participant-token check (app/control/stage_auth.hpp): tokens made by the same
// code the reference API server signs with, so good, expired, wrong-stage and forged tokens are
// exactly what a publisher could present. Time is an input.
#include "app/control/stage_auth.hpp"

#include <gtest/gtest.h>

namespace ivs::app {
namespace {

constexpr std::int64_t kNow = 1'800'000'000;
constexpr const char* kStage = "AbCdEfGhIjKl";
constexpr const char* kArn = "arn:aws:ivs:us-east-1:123456789012:stage/AbCdEfGhIjKl";

jwt::Es384Key make_key() {
  auto key = jwt::Es384Key::generate();
  EXPECT_TRUE(key.ok());
  return std::move(key).value();
}

boost::json::object claims(std::int64_t exp = kNow + 3600, std::string resource = kArn) {
  return boost::json::object{
      {"exp", exp},
      {"iat", kNow - 10},
      {"jti", "participant1"},
      {"resource", resource},
      {"topic", kStage},
      {"capabilities", {{"allow_publish", true}, {"allow_subscribe", false}}},
  };
}

std::string bearer(const jwt::Es384Key& key, const boost::json::object& body) {
  auto token = jwt::sign(key, body);
  EXPECT_TRUE(token.ok());
  return "Bearer " + *token;
}

TEST(StageAuthTest, AcceptsAValidTokenForTheStage) {
  const auto key = make_key();
  EXPECT_EQ(check_stage_token(key, bearer(key, claims()), kStage, kNow), std::nullopt);
  // The scheme is case-insensitive (RFC 9110 §11.1) and the bare id is a valid resource.
  auto token = *jwt::sign(key, claims(kNow + 60, kStage));
  EXPECT_EQ(check_stage_token(key, "bearer " + token, kStage, kNow), std::nullopt);
}

TEST(StageAuthTest, RefusesAnExpiredToken) {
  const auto key = make_key();
  auto refusal = check_stage_token(key, bearer(key, claims(kNow - 1)), kStage, kNow);
  ASSERT_TRUE(refusal);
  EXPECT_EQ(refusal->http_status, 401);
  EXPECT_NE(refusal->message.find("expired"), std::string::npos) << refusal->message;
}

TEST(StageAuthTest, RefusesATokenForAnotherStageWith403) {
  const auto key = make_key();
  auto refusal = check_stage_token(key, bearer(key, claims()), "OtherStage01", kNow);
  ASSERT_TRUE(refusal);
  EXPECT_EQ(refusal->http_status, 403);
  EXPECT_NE(refusal->message.find("another stage"), std::string::npos) << refusal->message;
  // A stage id that is only a suffix of the ARN's id does not match either.
  EXPECT_TRUE(check_stage_token(key, bearer(key, claims()), "Kl", kNow));
}

TEST(StageAuthTest, RefusesATokenSignedByAnotherKey) {
  const auto key = make_key();
  const auto other = make_key();
  auto refusal = check_stage_token(key, bearer(other, claims()), kStage, kNow);
  ASSERT_TRUE(refusal);
  EXPECT_EQ(refusal->http_status, 401);
  EXPECT_NE(refusal->message.find("signature"), std::string::npos) << refusal->message;
}

TEST(StageAuthTest, RefusesATamperedPayload) {
  const auto key = make_key();
  std::string token = bearer(key, claims());
  const auto first_dot = token.find('.');
  token[first_dot + 5] = token[first_dot + 5] == 'A' ? 'B' : 'A';
  auto refusal = check_stage_token(key, token, kStage, kNow);
  ASSERT_TRUE(refusal);
  EXPECT_EQ(refusal->http_status, 401);
}

TEST(StageAuthTest, RefusesMissingOrNonBearerAuthorizationWithoutEchoingIt) {
  const auto key = make_key();
  auto missing = check_stage_token(key, "", kStage, kNow);
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->http_status, 401);
  EXPECT_NE(missing->message.find("Authorization"), std::string::npos);
  auto basic = check_stage_token(key, "Basic c2VjcmV0LXZhbHVl", kStage, kNow);
  ASSERT_TRUE(basic);
  EXPECT_EQ(basic->http_status, 401);
  EXPECT_EQ(basic->message.find("c2VjcmV0LXZhbHVl"), std::string::npos);
  auto garbage = check_stage_token(key, "Bearer not-a-jwt", kStage, kNow);
  ASSERT_TRUE(garbage);
  EXPECT_EQ(garbage->http_status, 401);
  EXPECT_EQ(garbage->message.find("not-a-jwt"), std::string::npos);
}

TEST(StageAuthTest, RefusesATokenWithoutPublishCapability) {
  const auto key = make_key();
  auto body = claims();
  body["capabilities"] = boost::json::object{{"allow_publish", false}};
  auto refusal = check_stage_token(key, bearer(key, body), kStage, kNow);
  ASSERT_TRUE(refusal);
  EXPECT_EQ(refusal->http_status, 403);
}

TEST(StageAuthTest, ResourceMatching) {
  EXPECT_TRUE(resource_names_stage(kArn, kStage));
  EXPECT_TRUE(resource_names_stage(kStage, kStage));
  EXPECT_FALSE(resource_names_stage(kArn, "IjKl"));
  EXPECT_FALSE(resource_names_stage("arn:aws:ivs:x:1:stage/AbCdEfGhIjKl/extra", kStage));
  EXPECT_FALSE(resource_names_stage(kArn, ""));
}

TEST(StageAuthTest, KeyFromTheApiServersJwkSet) {
  const auto key = make_key();
  const std::string jwks =
      boost::json::serialize(boost::json::object{{"keys", boost::json::array{key.public_jwk()}}});
  auto loaded = key_from_jwks(jwks);
  ASSERT_TRUE(loaded) << loaded.error().message;
  EXPECT_EQ(loaded->thumbprint(), key.thumbprint());
  EXPECT_FALSE(loaded->has_private_key());
  // A token signed by the API server's key verifies with the loaded public key.
  EXPECT_EQ(check_stage_token(*loaded, bearer(key, claims()), kStage, kNow), std::nullopt);
  EXPECT_FALSE(key_from_jwks("{\"keys\":[]}"));
  EXPECT_FALSE(key_from_jwks("not json"));
}

TEST(StageAuthTest, ParsesFaults) {
  auto faults = parse_stage_faults("s1=500; s2=hang;");
  ASSERT_TRUE(faults) << faults.error().message;
  ASSERT_EQ(faults->size(), 2U);
  EXPECT_EQ(faults->at("s1"), StageFault::http_500);
  EXPECT_EQ(faults->at("s2"), StageFault::hang);
  EXPECT_TRUE(parse_stage_faults("")->empty());
  EXPECT_FALSE(parse_stage_faults("s1=404"));
  EXPECT_FALSE(parse_stage_faults("s1"));
}

}  // namespace
}  // namespace ivs::app
