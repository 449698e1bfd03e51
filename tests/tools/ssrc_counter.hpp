// The whip_sink's per-SSRC accounting: packets, bytes and sequence gaps counted from the clear
// RTP header, with the 16-bit sequence number extended over wraps as RFC 3550 A.1 does.
#pragma once

#include <cstddef>
#include <cstdint>

namespace ivs::tools {

// One SSRC's sequence accounting (RFC 3550 A.1 extension of the 16-bit sequence number).
struct SsrcCounter {
  std::uint32_t ssrc = 0;
  std::uint64_t packets = 0;
  std::uint64_t bytes = 0;
  std::int64_t first = 0;    // extended sequence number of the first packet
  std::int64_t highest = 0;  // extended highest sequence number
  std::uint64_t jumps = 0;
  std::uint64_t reordered = 0;

  void count(std::uint16_t sequence, std::size_t size) {
    if (packets == 0) {
      first = highest = sequence;
    } else {
      const auto delta = static_cast<std::int16_t>(sequence - static_cast<std::uint16_t>(highest));
      if (delta > 0) {
        jumps += delta > 1 ? 1 : 0;
        highest += delta;
      } else {
        ++reordered;
      }
    }
    ++packets;
    bytes += size;
  }
  std::uint64_t gaps() const {
    const std::int64_t expected = highest - first + 1;
    return expected > static_cast<std::int64_t>(packets)
               ? static_cast<std::uint64_t>(expected - static_cast<std::int64_t>(packets))
               : 0;
  }
};

}  // namespace ivs::tools
