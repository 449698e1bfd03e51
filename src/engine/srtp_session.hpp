// SRTP and SRTCP packet protection (RFC 3711 §3-4, AEAD per RFC 7714 §7-9) behind a small
// interface, keyed from DTLS-SRTP (RFC 5764 §4.2).
//
// Why an interface: the first backend is Debian's libsrtp2 (built on NSS), which is correct but
// slow for AES-CM (DESIGN.md §8: ~8.7 µs per packet against ~1.2 µs for OpenSSL EVP with reused
// contexts). A later OpenSSL-EVP backend can replace it without touching callers.
//
// One SrtpSession protects OR unprotects, never both: DTLS-SRTP gives each direction its own
// master key (RFC 5764 §4.2), so a peer session owns one outbound and one inbound SrtpSession.
// A session covers every SSRC in its direction (libsrtp's ssrc_any_outbound / ssrc_any_inbound
// templates), because one egress session sends audio and video SSRCs under the same keys.
//
// All calls work in place on a caller buffer and never throw; failures are counted in stats().
//
//   buffer: [ RTP header | payload | ..room.. ]     size = packet length on input
//   protect_rtp:   [ RTP header | enc. payload | tag ]            size grows by the tag
//   protect_rtcp:  [ RTCP header | enc. body | E+index | tag ]    size grows by 4 + tag
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string_view>

#include "proto/bytes.hpp"
#include "proto/result.hpp"

namespace ivs::engine {

// The DTLS-SRTP protection profiles we negotiate (IANA "DTLS-SRTP Protection Profiles").
enum class SrtpProfile : std::uint16_t {
  kAes128CmHmacSha1_80 = 0x0001,  // SRTP_AES128_CM_SHA1_80, RFC 5764 §4.1.2
  kAeadAes128Gcm = 0x0007,        // SRTP_AEAD_AES_128_GCM, RFC 7714 §14.2
};

std::string_view to_string(SrtpProfile profile);
// Master key and master salt lengths in bytes (RFC 5764 §4.1.2, RFC 7714 §12).
std::size_t master_key_length(SrtpProfile profile);
std::size_t master_salt_length(SrtpProfile profile);
// Bytes protect_rtp / protect_rtcp add; the caller's buffer needs this much room.
std::size_t rtp_overhead(SrtpProfile profile);
std::size_t rtcp_overhead(SrtpProfile profile);
// The most any profile adds; a buffer with this much spare room fits every profile.
inline constexpr std::size_t kMaxSrtpOverhead = 4 + 16;

// One direction's keying material as exported by DTLS-SRTP.
struct SrtpMasterKey {
  Bytes key;
  Bytes salt;
  friend bool operator==(const SrtpMasterKey&, const SrtpMasterKey&) = default;
};

enum class SrtpDirection : std::uint8_t { kOutbound, kInbound };

// Which implementation protects the packets. Both produce identical bytes for the same keys and
// packets and accept/reject the same input (tests/engine/srtp_openssl_test.cpp, fuzz/
// srtp_unprotect_fuzz.cpp); kDefault is the faster one as measured in bench/README.md.
enum class SrtpBackend : std::uint8_t { kDefault, kLibsrtp, kOpenssl };

std::string_view to_string(SrtpBackend backend);

enum class SrtpStatus : std::uint8_t {
  kOk,
  kAuthFail,        // tag did not verify: tampered, wrong key, or not SRTP at all
  kReplayFail,      // index already seen or older than the replay window
  kBadPacket,       // too short or malformed header
  kBufferTooSmall,  // protect: no room for the tag
};

std::string_view to_string(SrtpStatus status);

struct SrtpConfig {
  SrtpProfile profile = SrtpProfile::kAeadAes128Gcm;
  SrtpMasterKey master;
  SrtpDirection direction = SrtpDirection::kOutbound;
  // Inbound replay window in packets. libsrtp's default of 128 is too small for video: a
  // keyframe burst plus NACK-driven retransmissions can arrive more than 128 packets late.
  std::size_t replay_window = 1024;
  // Outbound: let protect_rtp accept a sequence number it already protected. We answer NACKs by
  // re-sending the same packet with the SAME sequence number; without this libsrtp rejects the
  // re-protect as a replay. Safe only because the re-sent packet is byte-identical (same header,
  // same payload): a different plaintext under the same index reuses the keystream (AES-CM) or
  // the nonce (GCM, which also leaks the authentication key). See docs/dtls-srtp.md.
  bool allow_repeat_tx = true;
  // Used by make_srtp_session only; make_libsrtp_session / make_openssl_srtp_session ignore it.
  SrtpBackend backend = SrtpBackend::kDefault;
};

struct SrtpStats {
  std::uint64_t ok = 0;
  std::uint64_t auth_fail = 0;
  std::uint64_t replay_fail = 0;
  std::uint64_t bad_packet = 0;
  std::uint64_t buffer_too_small = 0;
};

class SrtpSession {
 public:
  virtual ~SrtpSession() = default;

  // `buffer` is the whole writable area; `size` is the packet length in and out.
  virtual SrtpStatus protect_rtp(MutableByteSpan buffer, std::size_t& size) = 0;
  virtual SrtpStatus unprotect_rtp(MutableByteSpan buffer, std::size_t& size) = 0;
  virtual SrtpStatus protect_rtcp(MutableByteSpan buffer, std::size_t& size) = 0;
  virtual SrtpStatus unprotect_rtcp(MutableByteSpan buffer, std::size_t& size) = 0;

  virtual SrtpProfile profile() const = 0;
  virtual SrtpDirection direction() const = 0;
  virtual const SrtpStats& stats() const = 0;
};

// The fan-out send path's protect (a peer session's and a media worker's WHEP viewer legs'):
// copies `packet` into `out` and protects it there, one copy and no allocation. The datagram's
// size, or nullopt when `out` cannot hold the packet or protection failed.
std::optional<std::size_t> protect_copy_into(SrtpSession& session, ByteSpan packet,
                                             MutableByteSpan out, bool rtcp);

// The libsrtp2 backend (srtp_libsrtp.cpp). Fails on wrong key or salt lengths.
Result<std::unique_ptr<SrtpSession>> make_libsrtp_session(const SrtpConfig& config);

// The OpenSSL EVP backend (srtp_openssl.cpp). Fails on wrong key or salt lengths, or a replay
// window outside libsrtp's accepted range [64, 32768).
Result<std::unique_ptr<SrtpSession>> make_openssl_srtp_session(const SrtpConfig& config);

// The backend config.backend names; kDefault resolves to default_srtp_backend().
Result<std::unique_ptr<SrtpSession>> make_srtp_session(const SrtpConfig& config);
SrtpBackend default_srtp_backend();

}  // namespace ivs::engine
