// SRTP/SRTCP through our SrtpSession wrapper (libsrtp2 backend), checked against published
// vectors.
//
// What is checked, and how: libsrtp only accepts MASTER keys and always runs the RFC 3711 key
// derivation itself, so a vector stated in SESSION keys (RFC 3711 B.2, RFC 7714 §16) cannot be fed
// to it directly. The chain is therefore:
//   1. An independent reference built on OpenSSL EVP (AES-128-CTR, HMAC-SHA1, AES-128-GCM and the
//      RFC 3711 §4.3 AES-CM PRF) is validated against the published numbers: the B.2 keystream,
//      the B.3 derived keys, and the RFC 7714 §16.1.1 ciphertext and tag.
//   2. Our wrapper protects a packet from a master key; the output must equal, byte for byte,
//      what the reference computes from the session keys the RFC lists (AES-CM: B.3's published
//      cipher key, salt and auth key) or that the validated reference KDF derives (GCM).
#include <gtest/gtest.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include "support/hex.hpp"

#include <string>

#include "engine/srtp_session.hpp"

namespace ivs::engine {
namespace {

Bytes hex(std::string_view text) {
  return test::hex_bytes(text);
}

Bytes aes_ctr(ByteSpan key, ByteSpan iv, ByteSpan input) {
  Bytes out(input.size());
  EVP_CIPHER_CTX* context = EVP_CIPHER_CTX_new();
  int length = 0;
  EVP_EncryptInit_ex(context, EVP_aes_128_ctr(), nullptr, key.data(), iv.data());
  EVP_EncryptUpdate(context, out.data(), &length, input.data(), static_cast<int>(input.size()));
  EVP_CIPHER_CTX_free(context);
  return out;
}

// RFC 3711 §4.3.1/§4.3.3 with kdr = 0: x = (label || 0^48) XOR master_salt, the PRF is AES-CM
// keyed with the master key from IV x || 0x0000. A 96-bit (GCM) salt is zero-padded to 112 bits.
Bytes kdf(ByteSpan master_key, ByteSpan master_salt, std::uint8_t label, std::size_t length) {
  Bytes iv(16, 0);
  std::copy(master_salt.begin(), master_salt.end(), iv.begin());
  iv[7] ^= label;
  return aes_ctr(master_key, iv, Bytes(length, 0));
}

Bytes hmac_sha1(ByteSpan key, ByteSpan data) {
  unsigned char out[20];
  unsigned int length = 0;
  HMAC(EVP_sha1(), key.data(), static_cast<int>(key.size()), data.data(), data.size(), out,
       &length);
  return Bytes(out, out + length);
}

// RFC 3711 §4.1.1 IV and §4.2 tag over header || encrypted payload || ROC; ROC is 0 here.
Bytes reference_aes_cm_protect(ByteSpan packet, ByteSpan key, ByteSpan salt, ByteSpan auth_key) {
  Bytes iv(16, 0);
  std::copy(salt.begin(), salt.end(), iv.begin());
  for (int i = 0; i < 4; ++i) {
    iv[4 + i] ^= packet[8 + i];  // SSRC
  }
  iv[12] ^= packet[2];  // index = ROC || SEQ, ROC = 0
  iv[13] ^= packet[3];
  Bytes out(packet.begin(), packet.begin() + 12);
  append_bytes(out, aes_ctr(key, iv, packet.subspan(12)));
  Bytes authenticated = out;
  append_bytes(authenticated, Bytes(4, 0));
  const Bytes tag = hmac_sha1(auth_key, authenticated);
  out.insert(out.end(), tag.begin(), tag.begin() + 10);
  return out;
}

// RFC 7714 §8.1 IV = salt XOR (0^16 || SSRC || ROC || SEQ), AAD = the 12-byte header.
Bytes reference_gcm_protect(ByteSpan packet, ByteSpan key, ByteSpan salt) {
  Bytes iv(salt.begin(), salt.end());
  for (int i = 0; i < 4; ++i) {
    iv[2 + i] ^= packet[8 + i];
  }
  iv[10] ^= packet[2];
  iv[11] ^= packet[3];
  Bytes out(packet.begin(), packet.begin() + 12);
  Bytes body(packet.size() - 12);
  unsigned char tag[16];
  int length = 0;
  EVP_CIPHER_CTX* context = EVP_CIPHER_CTX_new();
  EVP_EncryptInit_ex(context, EVP_aes_128_gcm(), nullptr, nullptr, nullptr);
  EVP_CIPHER_CTX_ctrl(context, EVP_CTRL_GCM_SET_IVLEN, 12, nullptr);
  EVP_EncryptInit_ex(context, nullptr, nullptr, key.data(), iv.data());
  EVP_EncryptUpdate(context, nullptr, &length, packet.data(), 12);
  EVP_EncryptUpdate(context, body.data(), &length, packet.data() + 12,
                    static_cast<int>(body.size()));
  EVP_EncryptFinal_ex(context, nullptr, &length);
  EVP_CIPHER_CTX_ctrl(context, EVP_CTRL_GCM_GET_TAG, 16, tag);
  EVP_CIPHER_CTX_free(context);
  append_bytes(out, body);
  out.insert(out.end(), tag, tag + 16);
  return out;
}

// RFC 7714 §16.1: header 8040f17b 8041f8d3 5501a0b2 and "Gallia est omnis divisa in partes tres".
Bytes rfc7714_packet() {
  Bytes packet = hex("8040f17b8041f8d35501a0b2");
  append_bytes(packet, as_bytes("Gallia est omnis divisa in partes tres"));
  return packet;
}

const Bytes kB3MasterKey = hex("E1F97A0D3E018BE0D64FA32C06DE4139");
const Bytes kB3MasterSalt = hex("0EC675AD498AFEEBB6960B3AABE6");

std::unique_ptr<SrtpSession> session(SrtpProfile profile, SrtpMasterKey master,
                                     SrtpDirection direction, bool allow_repeat_tx = true) {
  SrtpConfig config;
  config.profile = profile;
  config.master = std::move(master);
  config.direction = direction;
  config.allow_repeat_tx = allow_repeat_tx;
  auto created = make_libsrtp_session(config);
  EXPECT_TRUE(created.ok()) << (created.ok() ? "" : created.error().message);
  return created.ok() ? std::move(*created) : nullptr;
}

SrtpMasterKey gcm_master() {
  return {kB3MasterKey, Bytes(kB3MasterSalt.begin(), kB3MasterSalt.begin() + 12)};
}

// Protects `plain` and returns exactly the output bytes (or empty on failure).
Bytes protect(SrtpSession& srtp, ByteSpan plain) {
  Bytes buffer(plain.begin(), plain.end());
  std::size_t size = buffer.size();
  buffer.resize(size + kMaxSrtpOverhead);
  if (srtp.protect_rtp(buffer, size) != SrtpStatus::kOk) {
    return {};
  }
  buffer.resize(size);
  return buffer;
}

TEST(SrtpReference, Rfc3711B2KeystreamMatches) {
  const Bytes keystream = aes_ctr(hex("2B7E151628AED2A6ABF7158809CF4F3C"),
                                  hex("F0F1F2F3F4F5F6F7F8F9FAFBFCFD0000"), Bytes(48, 0));
  EXPECT_EQ(to_hex(keystream),
            "e03ead0935c95e80e166b16dd92b4eb4"
            "d23513162b02d0f72a43a2fe4a5f97ab"
            "41e95b3bb0a2e8dd477901e4fca894c0");
}

TEST(SrtpReference, Rfc3711B3KeyDerivationMatches) {
  EXPECT_EQ(to_hex(kdf(kB3MasterKey, kB3MasterSalt, 0x00, 16)), "c61e7a93744f39ee10734afe3ff7a087");
  EXPECT_EQ(to_hex(kdf(kB3MasterKey, kB3MasterSalt, 0x02, 14)), "30cbbc08863d8c85d49db34a9ae1");
  EXPECT_EQ(to_hex(kdf(kB3MasterKey, kB3MasterSalt, 0x01, 20)),
            "cebe321f6ff7716b6fd4ab49af256a156d38baa4");
}

TEST(SrtpReference, Rfc7714Section16_1_1GcmMatches) {
  const Bytes out = reference_gcm_protect(rfc7714_packet(), hex("000102030405060708090a0b0c0d0e0f"),
                                          hex("517569642070726f2071756f"));
  EXPECT_EQ(to_hex(out),
            "8040f17b8041f8d35501a0b2"
            "f24de3a3fb34de6cacba861c9d7e4bcabe633bd50d294e6f42a5f47a51c7d19b36de3adf8833"
            "899d7f27beb16a9152cf765ee4390cce");
}

// Wrapper output for a B.3 master key equals the reference computed from the session keys that
// RFC 3711 B.3 publishes (not from our own KDF).
TEST(SrtpVectors, AesCmProtectMatchesRfc3711SessionKeys) {
  auto srtp = session(SrtpProfile::kAes128CmHmacSha1_80, {kB3MasterKey, kB3MasterSalt},
                      SrtpDirection::kOutbound);
  ASSERT_TRUE(srtp);
  const Bytes expected = reference_aes_cm_protect(
      rfc7714_packet(), hex("C61E7A93744F39EE10734AFE3FF7A087"),
      hex("30CBBC08863D8C85D49DB34A9AE1"), hex("CEBE321F6FF7716B6FD4AB49AF256A156D38BAA4"));
  EXPECT_EQ(to_hex(protect(*srtp, rfc7714_packet())), to_hex(expected));
}

// GCM: session key and salt from the reference KDF (validated above), then the RFC 7714 §8
// transform (validated above against §16.1.1).
TEST(SrtpVectors, GcmProtectMatchesRfc7714Transform) {
  const SrtpMasterKey master = gcm_master();
  auto srtp = session(SrtpProfile::kAeadAes128Gcm, master, SrtpDirection::kOutbound);
  ASSERT_TRUE(srtp);
  const Bytes expected = reference_gcm_protect(
      rfc7714_packet(), kdf(master.key, master.salt, 0, 16), kdf(master.key, master.salt, 2, 12));
  EXPECT_EQ(to_hex(protect(*srtp, rfc7714_packet())), to_hex(expected));
}

class SrtpRoundTrip : public ::testing::TestWithParam<SrtpProfile> {
 protected:
  SrtpMasterKey master() const {
    return GetParam() == SrtpProfile::kAeadAes128Gcm ? gcm_master()
                                                     : SrtpMasterKey{kB3MasterKey, kB3MasterSalt};
  }
  static Bytes rtp(std::uint16_t sequence, std::uint32_t ssrc) {
    Bytes packet = rfc7714_packet();
    write_u16(packet.data() + 2, sequence);
    write_u32(packet.data() + 8, ssrc);
    return packet;
  }
};

TEST_P(SrtpRoundTrip, ManySsrcsProtectAndUnprotect) {
  auto sender = session(GetParam(), master(), SrtpDirection::kOutbound);
  auto receiver = session(GetParam(), master(), SrtpDirection::kInbound);
  for (std::uint32_t ssrc : {0x11111111u, 0x22222222u, 0x33333333u}) {
    for (std::uint16_t sequence = 65530; sequence != 5; ++sequence) {
      const Bytes plain = rtp(sequence, ssrc);
      Bytes buffer = protect(*sender, plain);
      ASSERT_EQ(buffer.size(), plain.size() + rtp_overhead(GetParam()));
      std::size_t size = buffer.size();
      ASSERT_EQ(receiver->unprotect_rtp(buffer, size), SrtpStatus::kOk);
      buffer.resize(size);
      EXPECT_EQ(buffer, plain);
    }
  }
  EXPECT_EQ(receiver->stats().ok, 3u * 11u);
}

TEST_P(SrtpRoundTrip, ReplayIsRejectedAndCounted) {
  auto sender = session(GetParam(), master(), SrtpDirection::kOutbound);
  auto receiver = session(GetParam(), master(), SrtpDirection::kInbound);
  const Bytes protected_packet = protect(*sender, rtp(100, 7));
  Bytes first = protected_packet;
  std::size_t size = first.size();
  ASSERT_EQ(receiver->unprotect_rtp(first, size), SrtpStatus::kOk);
  Bytes second = protected_packet;
  size = second.size();
  EXPECT_EQ(receiver->unprotect_rtp(second, size), SrtpStatus::kReplayFail);
  EXPECT_EQ(receiver->stats().replay_fail, 1u);
}

TEST_P(SrtpRoundTrip, TamperedTagFailsAuthentication) {
  auto sender = session(GetParam(), master(), SrtpDirection::kOutbound);
  auto receiver = session(GetParam(), master(), SrtpDirection::kInbound);
  Bytes buffer = protect(*sender, rtp(100, 7));
  buffer.back() ^= 0x01;
  std::size_t size = buffer.size();
  EXPECT_EQ(receiver->unprotect_rtp(buffer, size), SrtpStatus::kAuthFail);
  EXPECT_EQ(receiver->stats().auth_fail, 1u);
}

TEST_P(SrtpRoundTrip, TruncatedPacketIsBadPacket) {
  auto receiver = session(GetParam(), master(), SrtpDirection::kInbound);
  Bytes buffer = hex("8040f17b8041");
  std::size_t size = buffer.size();
  EXPECT_EQ(receiver->unprotect_rtp(buffer, size), SrtpStatus::kBadPacket);
  Bytes rtcp = hex("81c8000c");
  size = rtcp.size();
  EXPECT_EQ(receiver->unprotect_rtcp(rtcp, size), SrtpStatus::kBadPacket);
  EXPECT_EQ(receiver->stats().bad_packet, 2u);
}

TEST_P(SrtpRoundTrip, ProtectWithoutRoomForTagIsRefused) {
  auto sender = session(GetParam(), master(), SrtpDirection::kOutbound);
  Bytes buffer = rtp(1, 7);
  std::size_t size = buffer.size();
  EXPECT_EQ(sender->protect_rtp(buffer, size), SrtpStatus::kBufferTooSmall);
  EXPECT_EQ(size, buffer.size());
}

// We answer NACKs by re-sending the same packet with the same sequence number; with
// allow_repeat_tx the re-protect succeeds and, the input being identical, so is the output.
TEST_P(SrtpRoundTrip, RepeatedTransmissionNeedsAllowRepeatTx) {
  auto sender = session(GetParam(), master(), SrtpDirection::kOutbound);
  const Bytes first = protect(*sender, rtp(42, 7));
  EXPECT_EQ(protect(*sender, rtp(42, 7)), first);

  auto strict = session(GetParam(), master(), SrtpDirection::kOutbound, false);
  ASSERT_FALSE(protect(*strict, rtp(42, 7)).empty());
  EXPECT_TRUE(protect(*strict, rtp(42, 7)).empty());
  EXPECT_EQ(strict->stats().replay_fail, 1u);
}

TEST_P(SrtpRoundTrip, RtcpRoundTripAndReplay) {
  auto sender = session(GetParam(), master(), SrtpDirection::kOutbound);
  auto receiver = session(GetParam(), master(), SrtpDirection::kInbound);
  // A receiver report with no report blocks: V=2, PT=201, length 1, SSRC.
  const Bytes plain = hex("80c9000112345678");
  Bytes buffer = plain;
  std::size_t size = buffer.size();
  buffer.resize(size + kMaxSrtpOverhead);
  ASSERT_EQ(sender->protect_rtcp(buffer, size), SrtpStatus::kOk);
  ASSERT_EQ(size, plain.size() + rtcp_overhead(GetParam()));
  buffer.resize(size);
  Bytes copy = buffer;
  ASSERT_EQ(receiver->unprotect_rtcp(buffer, size), SrtpStatus::kOk);
  buffer.resize(size);
  EXPECT_EQ(buffer, plain);
  size = copy.size();
  EXPECT_EQ(receiver->unprotect_rtcp(copy, size), SrtpStatus::kReplayFail);
}

INSTANTIATE_TEST_SUITE_P(Profiles, SrtpRoundTrip,
                         ::testing::Values(SrtpProfile::kAes128CmHmacSha1_80,
                                           SrtpProfile::kAeadAes128Gcm));

TEST(SrtpConfigTest, WrongKeyLengthIsAnError) {
  SrtpConfig config;
  config.profile = SrtpProfile::kAeadAes128Gcm;
  config.master = {kB3MasterKey, kB3MasterSalt};  // a 14-byte salt is the AES-CM length
  EXPECT_FALSE(make_libsrtp_session(config).ok());
}

}  // namespace
}  // namespace ivs::engine
