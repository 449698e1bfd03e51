// The header checks both SRTP backends (srtp_libsrtp.cpp, srtp_openssl.cpp) run before touching a
// packet, in one place so that they refuse exactly the same malformed input with kBadPacket.
// RFC 3550 §5.1 (RTP fixed header, CSRCs, extension) and §6.4.1 (RTCP common header).
#pragma once

#include <cstddef>
#include <cstdint>

#include "proto/bytes.hpp"

namespace ivs::engine::srtp_checks {

constexpr std::size_t kRtpHeaderSize = 12;
constexpr std::size_t kRtcpHeaderSize = 8;

// The RTP header's length including CSRCs and the extension, or 0 if it does not fit in `size`
// bytes or the version is not 2.
inline std::size_t rtp_header_length(const std::uint8_t* data, std::size_t size) {
  if (size < kRtpHeaderSize || (data[0] >> 6) != 2) {
    return 0;
  }
  std::size_t header = kRtpHeaderSize + 4 * static_cast<std::size_t>(data[0] & 0x0f);
  if ((data[0] & 0x10) != 0) {
    if (size < header + 4) {
      return 0;
    }
    header += 4 + 4 * static_cast<std::size_t>(read_u16(data + header + 2));
  }
  return header <= size ? header : 0;
}

inline bool rtcp_header_ok(const std::uint8_t* data, std::size_t size) {
  return size >= kRtcpHeaderSize && (data[0] >> 6) == 2;
}

}  // namespace ivs::engine::srtp_checks
