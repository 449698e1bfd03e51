// The shared DTLS identity: a P-256 self-signed certificate whose SDP fingerprint is the SHA-256
// of its DER encoding, and the a=fingerprint parser used to check the peer's certificate.
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "engine/dtls_certificate.hpp"

namespace ivs::engine {
namespace {

constexpr WallTime kNow{1'700'000'000'000'000};

TEST(DtlsCertificateTest, GeneratesP256WithSha256FingerprintInSdpForm) {
  auto certificate = DtlsCertificate::generate(kNow);
  ASSERT_TRUE(certificate.ok()) << certificate.error().message;
  const auto& cert = **certificate;
  EXPECT_EQ(EVP_PKEY_get_bits(cert.private_key()), 256);
  EXPECT_TRUE(EVP_PKEY_is_a(cert.private_key(), "EC"));
  EXPECT_EQ(X509_verify(cert.x509(), cert.private_key()), 1);  // self-signed

  const std::string sdp = cert.fingerprint_sdp();
  ASSERT_EQ(sdp.size(), std::string("sha-256 ").size() + 32 * 3 - 1);
  EXPECT_EQ(sdp.substr(0, 8), "sha-256 ");
  unsigned char digest[32];
  unsigned int length = 0;
  ASSERT_EQ(X509_digest(cert.x509(), EVP_sha256(), digest, &length), 1);
  EXPECT_EQ(cert.fingerprint().digest, Bytes(digest, digest + 32));
  auto parsed = DtlsFingerprint::parse(sdp);
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(*parsed, cert.fingerprint());
}

TEST(DtlsCertificateTest, TwoCertificatesDiffer) {
  auto first = DtlsCertificate::generate(kNow);
  auto second = DtlsCertificate::generate(kNow);
  ASSERT_TRUE(first.ok() && second.ok());
  EXPECT_NE((*first)->fingerprint(), (*second)->fingerprint());
}

TEST(DtlsCertificateTest, ValidityComesFromTheInjectedWallTime) {
  auto certificate = DtlsCertificate::generate(kNow);
  ASSERT_TRUE(certificate.ok());
  const time_t now = 1'700'000'000;
  EXPECT_EQ(X509_cmp_time(X509_get0_notBefore((*certificate)->x509()), const_cast<time_t*>(&now)),
            -1);
  EXPECT_EQ(X509_cmp_time(X509_get0_notAfter((*certificate)->x509()), const_cast<time_t*>(&now)),
            1);
}

TEST(DtlsFingerprintTest, ParsesCaseInsensitively) {
  auto parsed = DtlsFingerprint::parse(
      "SHA-256 ab:CD:00:11:22:33:44:55:66:77:88:99:aa:bb:cc:dd:ee:ff:00:11:22:33:44:55:66:77:88:"
      "99:aa:bb:cc:dd\r\n");
  ASSERT_TRUE(parsed.ok()) << parsed.error().message;
  EXPECT_EQ(parsed->algorithm, "sha-256");
  EXPECT_EQ(parsed->digest.size(), 32u);
  EXPECT_EQ(parsed->digest[0], 0xab);
  EXPECT_EQ(parsed->digest[1], 0xcd);
}

TEST(DtlsFingerprintTest, RejectsMalformedValues) {
  EXPECT_FALSE(DtlsFingerprint::parse("sha-256").ok());
  EXPECT_FALSE(DtlsFingerprint::parse("md5 AB:CD").ok());
  EXPECT_FALSE(DtlsFingerprint::parse("sha-256 AB:CD").ok());  // wrong length
  EXPECT_FALSE(DtlsFingerprint::parse("sha-256 AB-CD").ok());
  EXPECT_FALSE(DtlsFingerprint::parse("sha-1 zz:00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:"
                                      "00:00:00")
                   .ok());
  EXPECT_FALSE(DtlsFingerprint::parse("sha-256 A").ok());
}

}  // namespace
}  // namespace ivs::engine
