// RTCP receiver report (RFC 3550 §6.4.2): what stages tell us about loss and jitter per egress
// stream, and what we tell the publisher about ingest.
//
//   |V=2|P|    RC   |   PT=RR=201   |             length            |
//   |                     SSRC of packet sender                     |
//   |                 report blocks (RC × 24 bytes)                 |
//   |                  profile-specific extensions                  |
#pragma once

#include <cstdint>
#include <vector>

#include "proto/bytes.hpp"
#include "proto/result.hpp"
#include "proto/rtcp_report_block.hpp"

namespace ivs::proto {

struct RtcpReceiverReport {
  std::uint32_t sender_ssrc = 0;
  std::vector<RtcpReportBlock> report_blocks;  // at most 31 are written
  Bytes profile_extension;

  static Result<RtcpReceiverReport> parse(ByteSpan packet);
  void append_to(Bytes& out) const;
  Bytes serialize() const;

  bool operator==(const RtcpReceiverReport&) const = default;
};

}  // namespace ivs::proto
