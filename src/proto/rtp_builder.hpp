// An owning RTP packet (RFC 3550 §5.1, RFC 8285) for constructing packets: tests, the test
// publisher, RTX (RFC 4588) and padding-only probes. The media path never uses it per packet per
// egress; it rewrites copies in place instead (rtp_rewrite.hpp).
//
// Serialization picks the RFC 8285 one-byte form when every element fits it (ids 1..14, 1..16
// data bytes) and the two-byte form otherwise, as RFC 8285 §4.1 allows a sender to; a caller
// may force the two-byte form (e.g. when the peer negotiated extmap-allow-mixed and wants it).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "proto/bytes.hpp"
#include "proto/result.hpp"
#include "proto/rtp_packet.hpp"

namespace ivs::proto {

struct RtpHeaderExtension {
  std::uint8_t id = 0;
  Bytes value;
  bool operator==(const RtpHeaderExtension&) const = default;
};

struct RtpPacket {
  bool marker = false;
  std::uint8_t payload_type = 0;
  std::uint16_t sequence_number = 0;
  std::uint32_t timestamp = 0;
  std::uint32_t ssrc = 0;
  std::vector<std::uint32_t> csrcs;  // at most 15

  // RFC 8285 elements, in wire order.
  std::vector<RtpHeaderExtension> extensions;
  bool force_two_byte_extensions = false;
  // A non-RFC 8285 extension block (RFC 3550 §5.3.1), written verbatim when set and
  // `extensions` is empty; its size must be a multiple of 4.
  std::optional<std::uint16_t> raw_extension_profile;
  Bytes raw_extension;

  Bytes payload;
  // Total padding bytes including the final count byte (RFC 3550 §5.1); 0 for none.
  std::uint8_t padding_size = 0;

  // Copies a parsed packet. Padding elements and the chosen extension form are not kept.
  static RtpPacket from_view(const RtpView& view);

  // The extension form serialize() will use.
  RtpExtensionForm extension_form() const;
  // Bytes serialize() will produce, or an error naming what cannot be encoded.
  Result<std::size_t> serialized_size() const;
  Result<Bytes> serialize() const;
  // Writes into `out` (no allocation); returns the bytes written.
  Result<std::size_t> serialize_into(MutableByteSpan out) const;

  bool operator==(const RtpPacket&) const = default;
};

}  // namespace ivs::proto
