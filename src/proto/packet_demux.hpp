// RFC 7983 §7 demultiplexing of one UDP port shared by STUN, DTLS and SRTP/SRTCP (BUNDLE with
// rtcp-mux puts them all on one 5-tuple). The first byte decides:
//
//                 +----------------+
//                 |        [0..3] -+--> STUN
//                 |      [16..19] -+--> ZRTP
//   packet -->    |      [20..63] -+--> DTLS
//                 |      [64..79] -+--> TURN channel
//                 |    [128..191] -+--> RTP/RTCP
//                 +----------------+
//
// Anything else is dropped by the caller. RTP versus RTCP is decided later (RFC 5761 §4) by the
// payload type byte, which is not this helper's business.
#pragma once

#include <cstdint>

#include "proto/bytes.hpp"

namespace ivs::proto {

enum class PacketKind : std::uint8_t { kStun, kZrtp, kDtls, kTurnChannel, kRtp, kUnknown };

constexpr PacketKind classify_packet(std::uint8_t first_byte) {
  if (first_byte <= 3) {
    return PacketKind::kStun;
  }
  if (first_byte >= 16 && first_byte <= 19) {
    return PacketKind::kZrtp;
  }
  if (first_byte >= 20 && first_byte <= 63) {
    return PacketKind::kDtls;
  }
  if (first_byte >= 64 && first_byte <= 79) {
    return PacketKind::kTurnChannel;
  }
  if (first_byte >= 128 && first_byte <= 191) {
    return PacketKind::kRtp;
  }
  return PacketKind::kUnknown;
}

inline PacketKind classify_packet(ByteSpan packet) {
  return packet.empty() ? PacketKind::kUnknown : classify_packet(packet[0]);
}

}  // namespace ivs::proto
