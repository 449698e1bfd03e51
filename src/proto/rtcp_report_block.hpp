// The reception report block shared by sender and receiver reports (RFC 3550 §6.4.1–6.4.2).
//
//   | SSRC of source                                                |
//   | fraction lost |       cumulative number of packets lost       |
//   |           extended highest sequence number received           |
//   |                      interarrival jitter                      |
//   |                         last SR (LSR)                         |
//   |                   delay since last SR (DLSR)                  |
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "proto/bytes.hpp"

namespace ivs::proto {

inline constexpr std::size_t kRtcpReportBlockSize = 24;
// RC is a 5-bit field; serializers write at most this many blocks.
inline constexpr std::size_t kRtcpMaxReportBlocks = 31;

struct RtcpReportBlock {
  std::uint32_t ssrc = 0;
  std::uint8_t fraction_lost = 0;    // fixed point, lost/expected × 256
  std::int32_t cumulative_lost = 0;  // 24-bit signed on the wire (duplicates can make it < 0)
  std::uint32_t extended_highest_sequence = 0;
  std::uint32_t jitter = 0;                          // timestamp units
  std::uint32_t last_sender_report = 0;              // middle 32 bits of the SR's NTP timestamp
  std::uint32_t delay_since_last_sender_report = 0;  // units of 1/65536 s

  // Reads one block from 24 bytes at `data`.
  static RtcpReportBlock read(const std::uint8_t* data);
  void append_to(Bytes& out) const;

  bool operator==(const RtcpReportBlock&) const = default;
};

// Reads `count` blocks from the start of `bytes`; the caller has checked the size.
std::vector<RtcpReportBlock> read_report_blocks(ByteSpan bytes, std::size_t count);

}  // namespace ivs::proto
