// In-place rewriting of an RTP packet (RFC 3550 §5.1 fields, RFC 8285 extension ids) for the
// relay's per-egress copies (DESIGN.md §5: SSRC, payload type, extension ids, sequence number and
// timestamp are rewritten per egress stream).
//
// Why in place: the relay copies each ingest packet into an egress buffer and must not allocate
// or re-serialize per packet per egress. Every helper takes the mutable copy plus the RtpView
// obtained by parsing the original; because the view holds offsets, not pointers, it describes
// any byte-identical copy. Precondition for all helpers: `packet` is a copy of (at least
// view.packet.size() bytes of) the packet `view` was parsed from. The fixed-header setters only
// need the 12-byte header and do nothing on shorter buffers.
//
// Changing an extension id never changes the packet length: the one-byte form keeps its 4-bit
// length nibble, the two-byte form its length byte. Dropping an element overwrites its header
// and data with zero bytes, which RFC 8285 §4.1 defines as padding between elements, so the
// packet stays valid for every receiver and its length is unchanged.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

#include "proto/bytes.hpp"
#include "proto/rtp_packet.hpp"

namespace ivs::proto {

inline void set_rtp_marker(MutableByteSpan packet, bool marker) {
  if (packet.size() >= kRtpHeaderSize) {
    packet[1] = static_cast<std::uint8_t>((packet[1] & 0x7F) | (marker ? 0x80 : 0));
  }
}
inline void set_rtp_payload_type(MutableByteSpan packet, std::uint8_t payload_type) {
  if (packet.size() >= kRtpHeaderSize) {
    packet[1] = static_cast<std::uint8_t>((packet[1] & 0x80) | (payload_type & 0x7F));
  }
}
inline void set_rtp_sequence_number(MutableByteSpan packet, std::uint16_t sequence_number) {
  if (packet.size() >= kRtpHeaderSize) {
    write_u16(packet.data() + 2, sequence_number);
  }
}
inline void set_rtp_timestamp(MutableByteSpan packet, std::uint32_t timestamp) {
  if (packet.size() >= kRtpHeaderSize) {
    write_u32(packet.data() + 4, timestamp);
  }
}
inline void set_rtp_ssrc(MutableByteSpan packet, std::uint32_t ssrc) {
  if (packet.size() >= kRtpHeaderSize) {
    write_u32(packet.data() + 8, ssrc);
  }
}

// Maps an ingest extension id (1..255) to the id the egress session negotiated. Unmapped ids map
// to 0, meaning "drop": an egress peer must never see an id it did not negotiate, because it
// would interpret the bytes as some other extension. A plain 256-byte table so the per-element
// lookup is one load.
class RtpExtensionIdMap {
 public:
  // Every id maps to itself.
  static RtpExtensionIdMap identity();

  // Sends `from` out as `to`; `to` = 0 drops it.
  void set(std::uint8_t from, std::uint8_t to) { table_[from] = to; }
  std::uint8_t operator[](std::uint8_t from) const { return table_[from]; }

 private:
  std::array<std::uint8_t, 256> table_{};
};

struct RtpRemapCounts {
  std::size_t remapped = 0;  // elements whose id was written (possibly to the same value)
  std::size_t dropped = 0;   // elements zeroed to padding: unmapped, or mapped to an id > 14 in
                             // a one-byte block (the one-byte form cannot carry it)
};

// Rewrites every RFC 8285 element id in `packet` through `map`. Packets without RFC 8285
// extensions are left alone.
RtpRemapCounts remap_rtp_extension_ids(MutableByteSpan packet, const RtpView& view,
                                       const RtpExtensionIdMap& map);

// Zeroes every element with this id (header and data) to padding; returns how many it zeroed.
std::size_t drop_rtp_extension(MutableByteSpan packet, const RtpView& view, std::uint8_t id);

// The writable data of the first element with this id (e.g. to stamp a per-egress transport-wide
// sequence number), or an empty span when absent.
MutableByteSpan mutable_rtp_extension(MutableByteSpan packet, const RtpView& view, std::uint8_t id);

}  // namespace ivs::proto
