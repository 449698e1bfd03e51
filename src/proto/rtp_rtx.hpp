// RTP retransmission payload format (RFC 4588 §4): a retransmission travels on its own SSRC and
// payload type with the original sequence number (OSN) in the first two payload bytes.
//
//   | RTP header (RTX SSRC, RTX PT, RTX sequence number; original timestamp, marker, CSRCs and
//   |             header extensions)                                                         |
//   |            OSN                |  original payload ...                                  |
//
// Written straight into a caller's buffer from the parsed original, so answering a NACK from the
// packet history costs one copy and no allocation. The original's padding is not carried (it
// has no meaning in a retransmission).
#pragma once

#include <cstddef>
#include <cstdint>

#include "proto/bytes.hpp"
#include "proto/result.hpp"
#include "proto/rtp_packet.hpp"

namespace ivs::proto {

// Bytes write_rtx_packet() produces for this original.
inline std::size_t rtx_packet_size(const RtpView& original) {
  return original.header_size() + 2 + original.payload_size;
}

// Writes the RTX form of `original` into `out`; returns the bytes written.
Result<std::size_t> write_rtx_packet(MutableByteSpan out, const RtpView& original,
                                     std::uint8_t rtx_payload_type, std::uint32_t rtx_ssrc,
                                     std::uint16_t rtx_sequence_number);

// The original sequence number of a parsed RTX packet, or an error when the payload is shorter
// than the OSN.
Result<std::uint16_t> rtx_original_sequence_number(const RtpView& rtx);

// Writes the original packet carried by `rtx` into `out` (original payload type and SSRC given by
// the caller from the SDP's apt= and the stream's SSRC); returns the bytes written.
Result<std::size_t> unwrap_rtx_packet(MutableByteSpan out, const RtpView& rtx,
                                      std::uint8_t original_payload_type,
                                      std::uint32_t original_ssrc);

}  // namespace ivs::proto
