// Full Intra Request (RFC 5104 §4.3.1): PSFB, FMT=4. Like PLI it asks for a keyframe; the media
// source SSRC field is 0 and the target SSRCs travel in the FCI entries, each with a sequence
// number the sender increments per new request (so repeats of one request are recognisable).
//
//   |V=2|P|  FMT=4  |   PT=206      |          length               |
//   |                  SSRC of packet sender                        |
//   |                  SSRC of media source (0)                     |
//   |                              SSRC                             |  × N
//   | Seq nr.       |    Reserved                                   |
#pragma once

#include <cstdint>
#include <vector>

#include "proto/bytes.hpp"
#include "proto/result.hpp"

namespace ivs::proto {

struct RtcpFirEntry {
  std::uint32_t ssrc = 0;
  std::uint8_t sequence_number = 0;
  bool operator==(const RtcpFirEntry&) const = default;
};

struct RtcpFir {
  std::uint32_t sender_ssrc = 0;
  std::uint32_t media_ssrc = 0;  // RFC 5104 says 0; kept as received
  std::vector<RtcpFirEntry> entries;

  static Result<RtcpFir> parse(ByteSpan packet);
  void append_to(Bytes& out) const;
  Bytes serialize() const;

  bool operator==(const RtcpFir&) const = default;
};

}  // namespace ivs::proto
