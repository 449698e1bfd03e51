// Receiver Estimated Maximum Bitrate (draft-alvestrand-rmcat-remb-03 §2.2): PSFB, FMT=15
// (application layer feedback) with the "REMB" identifier. OBS negotiates goog-remb; a browser
// publisher raises its bitrate only when it receives REMB or TWCC feedback (DESIGN.md §3).
//
//   |V=2|P| FMT=15  |   PT=206      |             length            |
//   |                  SSRC of packet sender                        |
//   |                  SSRC of media source (0)                     |
//   |  Unique identifier 'R' 'E' 'M' 'B'                            |
//   |  Num SSRC     | BR Exp    |  BR Mantissa (18 bits)            |
//   |   SSRC feedback (Num SSRC × 32 bits)                          |
//
// The bitrate is kept as the wire's exponent and mantissa so parse → serialize is exact even for
// values a uint64 cannot hold (exponent up to 63); set_bitrate()/bitrate_bps() convert.
#pragma once

#include <cstdint>
#include <vector>

#include "proto/bytes.hpp"
#include "proto/result.hpp"

namespace ivs::proto {

struct RtcpRemb {
  std::uint32_t sender_ssrc = 0;
  std::uint32_t media_ssrc = 0;
  std::uint8_t exponent = 0;         // 6 bits
  std::uint32_t mantissa = 0;        // 18 bits
  std::vector<std::uint32_t> ssrcs;  // at most 255 are written

  // mantissa × 2^exponent bits per second, saturating at UINT64_MAX.
  std::uint64_t bitrate_bps() const;
  // Chooses the smallest exponent that holds the value (exact when it fits in 18 bits × 2^e).
  void set_bitrate(std::uint64_t bits_per_second);

  // Whether a PSFB FMT=15 packet carries the REMB identifier (other AFB payloads exist).
  static bool is_remb(ByteSpan packet);
  static Result<RtcpRemb> parse(ByteSpan packet);
  void append_to(Bytes& out) const;
  Bytes serialize() const;

  bool operator==(const RtcpRemb&) const = default;
};

}  // namespace ivs::proto
