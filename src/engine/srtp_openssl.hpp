// The OpenSSL EVP backend of SrtpSession: SRTP/SRTCP per RFC 3711 §3-4
// (AES_CM_128_HMAC_SHA1_80) and RFC 7714 §7-9 (AEAD_AES_128_GCM), with libsrtp2's exact
// stream, index and replay semantics so the two backends are interchangeable
// (see srtp_openssl_replay.hpp and docs/srtp.md).
//
//   SRTP  (AES-CM):  [ header | AES-CTR(payload) | HMAC-SHA1-80(header..payload || ROC) ]
//   SRTP  (GCM):     [ header (AAD) | GCM(payload) | tag 16 ]
//   SRTCP (AES-CM):  [ hdr 8 | AES-CTR(body) | E||index | HMAC-SHA1-80(all before) ]
//   SRTCP (GCM):     [ hdr 8 (AAD) | GCM(body) | tag 16 | E||index (AAD) ]
//
// Session keys are derived once (RFC 3711 §4.3, key_derivation_rate 0) and the cipher contexts
// keyed once; per SSRC a stream keeps the RTP index/replay window and the SRTCP window. Like
// libsrtp's ssrc_any_* templates, a stream is created on the first protect of an SSRC, and on
// the first AUTHENTICATED unprotect, so forged packets cannot create state.
#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include "engine/srtp_openssl_crypto.hpp"
#include "engine/srtp_openssl_replay.hpp"
#include "engine/srtp_session.hpp"

namespace ivs::engine::srtp_detail {

// One direction's session keys for RTP or RTCP (RFC 3711 §4.3.1 labels 0-2 or 3-5).
struct KeySet {
  AesCtr ctr;                           // AES-CM only
  HmacSha1 hmac;                        // AES-CM only
  AesGcm gcm;                           // GCM only
  std::array<std::uint8_t, 14> salt{};  // 14 bytes for AES-CM, the first 12 used for GCM
};

struct Stream {
  std::uint32_t ssrc;
  RtpReplayWindow rtp;
  RtcpReplayWindow rtcp;
};

class OpensslSrtpSession final : public SrtpSession {
 public:
  OpensslSrtpSession(const SrtpConfig& config, std::size_t window_size);
  // Derives and installs the session keys; false if OpenSSL refuses.
  bool init(const SrtpMasterKey& master);
  // Installs SESSION keys directly (skipping §4.3), so tests can feed the RFC vectors that are
  // stated in session keys (RFC 3711 B.3's outputs, RFC 7714 §16-17). `auth` is ignored for GCM.
  bool set_session_keys_for_test(bool rtcp, ByteSpan key, ByteSpan salt, ByteSpan auth);

  SrtpStatus protect_rtp(MutableByteSpan buffer, std::size_t& size) override;
  SrtpStatus unprotect_rtp(MutableByteSpan buffer, std::size_t& size) override;
  SrtpStatus protect_rtcp(MutableByteSpan buffer, std::size_t& size) override;
  SrtpStatus unprotect_rtcp(MutableByteSpan buffer, std::size_t& size) override;

  SrtpProfile profile() const override { return profile_; }
  SrtpDirection direction() const override { return direction_; }
  const SrtpStats& stats() const override { return stats_; }

 private:
  bool gcm() const { return profile_ == SrtpProfile::kAeadAes128Gcm; }
  Stream* find(std::uint32_t ssrc);
  Stream& find_or_add(std::uint32_t ssrc);
  SrtpStatus count(SrtpStatus status);

  SrtpStatus seal_rtp(std::uint8_t* packet, std::size_t header, std::size_t& size,
                      std::uint64_t index);
  bool open_rtp(std::uint8_t* packet, std::size_t header, std::size_t size, std::uint64_t index);
  SrtpStatus seal_rtcp(std::uint8_t* packet, std::size_t& size, std::uint32_t index);
  bool open_rtcp(std::uint8_t* packet, std::size_t size, std::uint32_t trailer);

  SrtpProfile profile_;
  SrtpDirection direction_;
  bool allow_repeat_tx_;
  std::size_t window_size_;
  std::size_t tag_length_;
  KeySet rtp_keys_;
  KeySet rtcp_keys_;
  std::vector<Stream> streams_;
  std::size_t last_stream_ = 0;
  SrtpStats stats_;
};

}  // namespace ivs::engine::srtp_detail
