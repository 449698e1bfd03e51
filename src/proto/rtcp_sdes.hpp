// RTCP source description (RFC 3550 §6.5): chunks of (SSRC, items); we send CNAME with every
// compound (RFC 3550 §6.1 requires it) and read the publisher's CNAME for lip-sync grouping.
//
//   |V=2|P|    SC   |  PT=SDES=202  |             length            |
//   | chunk: SSRC/CSRC, then items |type|length|text...|, ended by one
//   |        to four null octets that pad the chunk to a 32-bit boundary
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "proto/bytes.hpp"
#include "proto/result.hpp"

namespace ivs::proto {

namespace sdes_item {
inline constexpr std::uint8_t kCname = 1;
inline constexpr std::uint8_t kName = 2;
inline constexpr std::uint8_t kTool = 6;
inline constexpr std::uint8_t kPriv = 8;
}  // namespace sdes_item

struct RtcpSdesItem {
  std::uint8_t type = 0;  // 1..255; the null item (0) only ends a chunk on the wire
  std::string value;      // at most 255 bytes are written
  bool operator==(const RtcpSdesItem&) const = default;
};

struct RtcpSdesChunk {
  std::uint32_t ssrc = 0;
  std::vector<RtcpSdesItem> items;
  bool operator==(const RtcpSdesChunk&) const = default;
};

struct RtcpSdes {
  std::vector<RtcpSdesChunk> chunks;  // at most 31 are written

  static Result<RtcpSdes> parse(ByteSpan packet);
  void append_to(Bytes& out) const;
  Bytes serialize() const;
  // The CNAME of the chunk for this SSRC, or nullptr.
  const std::string* cname(std::uint32_t ssrc) const;

  bool operator==(const RtcpSdes&) const = default;
};

}  // namespace ivs::proto
