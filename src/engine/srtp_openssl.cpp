// See srtp_openssl.hpp. Input validation is srtp_packet_checks.hpp's, shared with
// srtp_libsrtp.cpp, so both backends report kBadPacket for the same malformed input.
#include "engine/srtp_openssl.hpp"

#include <openssl/crypto.h>

#include <algorithm>
#include <string>

#include "engine/srtp_packet_checks.hpp"

namespace ivs::engine {
namespace srtp_detail {
namespace {

using srtp_checks::kRtcpHeaderSize;
using srtp_checks::rtcp_header_ok;
using srtp_checks::rtp_header_length;

constexpr std::size_t kTrailerSize = 4;  // SRTCP E flag || 31-bit index
constexpr std::size_t kAesCmTagSize = 10;
constexpr std::size_t kGcmTagSize = 16;
constexpr std::uint32_t kEncryptedFlag = 0x80000000;

// RFC 3711 §4.1.1: IV = (salt * 2^16) XOR (SSRC * 2^64) XOR (index * 2^16), 16 bytes.
std::array<std::uint8_t, 16> counter_iv(const KeySet& keys, std::uint32_t ssrc,
                                        std::uint64_t index) {
  std::array<std::uint8_t, 16> iv{};
  std::copy(keys.salt.begin(), keys.salt.end(), iv.begin());
  std::uint8_t field[8];
  write_u32(field, ssrc);
  for (int i = 0; i < 4; ++i) {
    iv[4 + i] ^= field[i];
  }
  write_u64(field, index << 16);
  for (int i = 0; i < 6; ++i) {
    iv[8 + i] ^= field[i];
  }
  return iv;
}

// RFC 7714 §8.1 (SRTP: 0x0000 || SSRC || ROC || SEQ) and §9.1 (SRTCP: 0x0000 || SSRC ||
// 0x0000 || 0 || index), XORed with the 12-byte session salt. Both are "SSRC, then a 48-bit
// number" laid out the same way.
std::array<std::uint8_t, 12> gcm_iv(const KeySet& keys, std::uint32_t ssrc, std::uint64_t index48) {
  std::array<std::uint8_t, 12> iv{};
  write_u32(iv.data() + 2, ssrc);
  std::uint8_t field[8];
  write_u64(field, index48);
  std::copy(field + 2, field + 8, iv.begin() + 6);
  for (int i = 0; i < 12; ++i) {
    iv[i] ^= keys.salt[i];
  }
  return iv;
}

bool set_keys(KeySet& keys, SrtpProfile profile, ByteSpan key, ByteSpan salt, ByteSpan auth) {
  const bool gcm = profile == SrtpProfile::kAeadAes128Gcm;
  if (salt.size() != (gcm ? 12U : 14U) || (!gcm && auth.size() != 20)) {
    return false;
  }
  std::copy(salt.begin(), salt.end(), keys.salt.begin());
  if (gcm) {
    return keys.gcm.init(key);
  }
  keys.hmac.init(auth);
  return keys.ctr.init(key);
}

// RFC 3711 §4.3.1: labels 0, 1, 2 key SRTP and 3, 4, 5 key SRTCP.
bool derive_keys(KeySet& keys, SrtpProfile profile, const SrtpMasterKey& master,
                 std::uint8_t encryption_label) {
  const std::size_t salt_length = profile == SrtpProfile::kAeadAes128Gcm ? 12 : 14;
  std::array<std::uint8_t, 16 + 14 + 20> material{};
  std::uint8_t* key = material.data();
  std::uint8_t* salt = key + 16;
  std::uint8_t* auth = salt + 14;
  const bool ok =
      derive_session_key(master.key, master.salt, encryption_label, key, 16) &&
      derive_session_key(master.key, master.salt, encryption_label + 2, salt, salt_length) &&
      derive_session_key(master.key, master.salt, encryption_label + 1, auth, 20) &&
      set_keys(keys, profile, ByteSpan(key, 16), ByteSpan(salt, salt_length), ByteSpan(auth, 20));
  wipe(material.data(), material.size());
  return ok;
}

}  // namespace

OpensslSrtpSession::OpensslSrtpSession(const SrtpConfig& config, std::size_t window_size)
    : profile_(config.profile),
      direction_(config.direction),
      allow_repeat_tx_(config.allow_repeat_tx),
      window_size_(window_size),
      tag_length_(config.profile == SrtpProfile::kAeadAes128Gcm ? kGcmTagSize : kAesCmTagSize) {}

bool OpensslSrtpSession::init(const SrtpMasterKey& master) {
  return derive_keys(rtp_keys_, profile_, master, srtp_label::kRtpEncryption) &&
         derive_keys(rtcp_keys_, profile_, master, srtp_label::kRtcpEncryption);
}

bool OpensslSrtpSession::set_session_keys_for_test(bool rtcp, ByteSpan key, ByteSpan salt,
                                                   ByteSpan auth) {
  return set_keys(rtcp ? rtcp_keys_ : rtp_keys_, profile_, key, salt, auth);
}

Stream* OpensslSrtpSession::find(std::uint32_t ssrc) {
  // A session carries two or three SSRCs and consecutive packets mostly share one.
  if (last_stream_ < streams_.size() && streams_[last_stream_].ssrc == ssrc) {
    return &streams_[last_stream_];
  }
  for (std::size_t i = 0; i < streams_.size(); ++i) {
    if (streams_[i].ssrc == ssrc) {
      last_stream_ = i;
      return &streams_[i];
    }
  }
  return nullptr;
}

Stream& OpensslSrtpSession::find_or_add(std::uint32_t ssrc) {
  if (Stream* stream = find(ssrc)) {
    return *stream;
  }
  streams_.push_back(Stream{ssrc, RtpReplayWindow(window_size_), RtcpReplayWindow{}});
  last_stream_ = streams_.size() - 1;
  return streams_.back();
}

SrtpStatus OpensslSrtpSession::protect_rtp(MutableByteSpan buffer, std::size_t& size) {
  std::uint8_t* packet = buffer.data();
  const std::size_t header = size > buffer.size() ? 0 : rtp_header_length(packet, size);
  if (header == 0) {
    return count(SrtpStatus::kBadPacket);
  }
  if (buffer.size() - size < tag_length_) {
    return count(SrtpStatus::kBufferTooSmall);
  }
  Stream& stream = find_or_add(read_u32(packet + 8));
  const IndexEstimate estimate = stream.rtp.estimate(read_u16(packet + 2));
  const ReplayCheck replay = stream.rtp.check(estimate.delta);
  if (replay == ReplayCheck::kTooOld || (replay == ReplayCheck::kReplayed && !allow_repeat_tx_)) {
    return count(SrtpStatus::kReplayFail);
  }
  if (replay == ReplayCheck::kNew) {
    stream.rtp.add(estimate.delta);
  }
  return count(seal_rtp(packet, header, size, estimate.index));
}

SrtpStatus OpensslSrtpSession::unprotect_rtp(MutableByteSpan buffer, std::size_t& size) {
  std::uint8_t* packet = buffer.data();
  if (size > buffer.size() || size < tag_length_) {
    return count(SrtpStatus::kBadPacket);
  }
  const std::size_t header = rtp_header_length(packet, size - tag_length_);
  if (header == 0) {
    return count(SrtpStatus::kBadPacket);
  }
  const std::uint32_t ssrc = read_u32(packet + 8);
  const std::uint16_t sequence = read_u16(packet + 2);
  Stream* stream = find(ssrc);
  // An unknown SSRC is judged as a fresh stream would be: index = SEQ, nothing seen yet.
  IndexEstimate estimate{sequence, sequence};
  if (stream != nullptr) {
    estimate = stream->rtp.estimate(sequence);
    if (stream->rtp.check(estimate.delta) != ReplayCheck::kNew) {
      return count(SrtpStatus::kReplayFail);
    }
  }
  if (!open_rtp(packet, header, size, estimate.index)) {
    return count(SrtpStatus::kAuthFail);
  }
  size -= tag_length_;
  (stream != nullptr ? *stream : find_or_add(ssrc)).rtp.add(estimate.delta);
  return count(SrtpStatus::kOk);
}

SrtpStatus OpensslSrtpSession::seal_rtp(std::uint8_t* packet, std::size_t header, std::size_t& size,
                                        std::uint64_t index) {
  const std::uint32_t ssrc = read_u32(packet + 8);
  std::uint8_t* payload = packet + header;
  const std::size_t payload_size = size - header;
  if (gcm()) {
    const auto iv = gcm_iv(rtp_keys_, ssrc, index);
    if (!rtp_keys_.gcm.seal(iv.data(), ByteSpan(packet, header), {}, payload, payload_size,
                            packet + size)) {
      return SrtpStatus::kBadPacket;
    }
    size += kGcmTagSize;
    return SrtpStatus::kOk;
  }
  const auto iv = counter_iv(rtp_keys_, ssrc, index);
  if (!rtp_keys_.ctr.apply(iv.data(), payload, payload_size)) {
    return SrtpStatus::kBadPacket;
  }
  // RFC 3711 §4.2: the tag covers the authenticated portion followed by the 32-bit ROC.
  std::uint8_t roc[4];
  write_u32(roc, static_cast<std::uint32_t>(index >> 16));
  std::uint8_t tag[20];
  rtp_keys_.hmac.compute(ByteSpan(packet, size), roc, tag);
  std::copy(tag, tag + kAesCmTagSize, packet + size);
  size += kAesCmTagSize;
  return SrtpStatus::kOk;
}

bool OpensslSrtpSession::open_rtp(std::uint8_t* packet, std::size_t header, std::size_t size,
                                  std::uint64_t index) {
  const std::uint32_t ssrc = read_u32(packet + 8);
  const std::size_t body_end = size - tag_length_;
  if (gcm()) {
    const auto iv = gcm_iv(rtp_keys_, ssrc, index);
    return rtp_keys_.gcm.open(iv.data(), ByteSpan(packet, header), {}, packet + header,
                              body_end - header, packet + body_end);
  }
  std::uint8_t roc[4];
  write_u32(roc, static_cast<std::uint32_t>(index >> 16));
  std::uint8_t tag[20];
  rtp_keys_.hmac.compute(ByteSpan(packet, body_end), roc, tag);
  if (CRYPTO_memcmp(tag, packet + body_end, kAesCmTagSize) != 0) {
    return false;
  }
  const auto iv = counter_iv(rtp_keys_, ssrc, index);
  return rtp_keys_.ctr.apply(iv.data(), packet + header, body_end - header);
}

SrtpStatus OpensslSrtpSession::protect_rtcp(MutableByteSpan buffer, std::size_t& size) {
  std::uint8_t* packet = buffer.data();
  if (size > buffer.size() || !rtcp_header_ok(packet, size)) {
    return count(SrtpStatus::kBadPacket);
  }
  if (buffer.size() - size < kTrailerSize + tag_length_) {
    return count(SrtpStatus::kBufferTooSmall);
  }
  const std::optional<std::uint32_t> index = find_or_add(read_u32(packet + 4)).rtcp.next_outbound();
  if (!index) {
    return count(SrtpStatus::kBadPacket);  // SRTCP index space exhausted: the keys must change
  }
  return count(seal_rtcp(packet, size, *index));
}

SrtpStatus OpensslSrtpSession::seal_rtcp(std::uint8_t* packet, std::size_t& size,
                                         std::uint32_t index) {
  const std::uint32_t ssrc = read_u32(packet + 4);
  std::uint8_t trailer[kTrailerSize];
  write_u32(trailer, kEncryptedFlag | index);
  std::uint8_t* body = packet + kRtcpHeaderSize;
  const std::size_t body_size = size - kRtcpHeaderSize;
  if (gcm()) {
    const auto iv = gcm_iv(rtcp_keys_, ssrc, index);
    if (!rtcp_keys_.gcm.seal(iv.data(), ByteSpan(packet, kRtcpHeaderSize), trailer, body, body_size,
                             packet + size)) {
      return SrtpStatus::kBadPacket;
    }
    std::copy(trailer, trailer + kTrailerSize, packet + size + kGcmTagSize);
    size += kGcmTagSize + kTrailerSize;
    return SrtpStatus::kOk;
  }
  const auto iv = counter_iv(rtcp_keys_, ssrc, index);
  if (!rtcp_keys_.ctr.apply(iv.data(), body, body_size)) {
    return SrtpStatus::kBadPacket;
  }
  std::copy(trailer, trailer + kTrailerSize, packet + size);
  size += kTrailerSize;
  std::uint8_t tag[20];
  rtcp_keys_.hmac.compute(ByteSpan(packet, size), {}, tag);
  std::copy(tag, tag + kAesCmTagSize, packet + size);
  size += kAesCmTagSize;
  return SrtpStatus::kOk;
}

SrtpStatus OpensslSrtpSession::unprotect_rtcp(MutableByteSpan buffer, std::size_t& size) {
  std::uint8_t* packet = buffer.data();
  const std::size_t overhead = kTrailerSize + tag_length_;
  if (size > buffer.size() || size < kRtcpHeaderSize + overhead || !rtcp_header_ok(packet, size)) {
    return count(SrtpStatus::kBadPacket);
  }
  // AES-CM puts the trailer before the tag, GCM after it (RFC 3711 §3.4, RFC 7714 §9.1).
  const std::size_t trailer_at = gcm() ? size - kTrailerSize : size - overhead;
  const std::uint32_t trailer = read_u32(packet + trailer_at);
  const std::uint32_t index = trailer & ~kEncryptedFlag;
  // libsrtp refuses an AES-CM packet whose E flag disagrees with the session's policy (always
  // "encrypt" here) before anything else; its AEAD path has no such check.
  if (!gcm() && (trailer & kEncryptedFlag) == 0) {
    return count(SrtpStatus::kBadPacket);
  }
  const std::uint32_t ssrc = read_u32(packet + 4);
  Stream* stream = find(ssrc);
  if (stream != nullptr && stream->rtcp.check(index) != ReplayCheck::kNew) {
    return count(SrtpStatus::kReplayFail);
  }
  if (!open_rtcp(packet, size, trailer)) {
    return count(SrtpStatus::kAuthFail);
  }
  size -= overhead;
  (stream != nullptr ? *stream : find_or_add(ssrc)).rtcp.add(index);
  return count(SrtpStatus::kOk);
}

// A clear E flag means the sender applied authentication only (RFC 3711 §3.4, RFC 7714 §9.2):
// the whole packet is then authenticated and nothing decrypted. Only GCM gets here with it clear.
bool OpensslSrtpSession::open_rtcp(std::uint8_t* packet, std::size_t size, std::uint32_t trailer) {
  const std::uint32_t ssrc = read_u32(packet + 4);
  const std::uint32_t index = trailer & ~kEncryptedFlag;
  const bool encrypted = (trailer & kEncryptedFlag) != 0;
  std::uint8_t* body = packet + kRtcpHeaderSize;
  if (gcm()) {
    const std::size_t tag_at = size - kTrailerSize - kGcmTagSize;
    const auto iv = gcm_iv(rtcp_keys_, ssrc, index);
    std::uint8_t trailer_bytes[kTrailerSize];
    write_u32(trailer_bytes, trailer);
    const ByteSpan aad(packet, encrypted ? kRtcpHeaderSize : tag_at);
    return rtcp_keys_.gcm.open(iv.data(), aad, trailer_bytes, body,
                               encrypted ? tag_at - kRtcpHeaderSize : 0, packet + tag_at);
  }
  const std::size_t tag_at = size - kAesCmTagSize;
  std::uint8_t tag[20];
  rtcp_keys_.hmac.compute(ByteSpan(packet, tag_at), {}, tag);
  if (CRYPTO_memcmp(tag, packet + tag_at, kAesCmTagSize) != 0) {
    return false;
  }
  const auto iv = counter_iv(rtcp_keys_, ssrc, index);
  return rtcp_keys_.ctr.apply(iv.data(), body, tag_at - kTrailerSize - kRtcpHeaderSize);
}

SrtpStatus OpensslSrtpSession::count(SrtpStatus status) {
  switch (status) {
    case SrtpStatus::kOk:
      ++stats_.ok;
      break;
    case SrtpStatus::kAuthFail:
      ++stats_.auth_fail;
      break;
    case SrtpStatus::kReplayFail:
      ++stats_.replay_fail;
      break;
    case SrtpStatus::kBadPacket:
      ++stats_.bad_packet;
      break;
    case SrtpStatus::kBufferTooSmall:
      ++stats_.buffer_too_small;
      break;
  }
  return status;
}

}  // namespace srtp_detail

Result<std::unique_ptr<SrtpSession>> make_openssl_srtp_session(const SrtpConfig& config) {
  if (config.master.key.size() != master_key_length(config.profile) ||
      config.master.salt.size() != master_salt_length(config.profile)) {
    return make_error("SRTP: " + std::string(to_string(config.profile)) + " needs a " +
                      std::to_string(master_key_length(config.profile)) + "-byte key and " +
                      std::to_string(master_salt_length(config.profile)) + "-byte salt");
  }
  // libsrtp's rule (srtp_stream_init): 0 means its default of 128, else 64 .. 32767.
  const std::size_t window = config.replay_window == 0 ? 128 : config.replay_window;
  if (window < 64 || window >= 0x8000) {
    return make_error("SRTP: replay window must be between 64 and 32767 packets");
  }
  auto session = std::make_unique<srtp_detail::OpensslSrtpSession>(config, window);
  if (!session->init(config.master)) {
    return make_error("SRTP: OpenSSL refused the session keys");
  }
  return std::unique_ptr<SrtpSession>(std::move(session));
}

}  // namespace ivs::engine
