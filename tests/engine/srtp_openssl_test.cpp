// The OpenSSL SRTP backend: published vectors, then bit-for-bit agreement with libsrtp2.
//
// Vectors stated in SESSION keys (RFC 3711 B.2/B.3 outputs, RFC 7714 §16.1.1 and §17.1/§17.3)
// are fed to the real session through set_session_keys_for_test, so the packet layout, IV and
// AAD construction are checked against the RFC itself, not against our reading of it. The KDF is
// checked against B.3. Everything else is checked against libsrtp2 as the oracle: same master
// keys, same packets, identical bytes and identical accept/reject decisions, including ROC
// rollover, reordering, duplicates, stale packets and tampering.
#include <gtest/gtest.h>
#include <openssl/crypto.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <new>
#include <random>

#include "engine/srtp_openssl.hpp"
#include "support/hex.hpp"

// Allocation counters for SrtpOpensslAllocation: every operator new of this test binary, and
// every allocation OpenSSL makes (its hooks must be installed before its first allocation, so
// from a static initializer).
std::atomic<std::size_t> g_new_calls{0};
std::atomic<std::size_t> g_openssl_allocations{0};

void* operator new(std::size_t size) {
  ++g_new_calls;
  if (void* memory = std::malloc(size == 0 ? 1 : size)) {
    return memory;
  }
  throw std::bad_alloc();
}
// GCC cannot see that operator new above is what allocated these, and warns about free().
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif
void operator delete(void* memory) noexcept {
  std::free(memory);
}
void operator delete(void* memory, std::size_t) noexcept {
  std::free(memory);
}
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

namespace {
void* counting_malloc(std::size_t size, const char*, int) {
  ++g_openssl_allocations;
  return std::malloc(size);
}
void* counting_realloc(void* memory, std::size_t size, const char*, int) {
  ++g_openssl_allocations;
  return std::realloc(memory, size);
}
void counting_free(void* memory, const char*, int) {
  std::free(memory);
}
const bool g_openssl_hooks =
    CRYPTO_set_mem_functions(counting_malloc, counting_realloc, counting_free) == 1;
}  // namespace

namespace ivs::engine {
namespace {

using srtp_detail::OpensslSrtpSession;

Bytes hex(std::string_view text) {
  return test::hex_bytes(text);
}

const Bytes kB3MasterKey = hex("E1F97A0D3E018BE0D64FA32C06DE4139");
const Bytes kB3MasterSalt = hex("0EC675AD498AFEEBB6960B3AABE6");

SrtpMasterKey master_for(SrtpProfile profile) {
  return profile == SrtpProfile::kAeadAes128Gcm
             ? SrtpMasterKey{kB3MasterKey, Bytes(kB3MasterSalt.begin(), kB3MasterSalt.begin() + 12)}
             : SrtpMasterKey{kB3MasterKey, kB3MasterSalt};
}

std::unique_ptr<SrtpSession> make(SrtpBackend backend, SrtpProfile profile, SrtpDirection direction,
                                  bool allow_repeat_tx = true) {
  SrtpConfig config;
  config.profile = profile;
  config.master = master_for(profile);
  config.direction = direction;
  config.allow_repeat_tx = allow_repeat_tx;
  config.backend = backend;
  auto created = make_srtp_session(config);
  EXPECT_TRUE(created.ok()) << (created.ok() ? "" : created.error().message);
  return created.ok() ? std::move(*created) : nullptr;
}

// A session keyed with RFC session keys directly.
std::unique_ptr<OpensslSrtpSession> with_session_keys(SrtpProfile profile, bool rtcp, ByteSpan key,
                                                      ByteSpan salt, ByteSpan auth = {}) {
  SrtpConfig config;
  config.profile = profile;
  auto session = std::make_unique<OpensslSrtpSession>(config, 1024);
  EXPECT_TRUE(session->set_session_keys_for_test(rtcp, key, salt, auth));
  return session;
}

struct Outcome {
  SrtpStatus status;
  Bytes bytes;  // the output on kOk, else empty
  friend bool operator==(const Outcome&, const Outcome&) = default;
};

enum class Kind { kRtp, kRtcp };

Outcome run(SrtpSession& session, bool protect, Kind kind, ByteSpan input) {
  Bytes buffer(input.begin(), input.end());
  std::size_t size = buffer.size();
  buffer.resize(size + kMaxSrtpOverhead);
  SrtpStatus status;
  if (kind == Kind::kRtp) {
    status = protect ? session.protect_rtp(buffer, size) : session.unprotect_rtp(buffer, size);
  } else {
    status = protect ? session.protect_rtcp(buffer, size) : session.unprotect_rtcp(buffer, size);
  }
  if (status != SrtpStatus::kOk) {
    return {status, {}};
  }
  buffer.resize(size);
  return {status, buffer};
}

Bytes rfc7714_packet() {
  Bytes packet = hex("8040f17b8041f8d35501a0b2");
  append_bytes(packet, as_bytes("Gallia est omnis divisa in partes tres"));
  return packet;
}

const Bytes kRfc7714Key = hex("000102030405060708090a0b0c0d0e0f");
const Bytes kRfc7714Salt = hex("517569642070726f2071756f");
const Bytes kRfc7714Rtcp =
    hex("81c8000d4d6172734e5450314e545032525450200000042a0000e9304c756e61"
        "deadbeefdeadbeefdeadbeefdeadbeefdeadbeef");

TEST(SrtpOpensslVectors, Rfc3711B2AesCmKeystream) {
  srtp_detail::AesCtr ctr;
  ASSERT_TRUE(ctr.init(hex("2B7E151628AED2A6ABF7158809CF4F3C")));
  Bytes keystream(48, 0);
  const Bytes iv = hex("F0F1F2F3F4F5F6F7F8F9FAFBFCFD0000");
  ASSERT_TRUE(ctr.apply(iv.data(), keystream.data(), keystream.size()));
  EXPECT_EQ(to_hex(keystream),
            "e03ead0935c95e80e166b16dd92b4eb4d23513162b02d0f72a43a2fe4a5f97ab"
            "41e95b3bb0a2e8dd477901e4fca894c0");
}

TEST(SrtpOpensslVectors, Rfc3711B3KeyDerivation) {
  auto derive = [](std::uint8_t label, std::size_t length) {
    Bytes out(length);
    EXPECT_TRUE(
        srtp_detail::derive_session_key(kB3MasterKey, kB3MasterSalt, label, out.data(), length));
    return to_hex(out);
  };
  EXPECT_EQ(derive(0, 16), "c61e7a93744f39ee10734afe3ff7a087");
  EXPECT_EQ(derive(2, 14), "30cbbc08863d8c85d49db34a9ae1");
  EXPECT_EQ(derive(1, 20), "cebe321f6ff7716b6fd4ab49af256a156d38baa4");
}

TEST(SrtpOpensslVectors, Rfc7714Section16_1_1RtpProtectAndUnprotect) {
  auto session = with_session_keys(SrtpProfile::kAeadAes128Gcm, false, kRfc7714Key, kRfc7714Salt);
  const Outcome sealed = run(*session, true, Kind::kRtp, rfc7714_packet());
  ASSERT_EQ(sealed.status, SrtpStatus::kOk);
  EXPECT_EQ(to_hex(sealed.bytes),
            "8040f17b8041f8d35501a0b2"
            "f24de3a3fb34de6cacba861c9d7e4bcabe633bd50d294e6f42a5f47a51c7d19b36de3adf8833"
            "899d7f27beb16a9152cf765ee4390cce");
  auto receiver = with_session_keys(SrtpProfile::kAeadAes128Gcm, false, kRfc7714Key, kRfc7714Salt);
  EXPECT_EQ(run(*receiver, false, Kind::kRtp, sealed.bytes).bytes, rfc7714_packet());
}

TEST(SrtpOpensslVectors, Rfc7714Section17_1EncryptedSrtcp) {
  auto session = with_session_keys(SrtpProfile::kAeadAes128Gcm, true, kRfc7714Key, kRfc7714Salt);
  const Bytes wire =
      hex("81c8000d4d61727363e94885dcdab67ca727d7662f6b7e997ff5c0f76c06f32dc676a5f1730d6fda4ce09b46"
          "86303ded0bb9275bc84aa45896cf4d2fc5abf87245d9eade800005d4");
  const Outcome opened = run(*session, false, Kind::kRtcp, wire);
  ASSERT_EQ(opened.status, SrtpStatus::kOk);
  EXPECT_EQ(opened.bytes, kRfc7714Rtcp);
  // The same index again is a replay.
  EXPECT_EQ(run(*session, false, Kind::kRtcp, wire).status, SrtpStatus::kReplayFail);
}

TEST(SrtpOpensslVectors, Rfc7714Section17_3AuthenticatedOnlySrtcp) {
  auto session = with_session_keys(SrtpProfile::kAeadAes128Gcm, true, kRfc7714Key, kRfc7714Salt);
  Bytes wire = kRfc7714Rtcp;
  append_bytes(wire, hex("841dd9683dd78ec92ae58790125f62b3000005d4"));
  Bytes tampered = wire;
  tampered[20] ^= 1;  // clear text is authenticated too
  EXPECT_EQ(run(*session, false, Kind::kRtcp, tampered).status, SrtpStatus::kAuthFail);
  const Outcome opened = run(*session, false, Kind::kRtcp, wire);
  ASSERT_EQ(opened.status, SrtpStatus::kOk);
  EXPECT_EQ(opened.bytes, kRfc7714Rtcp);
}

// RFC 3711 has no packet vector; B.3's published session keys and an HMAC/CTR reference built
// the same way as tests/engine/srtp_test.cpp must agree with the backend fed the master key.
TEST(SrtpOpensslVectors, AesCmFromMasterKeyEqualsRfc3711SessionKeys) {
  auto from_master =
      make(SrtpBackend::kOpenssl, SrtpProfile::kAes128CmHmacSha1_80, SrtpDirection::kOutbound);
  auto from_session_keys = with_session_keys(
      SrtpProfile::kAes128CmHmacSha1_80, false, hex("C61E7A93744F39EE10734AFE3FF7A087"),
      hex("30CBBC08863D8C85D49DB34A9AE1"), hex("CEBE321F6FF7716B6FD4AB49AF256A156D38BAA4"));
  const Outcome expected = run(*from_session_keys, true, Kind::kRtp, rfc7714_packet());
  ASSERT_EQ(expected.status, SrtpStatus::kOk);
  EXPECT_EQ(run(*from_master, true, Kind::kRtp, rfc7714_packet()), expected);
}

// DESIGN.md §4: no allocation per packet. After the first packet of each SSRC (which creates
// its stream record), protect and unprotect of RTP and RTCP allocate nothing, in our code or
// inside OpenSSL.
TEST(SrtpOpensslAllocation, PacketsAfterTheFirstAllocateNothing) {
  ASSERT_TRUE(g_openssl_hooks) << "OpenSSL allocated before the test could hook it";
  for (SrtpProfile profile : {SrtpProfile::kAes128CmHmacSha1_80, SrtpProfile::kAeadAes128Gcm}) {
    const std::size_t before_sessions = g_openssl_allocations;
    auto sender = make(SrtpBackend::kOpenssl, profile, SrtpDirection::kOutbound);
    auto receiver = make(SrtpBackend::kOpenssl, profile, SrtpDirection::kInbound);
    // The hooks do see OpenSSL's allocations: keying the EVP contexts makes some.
    EXPECT_GT(g_openssl_allocations - before_sessions, 0u);
    Bytes plain(1200, 0x42);
    plain[0] = 0x80;
    plain[1] = 96;
    write_u32(plain.data() + 8, 0x5555);
    const Bytes report = hex("80c9000100005555");
    Bytes buffer(1200 + kMaxSrtpOverhead);
    std::size_t failures = 0;
    std::size_t new_calls = 0;
    std::size_t openssl_allocations = 0;
    for (std::uint16_t sequence = 0; sequence < 1000; ++sequence) {
      if (sequence == 1) {
        new_calls = g_new_calls;
        openssl_allocations = g_openssl_allocations;
      }
      std::memcpy(buffer.data(), plain.data(), plain.size());
      write_u16(buffer.data() + 2, sequence);
      std::size_t size = plain.size();
      failures += sender->protect_rtp(buffer, size) == SrtpStatus::kOk ? 0 : 1;
      failures += receiver->unprotect_rtp(buffer, size) == SrtpStatus::kOk ? 0 : 1;
      std::memcpy(buffer.data(), report.data(), report.size());
      size = report.size();
      failures += sender->protect_rtcp(buffer, size) == SrtpStatus::kOk ? 0 : 1;
      failures += receiver->unprotect_rtcp(buffer, size) == SrtpStatus::kOk ? 0 : 1;
    }
    EXPECT_EQ(failures, 0u);
    EXPECT_EQ(g_new_calls - new_calls, 0u) << to_string(profile);
    EXPECT_EQ(g_openssl_allocations - openssl_allocations, 0u) << to_string(profile);
  }
}

TEST(SrtpBackendSelection, DefaultIsOpensslAndLibsrtpStaysSelectable) {
  EXPECT_EQ(default_srtp_backend(), SrtpBackend::kOpenssl);
  auto chosen = make(SrtpBackend::kDefault, SrtpProfile::kAeadAes128Gcm, SrtpDirection::kInbound);
  EXPECT_NE(dynamic_cast<OpensslSrtpSession*>(chosen.get()), nullptr);
  auto libsrtp = make(SrtpBackend::kLibsrtp, SrtpProfile::kAeadAes128Gcm, SrtpDirection::kInbound);
  EXPECT_EQ(dynamic_cast<OpensslSrtpSession*>(libsrtp.get()), nullptr);
}

TEST(SrtpBackendSelection, BadKeysAndWindowsAreErrors) {
  SrtpConfig config;
  config.profile = SrtpProfile::kAeadAes128Gcm;
  config.master = {kB3MasterKey, kB3MasterSalt};  // a 14-byte salt is the AES-CM length
  EXPECT_FALSE(make_openssl_srtp_session(config).ok());
  config.master = master_for(config.profile);
  config.replay_window = 63;
  EXPECT_FALSE(make_openssl_srtp_session(config).ok());
  EXPECT_FALSE(make_libsrtp_session(config).ok());
  config.replay_window = 64;
  EXPECT_TRUE(make_openssl_srtp_session(config).ok());
}

// ---- Cross-checks against libsrtp2 -------------------------------------------------------------

// RTP packets with CSRCs, header extensions and payload sizes 0..1200 drawn from a seeded
// generator, so every run checks the same (varied) packets.
class PacketMaker {
 public:
  explicit PacketMaker(std::uint32_t seed) : random_(seed) {}

  Bytes rtp(std::uint16_t sequence, std::uint32_t ssrc) {
    const std::size_t csrcs = pick(3);
    const bool extension = pick(2) == 1;
    Bytes packet = {static_cast<std::uint8_t>(0x80 | (extension ? 0x10 : 0) | csrcs), 96};
    append_u16(packet, sequence);
    append_u32(packet, static_cast<std::uint32_t>(sequence) * 3000);
    append_u32(packet, ssrc);
    for (std::size_t i = 0; i < csrcs; ++i) {
      append_u32(packet, 0x0c5c0000 + static_cast<std::uint32_t>(i));
    }
    if (extension) {
      const auto words = static_cast<std::uint16_t>(pick(3));
      append_u16(packet, 0xbede);
      append_u16(packet, words);
      append_bytes(packet, Bytes(4U * words, 0x22));
    }
    append_payload(packet, pick(4) == 0 ? pick(8) : pick(1201));
    return packet;
  }

  // A receiver report or a compound SR + SDES-ish body: V=2 and an SSRC is all SRTCP needs.
  Bytes rtcp(std::uint32_t ssrc) {
    Bytes packet = {0x81, static_cast<std::uint8_t>(200 + pick(2)), 0, 0};
    append_u32(packet, ssrc);
    append_payload(packet, 4 * pick(40));
    write_u16(packet.data() + 2, static_cast<std::uint16_t>(packet.size() / 4 - 1));
    return packet;
  }

  std::size_t pick(std::size_t bound) {
    return std::uniform_int_distribution<std::size_t>(0, bound - 1)(random_);
  }

 private:
  void append_payload(Bytes& packet, std::size_t size) {
    for (std::size_t i = 0; i < size; ++i) {
      packet.push_back(static_cast<std::uint8_t>(random_()));
    }
  }
  std::mt19937 random_;
};

class SrtpCrossBackend : public ::testing::TestWithParam<SrtpProfile> {
 protected:
  std::unique_ptr<SrtpSession> libsrtp(SrtpDirection direction, bool allow_repeat_tx = true) {
    return make(SrtpBackend::kLibsrtp, GetParam(), direction, allow_repeat_tx);
  }
  std::unique_ptr<SrtpSession> openssl(SrtpDirection direction, bool allow_repeat_tx = true) {
    return make(SrtpBackend::kOpenssl, GetParam(), direction, allow_repeat_tx);
  }
  // Sequence numbers that start near the wrap, mostly advance by one, and sometimes step back
  // (reordering at the sender), repeat (NACK answers) or jump far ahead.
  static std::vector<std::uint16_t> sequences(PacketMaker& maker, std::size_t count) {
    std::vector<std::uint16_t> out;
    std::uint16_t sequence = 65000;
    for (std::size_t i = 0; i < count; ++i) {
      const std::size_t roll = maker.pick(100);
      if (roll < 5) {
        out.push_back(static_cast<std::uint16_t>(sequence - maker.pick(200)));
        continue;
      }
      // Jumps beyond 2^15 read as "from the previous ROC" and stall the sender for a while.
      const std::size_t jump = roll == 5  ? 1 + maker.pick(40000)
                               : roll < 8 ? 1 + maker.pick(3000)
                                          : 1;
      sequence = static_cast<std::uint16_t>(sequence + jump);
      out.push_back(sequence);
    }
    return out;
  }
};

TEST_P(SrtpCrossBackend, ProtectIsByteIdenticalAcrossRolloverRepeatsAndJumps) {
  for (bool allow_repeat_tx : {true, false}) {
    auto reference = libsrtp(SrtpDirection::kOutbound, allow_repeat_tx);
    auto ours = openssl(SrtpDirection::kOutbound, allow_repeat_tx);
    PacketMaker maker(allow_repeat_tx ? 1 : 2);
    std::size_t ok = 0;
    for (std::uint16_t sequence : sequences(maker, 3000)) {
      const Bytes plain = maker.rtp(sequence, 0x1000 + static_cast<std::uint32_t>(maker.pick(3)));
      const Outcome expected = run(*reference, true, Kind::kRtp, plain);
      ASSERT_EQ(run(*ours, true, Kind::kRtp, plain), expected) << "sequence " << sequence;
      ok += expected.status == SrtpStatus::kOk ? 1 : 0;
    }
    EXPECT_GT(ok, 1000u);
    EXPECT_EQ(ours->stats().replay_fail, reference->stats().replay_fail);
  }
}

TEST_P(SrtpCrossBackend, RtcpProtectIsByteIdentical) {
  auto reference = libsrtp(SrtpDirection::kOutbound);
  auto ours = openssl(SrtpDirection::kOutbound);
  PacketMaker maker(3);
  for (int i = 0; i < 500; ++i) {
    const Bytes plain = maker.rtcp(0x2000 + static_cast<std::uint32_t>(maker.pick(3)));
    const Outcome expected = run(*reference, true, Kind::kRtcp, plain);
    ASSERT_EQ(expected.status, SrtpStatus::kOk);
    ASSERT_EQ(run(*ours, true, Kind::kRtcp, plain), expected) << i;
  }
}

TEST_P(SrtpCrossBackend, EachBackendUnprotectsTheOther) {
  PacketMaker maker(4);
  for (bool ours_sends : {true, false}) {
    auto sender =
        ours_sends ? openssl(SrtpDirection::kOutbound) : libsrtp(SrtpDirection::kOutbound);
    auto receiver =
        ours_sends ? libsrtp(SrtpDirection::kInbound) : openssl(SrtpDirection::kInbound);
    for (std::uint32_t i = 0; i < 70000; i += 7) {  // 10,000 packets, two ROC rollovers
      const Bytes plain = maker.rtp(static_cast<std::uint16_t>(i), 0xabc);
      const Outcome sealed = run(*sender, true, Kind::kRtp, plain);
      ASSERT_EQ(sealed.status, SrtpStatus::kOk);
      ASSERT_EQ(run(*receiver, false, Kind::kRtp, sealed.bytes).bytes, plain) << i;
      const Bytes report = maker.rtcp(0xabc);
      ASSERT_EQ(
          run(*receiver, false, Kind::kRtcp, run(*sender, true, Kind::kRtcp, report).bytes).bytes,
          report);
    }
  }
}

// The same received stream, with reordering, duplicates, stale packets, tampering and
// truncation, gets the same verdict and output from both backends, packet by packet.
TEST_P(SrtpCrossBackend, ReceiversAgreeOnEveryPacket) {
  PacketMaker maker(5);
  auto sender = openssl(SrtpDirection::kOutbound);
  std::vector<std::pair<Kind, Bytes>> wire;
  for (std::uint16_t sequence : sequences(maker, 4000)) {
    const std::uint32_t ssrc = 0x3000 + static_cast<std::uint32_t>(maker.pick(2));
    const Outcome sealed = run(*sender, true, Kind::kRtp, maker.rtp(sequence, ssrc));
    if (sealed.status == SrtpStatus::kOk) {
      wire.emplace_back(Kind::kRtp, sealed.bytes);
    }
    if (maker.pick(10) == 0) {
      wire.emplace_back(Kind::kRtcp, run(*sender, true, Kind::kRtcp, maker.rtcp(ssrc)).bytes);
    }
  }
  auto reference = libsrtp(SrtpDirection::kInbound);
  auto ours = openssl(SrtpDirection::kInbound);
  std::size_t accepted = 0;
  for (std::size_t i = 0; i < wire.size(); ++i) {
    auto [kind, bytes] = wire[maker.pick(8) == 0 && i > 50 ? i - maker.pick(50) : i];
    const std::size_t roll = maker.pick(40);
    if (roll == 0) {
      bytes[maker.pick(bytes.size())] ^= static_cast<std::uint8_t>(1 + maker.pick(255));
    } else if (roll == 1) {
      bytes.resize(maker.pick(bytes.size()));
    }
    const Outcome expected = run(*reference, false, kind, bytes);
    ASSERT_EQ(run(*ours, false, kind, bytes), expected)
        << "packet " << i << (kind == Kind::kRtp ? " rtp " : " rtcp ") << to_hex(bytes);
    accepted += expected.status == SrtpStatus::kOk ? 1 : 0;
  }
  EXPECT_GT(accepted, wire.size() / 2);
  EXPECT_GT(ours->stats().replay_fail, 100u);
  EXPECT_GT(ours->stats().auth_fail, 10u);
  EXPECT_EQ(ours->stats().ok, reference->stats().ok);
  EXPECT_EQ(ours->stats().replay_fail, reference->stats().replay_fail);
  EXPECT_EQ(ours->stats().auth_fail, reference->stats().auth_fail);
  EXPECT_EQ(ours->stats().bad_packet, reference->stats().bad_packet);
}

INSTANTIATE_TEST_SUITE_P(Profiles, SrtpCrossBackend,
                         ::testing::Values(SrtpProfile::kAes128CmHmacSha1_80,
                                           SrtpProfile::kAeadAes128Gcm));

}  // namespace
}  // namespace ivs::engine
