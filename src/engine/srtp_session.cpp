#include "engine/srtp_session.hpp"

#include <algorithm>

namespace ivs::engine {

std::string_view to_string(SrtpProfile profile) {
  switch (profile) {
    case SrtpProfile::kAes128CmHmacSha1_80:
      return "SRTP_AES128_CM_SHA1_80";
    case SrtpProfile::kAeadAes128Gcm:
      return "SRTP_AEAD_AES_128_GCM";
  }
  return "unknown";
}

std::size_t master_key_length(SrtpProfile) {
  return 16;
}

std::size_t master_salt_length(SrtpProfile profile) {
  return profile == SrtpProfile::kAeadAes128Gcm ? 12 : 14;
}

std::size_t rtp_overhead(SrtpProfile profile) {
  return profile == SrtpProfile::kAeadAes128Gcm ? 16 : 10;
}

std::size_t rtcp_overhead(SrtpProfile profile) {
  return 4 + rtp_overhead(profile);
}

std::string_view to_string(SrtpBackend backend) {
  switch (backend) {
    case SrtpBackend::kDefault:
      return "default";
    case SrtpBackend::kLibsrtp:
      return "libsrtp";
    case SrtpBackend::kOpenssl:
      return "openssl";
  }
  return "unknown";
}

// OpenSSL: bit-for-bit identical to libsrtp2 and faster for both profiles
// (bench/README.md, "SRTP backend").
SrtpBackend default_srtp_backend() {
  return SrtpBackend::kOpenssl;
}

Result<std::unique_ptr<SrtpSession>> make_srtp_session(const SrtpConfig& config) {
  const SrtpBackend backend =
      config.backend == SrtpBackend::kDefault ? default_srtp_backend() : config.backend;
  return backend == SrtpBackend::kLibsrtp ? make_libsrtp_session(config)
                                          : make_openssl_srtp_session(config);
}

std::string_view to_string(SrtpStatus status) {
  switch (status) {
    case SrtpStatus::kOk:
      return "ok";
    case SrtpStatus::kAuthFail:
      return "auth_fail";
    case SrtpStatus::kReplayFail:
      return "replay_fail";
    case SrtpStatus::kBadPacket:
      return "bad_packet";
    case SrtpStatus::kBufferTooSmall:
      return "buffer_too_small";
  }
  return "unknown";
}

std::optional<std::size_t> protect_copy_into(SrtpSession& session, ByteSpan packet,
                                             MutableByteSpan out, bool rtcp) {
  if (out.size() < packet.size()) {
    return std::nullopt;
  }
  std::copy(packet.begin(), packet.end(), out.begin());
  std::size_t size = packet.size();
  const SrtpStatus status = rtcp ? session.protect_rtcp(out, size) : session.protect_rtp(out, size);
  return status == SrtpStatus::kOk ? std::optional<std::size_t>(size) : std::nullopt;
}

}  // namespace ivs::engine
