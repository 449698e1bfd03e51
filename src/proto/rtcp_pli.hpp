// Picture Loss Indication (RFC 4585 §6.3.1): PSFB, FMT=1, no FCI. Stages send it when they need
// a keyframe; the relay aggregates and rate-limits them upstream (DESIGN.md §5), knowing that
// OBS ignores them and the GOP cache must cover a joining stage.
//
//   |V=2|P|  FMT=1  |   PT=206      |          length=2             |
//   |                  SSRC of packet sender                        |
//   |                  SSRC of media source                         |
#pragma once

#include <cstdint>

#include "proto/bytes.hpp"
#include "proto/result.hpp"

namespace ivs::proto {

struct RtcpPli {
  std::uint32_t sender_ssrc = 0;
  std::uint32_t media_ssrc = 0;

  static Result<RtcpPli> parse(ByteSpan packet);
  void append_to(Bytes& out) const;
  Bytes serialize() const;

  bool operator==(const RtcpPli&) const = default;
};

}  // namespace ivs::proto
