// Generic NACK (RFC 4585 §6.2.1): RTPFB, FMT=1. Stages NACK egress streams (answered from the
// relay's packet history) and we NACK the publisher for ingest losses.
//
//   |V=2|P|  FMT=1  |   PT=205      |          length               |
//   |                  SSRC of packet sender                        |
//   |                  SSRC of media source                         |
//   |            PID                |             BLP               |  × N
//
// PID is a lost sequence number; bit i of BLP (LSB = 0) marks PID + i + 1 as lost too.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "proto/bytes.hpp"
#include "proto/result.hpp"

namespace ivs::proto {

struct RtcpNackItem {
  std::uint16_t packet_id = 0;
  std::uint16_t lost_bitmask = 0;
  bool operator==(const RtcpNackItem&) const = default;
};

struct RtcpNack {
  std::uint32_t sender_ssrc = 0;
  std::uint32_t media_ssrc = 0;
  std::vector<RtcpNackItem> items;

  // Packs sequence numbers into items. Consecutive numbers within 16 of an item's PID share it,
  // so an ascending list (wrap allowed) packs densely; any order still produces a correct NACK.
  static RtcpNack from_sequence_numbers(std::uint32_t sender_ssrc, std::uint32_t media_ssrc,
                                        std::span<const std::uint16_t> lost);
  // Every sequence number the items name, in item order (duplicates kept).
  std::vector<std::uint16_t> sequence_numbers() const;

  static Result<RtcpNack> parse(ByteSpan packet);
  void append_to(Bytes& out) const;
  Bytes serialize() const;

  bool operator==(const RtcpNack&) const = default;
};

}  // namespace ivs::proto
