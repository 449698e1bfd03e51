// The libsrtp2 backend of SrtpSession (see srtp_session.hpp for the contract).
//
// libsrtp keeps one srtp_t per direction with a single ssrc_any_* template policy: the first
// packet of each new SSRC clones the template, so audio, video and RTX SSRCs share the keys
// without being declared up front. Header validation happens here before libsrtp sees the
// packet, so malformed input is reported as kBadPacket rather than whatever libsrtp returns.
#include <srtp2/srtp.h>

#include <cstring>

#include "engine/srtp_packet_checks.hpp"
#include "engine/srtp_session.hpp"

namespace ivs::engine {
namespace {

using srtp_checks::kRtcpHeaderSize;
using srtp_checks::rtcp_header_ok;

// libsrtp requires srtp_init() once per process before any srtp_create (it registers its cipher
// and auth types in library-global tables). A function-local static makes that happen exactly
// once, thread-safely, on first use; it is the only process-wide state in the engine.
bool libsrtp_ready() {
  static const bool ready = srtp_init() == srtp_err_status_ok;
  return ready;
}

bool rtp_header_fits(const std::uint8_t* data, std::size_t size) {
  return srtp_checks::rtp_header_length(data, size) != 0;
}

SrtpStatus status_from(srtp_err_status_t error) {
  switch (error) {
    case srtp_err_status_ok:
      return SrtpStatus::kOk;
    case srtp_err_status_auth_fail:
      return SrtpStatus::kAuthFail;
    case srtp_err_status_replay_fail:
    case srtp_err_status_replay_old:
      return SrtpStatus::kReplayFail;
    default:
      return SrtpStatus::kBadPacket;
  }
}

class LibsrtpSession final : public SrtpSession {
 public:
  LibsrtpSession(srtp_t session, SrtpProfile profile, SrtpDirection direction)
      : session_(session), profile_(profile), direction_(direction) {}
  ~LibsrtpSession() override { srtp_dealloc(session_); }
  LibsrtpSession(const LibsrtpSession&) = delete;
  LibsrtpSession& operator=(const LibsrtpSession&) = delete;

  SrtpStatus protect_rtp(MutableByteSpan buffer, std::size_t& size) override {
    if (size > buffer.size() || !rtp_header_fits(buffer.data(), size)) {
      return count(SrtpStatus::kBadPacket);
    }
    if (buffer.size() - size < rtp_overhead(profile_)) {
      return count(SrtpStatus::kBufferTooSmall);
    }
    return run(srtp_protect, buffer, size);
  }

  SrtpStatus unprotect_rtp(MutableByteSpan buffer, std::size_t& size) override {
    if (size > buffer.size() || size < rtp_overhead(profile_) ||
        !rtp_header_fits(buffer.data(), size - rtp_overhead(profile_))) {
      return count(SrtpStatus::kBadPacket);
    }
    return run(srtp_unprotect, buffer, size);
  }

  SrtpStatus protect_rtcp(MutableByteSpan buffer, std::size_t& size) override {
    if (size > buffer.size() || !rtcp_header_ok(buffer.data(), size)) {
      return count(SrtpStatus::kBadPacket);
    }
    if (buffer.size() - size < rtcp_overhead(profile_)) {
      return count(SrtpStatus::kBufferTooSmall);
    }
    return run(srtp_protect_rtcp, buffer, size);
  }

  SrtpStatus unprotect_rtcp(MutableByteSpan buffer, std::size_t& size) override {
    if (size > buffer.size() || size < kRtcpHeaderSize + rtcp_overhead(profile_) ||
        !rtcp_header_ok(buffer.data(), size)) {
      return count(SrtpStatus::kBadPacket);
    }
    return run(srtp_unprotect_rtcp, buffer, size);
  }

  SrtpProfile profile() const override { return profile_; }
  SrtpDirection direction() const override { return direction_; }
  const SrtpStats& stats() const override { return stats_; }

 private:
  using LibsrtpCall = srtp_err_status_t (*)(srtp_t, void*, int*);

  SrtpStatus run(LibsrtpCall call, MutableByteSpan buffer, std::size_t& size) {
    int length = static_cast<int>(size);
    const SrtpStatus status = status_from(call(session_, buffer.data(), &length));
    if (status == SrtpStatus::kOk) {
      size = static_cast<std::size_t>(length);
    }
    return count(status);
  }

  SrtpStatus count(SrtpStatus status) {
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

  srtp_t session_;
  SrtpProfile profile_;
  SrtpDirection direction_;
  SrtpStats stats_;
};

void set_crypto_policy(SrtpProfile profile, srtp_policy_t& policy) {
  if (profile == SrtpProfile::kAeadAes128Gcm) {
    srtp_crypto_policy_set_aes_gcm_128_16_auth(&policy.rtp);
    srtp_crypto_policy_set_aes_gcm_128_16_auth(&policy.rtcp);
  } else {
    srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&policy.rtp);
    srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&policy.rtcp);
  }
}

}  // namespace

Result<std::unique_ptr<SrtpSession>> make_libsrtp_session(const SrtpConfig& config) {
  if (!libsrtp_ready()) {
    return make_error("SRTP: srtp_init failed");
  }
  if (config.master.key.size() != master_key_length(config.profile) ||
      config.master.salt.size() != master_salt_length(config.profile)) {
    return make_error("SRTP: " + std::string(to_string(config.profile)) + " needs a " +
                      std::to_string(master_key_length(config.profile)) + "-byte key and " +
                      std::to_string(master_salt_length(config.profile)) + "-byte salt");
  }
  // libsrtp wants key || salt in one buffer.
  Bytes key_and_salt = config.master.key;
  append_bytes(key_and_salt, config.master.salt);

  srtp_policy_t policy;
  std::memset(&policy, 0, sizeof policy);
  set_crypto_policy(config.profile, policy);
  policy.ssrc.type =
      config.direction == SrtpDirection::kOutbound ? ssrc_any_outbound : ssrc_any_inbound;
  policy.key = key_and_salt.data();
  policy.window_size = config.replay_window;
  policy.allow_repeat_tx = config.allow_repeat_tx ? 1 : 0;
  policy.next = nullptr;

  srtp_t session = nullptr;
  const srtp_err_status_t created = srtp_create(&session, &policy);
  // srtp_create copies the key into its own expanded state; wipe ours.
  std::memset(key_and_salt.data(), 0, key_and_salt.size());
  if (created != srtp_err_status_ok) {
    return make_error("SRTP: srtp_create failed with status " +
                      std::to_string(static_cast<int>(created)));
  }
  return std::unique_ptr<SrtpSession>(
      new LibsrtpSession(session, config.profile, config.direction));
}

}  // namespace ivs::engine
