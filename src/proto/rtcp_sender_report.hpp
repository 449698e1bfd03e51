// RTCP sender report (RFC 3550 §6.4.1), generated per egress stream so each stage can map RTP
// timestamps to wall-clock time (lip sync) and measure round-trip time from LSR/DLSR.
//
//   |V=2|P|    RC   |   PT=SR=200   |             length            |
//   |                         SSRC of sender                        |
//   |              NTP timestamp, most significant word             |
//   |             NTP timestamp, least significant word             |
//   |                         RTP timestamp                         |
//   |                     sender's packet count                     |
//   |                      sender's octet count                     |
//   |                 report blocks (RC × 24 bytes)                 |
//   |                  profile-specific extensions                  |
#pragma once

#include <cstdint>
#include <vector>

#include "proto/bytes.hpp"
#include "proto/result.hpp"
#include "proto/rtcp_report_block.hpp"

namespace ivs::proto {

struct RtcpSenderReport {
  std::uint32_t sender_ssrc = 0;
  std::uint64_t ntp_timestamp = 0;  // see to_ntp() in time.hpp
  std::uint32_t rtp_timestamp = 0;
  std::uint32_t packet_count = 0;
  std::uint32_t octet_count = 0;
  std::vector<RtcpReportBlock> report_blocks;  // at most 31 are written
  Bytes profile_extension;  // kept verbatim; a multiple of 4 bytes when serialized

  static Result<RtcpSenderReport> parse(ByteSpan packet);
  void append_to(Bytes& out) const;
  Bytes serialize() const;

  bool operator==(const RtcpSenderReport&) const = default;
};

}  // namespace ivs::proto
