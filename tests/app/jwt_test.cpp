// ES384 JWS: the API server signs participant tokens with this code and the stage role verifies
// them with it, so these tests pin the wire form (raw r||s, base64url without padding) as well
// as the checks a verifier must make.
#include "app/control/jwt.hpp"

#include <gtest/gtest.h>

#include <openssl/evp.h>
#include <openssl/pem.h>

namespace ivs::app::jwt {
namespace {

constexpr std::int64_t kNow = 1'800'000'000;

boost::json::object sample_claims() {
  return boost::json::object{
      {"exp", kNow + 3600},
      {"iat", kNow},
      {"jti", "abcdEFGH1234"},
      {"resource", "arn:aws:ivs:us-east-1:123456789012:stage/AbCdEfGhIjKl"},
      {"topic", "AbCdEfGhIjKl"},
      {"whip_url", "http://127.0.0.1:3002/whip/AbCdEfGhIjKl"},
      {"capabilities", {{"allow_publish", true}}},
      {"version", "1.0"},
  };
}

Es384Key make_key() {
  auto key = Es384Key::generate();
  EXPECT_TRUE(key.ok());
  return std::move(key).value();
}

std::vector<std::string> split_token(const std::string& token) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  for (std::size_t dot; (dot = token.find('.', start)) != std::string::npos; start = dot + 1) {
    parts.push_back(token.substr(start, dot - start));
  }
  parts.push_back(token.substr(start));
  return parts;
}

TEST(Base64UrlTest, EncodesRfc4648VectorsWithoutPadding) {
  // RFC 4648 §10 test vectors, in the URL-safe alphabet and without '='.
  EXPECT_EQ(base64url_encode(as_bytes("")), "");
  EXPECT_EQ(base64url_encode(as_bytes("f")), "Zg");
  EXPECT_EQ(base64url_encode(as_bytes("fo")), "Zm8");
  EXPECT_EQ(base64url_encode(as_bytes("foo")), "Zm9v");
  EXPECT_EQ(base64url_encode(as_bytes("foobar")), "Zm9vYmFy");
  const Bytes high{0xfb, 0xff, 0xfe};
  EXPECT_EQ(base64url_encode(high), "-__-");
}

TEST(Base64UrlTest, DecodesWithAndWithoutPaddingAndRejectsForeignCharacters) {
  EXPECT_EQ(as_text(*base64url_decode("Zm9vYg")), "foob");
  EXPECT_EQ(as_text(*base64url_decode("Zm9vYg==")), "foob");
  EXPECT_EQ(*base64url_decode("-__-"), (Bytes{0xfb, 0xff, 0xfe}));
  EXPECT_FALSE(base64url_decode("Zm9v+g").ok());  // '+' is standard base64, not base64url.
  EXPECT_FALSE(base64url_decode("Zm9vY").ok());   // 4n+1 characters cannot encode whole bytes.
}

TEST(JwtTest, SignedTokenVerifiesAndCarriesTheClaims) {
  const auto key = make_key();
  auto token = sign(key, sample_claims());
  ASSERT_TRUE(token.ok()) << token.error().message;
  auto verified = verify(key, *token, kNow);
  ASSERT_TRUE(verified.ok()) << verified.error().message;
  EXPECT_EQ(verified->header.at("alg").as_string(), "ES384");
  EXPECT_EQ(verified->header.at("kid").as_string(), key.thumbprint());
  EXPECT_EQ(verified->claims, sample_claims());
  EXPECT_TRUE(verified->claims.at("capabilities").at("allow_publish").as_bool());
}

TEST(JwtTest, SignatureIsTheRaw96ByteForm) {
  // JWS (RFC 7518 §3.4) wants r||s, not OpenSSL's DER: a DER signature is 102-104 bytes.
  const auto key = make_key();
  const auto parts = split_token(*sign(key, sample_claims()));
  ASSERT_EQ(parts.size(), 3u);
  EXPECT_EQ(base64url_decode(parts[2])->size(), 96u);
  EXPECT_EQ(parts[2].find('='), std::string::npos);
}

TEST(JwtTest, TamperedPayloadFailsVerification) {
  const auto key = make_key();
  auto parts = split_token(*sign(key, sample_claims()));
  auto claims = sample_claims();
  claims["resource"] = "arn:aws:ivs:us-east-1:123456789012:stage/OtherStage12";
  parts[1] = base64url_encode(as_bytes(boost::json::serialize(claims)));
  const auto forged = parts[0] + "." + parts[1] + "." + parts[2];
  auto verified = verify(key, forged, kNow);
  ASSERT_FALSE(verified.ok());
  EXPECT_EQ(verified.error().message, "JWT: signature does not verify");
}

TEST(JwtTest, TokenFromAnotherKeyFails) {
  const auto signer = make_key();
  const auto other = make_key();
  EXPECT_FALSE(verify(other, *sign(signer, sample_claims()), kNow).ok());
}

TEST(JwtTest, ExpiredTokenIsRejected) {
  const auto key = make_key();
  const auto token = *sign(key, sample_claims());
  EXPECT_TRUE(verify(key, token, kNow + 3599).ok());
  auto late = verify(key, token, kNow + 3600);
  ASSERT_FALSE(late.ok());
  EXPECT_EQ(late.error().message, "JWT: token expired");
}

TEST(JwtTest, TokenWithoutExpIsRejected) {
  const auto key = make_key();
  auto claims = sample_claims();
  claims.erase("exp");
  EXPECT_FALSE(verify(key, *sign(key, claims), kNow).ok());
}

TEST(JwtTest, NotBeforeIsHonoured) {
  const auto key = make_key();
  auto claims = sample_claims();
  claims["nbf"] = kNow + 10;
  const auto token = *sign(key, claims);
  EXPECT_FALSE(verify(key, token, kNow).ok());
  EXPECT_TRUE(verify(key, token, kNow + 10).ok());
}

TEST(JwtTest, AlgNoneIsRejectedEvenWithAValidSignaturePart) {
  const auto key = make_key();
  auto parts = split_token(*sign(key, sample_claims()));
  parts[0] = base64url_encode(as_bytes(R"({"alg":"none","typ":"JWT"})"));
  auto verified = verify(key, parts[0] + "." + parts[1] + "." + parts[2], kNow);
  ASSERT_FALSE(verified.ok());
  EXPECT_EQ(verified.error().message, "JWT: alg must be ES384");
}

TEST(JwtTest, MalformedTokensFailWithoutCrashing) {
  const auto key = make_key();
  for (const std::string bad :
       {"", ".", "..", "a.b", "a.b.c.d", "!!.!!.!!", "e30.e30.", "e30.e30.AAAA"}) {
    EXPECT_FALSE(verify(key, bad, kNow).ok()) << bad;
  }
}

TEST(JwtTest, PublicKeyRoundTripsThroughPemAndJwk) {
  const auto key = make_key();
  const auto token = *sign(key, sample_claims());

  auto from_pem = Es384Key::from_public_pem(key.public_pem());
  ASSERT_TRUE(from_pem.ok()) << from_pem.error().message;
  EXPECT_FALSE(from_pem->has_private_key());
  EXPECT_TRUE(verify(*from_pem, token, kNow).ok());
  EXPECT_FALSE(sign(*from_pem, sample_claims()).ok());

  const auto jwk = key.public_jwk();
  EXPECT_EQ(jwk.at("kty").as_string(), "EC");
  EXPECT_EQ(jwk.at("crv").as_string(), "P-384");
  EXPECT_EQ(base64url_decode(jwk.at("x").as_string())->size(), 48u);
  auto from_jwk = Es384Key::from_jwk(jwk);
  ASSERT_TRUE(from_jwk.ok()) << from_jwk.error().message;
  EXPECT_TRUE(verify(*from_jwk, token, kNow).ok());
  EXPECT_EQ(from_jwk->thumbprint(), key.thumbprint());
}

TEST(JwtTest, PrivateKeyRoundTripsThroughPem) {
  const auto key = make_key();
  auto loaded = Es384Key::from_private_pem(key.private_pem());
  ASSERT_TRUE(loaded.ok()) << loaded.error().message;
  EXPECT_TRUE(loaded->has_private_key());
  EXPECT_TRUE(verify(key, *sign(*loaded, sample_claims()), kNow).ok());
}

TEST(JwtTest, KeysOnOtherCurvesAreRefused) {
  EVP_PKEY* p256 = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256");
  ASSERT_NE(p256, nullptr);
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_PrivateKey(bio, p256, nullptr, nullptr, 0, nullptr, nullptr);
  char* data = nullptr;
  const long length = BIO_get_mem_data(bio, &data);
  const std::string pem(data, static_cast<std::size_t>(length));
  BIO_free(bio);
  EVP_PKEY_free(p256);
  auto loaded = Es384Key::from_private_pem(pem);
  ASSERT_FALSE(loaded.ok());
  EXPECT_NE(loaded.error().message.find("P-384"), std::string::npos);
  EXPECT_FALSE(Es384Key::from_private_pem("not a pem").ok());
}

TEST(JwtTest, UnverifiedDecodeReadsClaims) {
  const auto key = make_key();
  auto claims = decode_claims_unverified(*sign(key, sample_claims()));
  ASSERT_TRUE(claims.ok());
  EXPECT_EQ(claims->at("whip_url").as_string(), "http://127.0.0.1:3002/whip/AbCdEfGhIjKl");
}

}  // namespace
}  // namespace ivs::app::jwt
