// RTCP BYE (RFC 3550 §6.6): a publisher or stage leaving; the peer session treats it as the end
// of that SSRC's stream.
//
//   |V=2|P|    SC   |   PT=BYE=203  |             length            |
//   |                     SSRC/CSRC (SC × 32 bits)                  |
//   |     length    |               reason for leaving (opt.) ...   |
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "proto/bytes.hpp"
#include "proto/result.hpp"

namespace ivs::proto {

struct RtcpBye {
  std::vector<std::uint32_t> ssrcs;   // at most 31 are written
  std::optional<std::string> reason;  // at most 255 bytes are written

  static Result<RtcpBye> parse(ByteSpan packet);
  void append_to(Bytes& out) const;
  Bytes serialize() const;

  bool operator==(const RtcpBye&) const = default;
};

}  // namespace ivs::proto
