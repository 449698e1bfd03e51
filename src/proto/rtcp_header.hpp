// The RTCP common header (RFC 3550 §6.4.1) and the feedback header shared by RTPFB/PSFB
// (RFC 4585 §6.1), plus the small writer helpers every RTCP serializer uses.
//
//    0                   1                   2                   3
//    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |V=2|P| RC/FMT  |      PT       |   length (32-bit words - 1)   |
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   | feedback only: SSRC of packet sender, SSRC of media source    |
//
// Each packet type has its own file (rtcp_sender_report.hpp, rtcp_nack.hpp, …) with
// `static Result<T> parse(ByteSpan)` over exactly one packet (header included, as the compound
// walker in rtcp_compound.hpp yields it) and `append_to(Bytes&)` / `serialize()`.
//
// Padding: RFC 3550 allows the P bit only on the last packet of a compound, but libwebrtc sets it
// on transport-cc feedback wherever that lands, so every packet's padding is honoured and
// stripped here, leaving each parser a body without it.
#pragma once

#include <cstddef>
#include <cstdint>

#include "proto/bytes.hpp"
#include "proto/result.hpp"

namespace ivs::proto {

namespace rtcp_type {
inline constexpr std::uint8_t kSenderReport = 200;
inline constexpr std::uint8_t kReceiverReport = 201;
inline constexpr std::uint8_t kSourceDescription = 202;
inline constexpr std::uint8_t kBye = 203;
inline constexpr std::uint8_t kApplication = 204;
inline constexpr std::uint8_t kTransportFeedback = 205;  // RTPFB, RFC 4585
inline constexpr std::uint8_t kPayloadFeedback = 206;    // PSFB, RFC 4585
}  // namespace rtcp_type

// Feedback message types (the FMT field) used here.
namespace rtcp_fmt {
inline constexpr std::uint8_t kNack = 1;               // RTPFB, RFC 4585 §6.2.1
inline constexpr std::uint8_t kTransportWideCc = 15;   // RTPFB, draft-holmer-…-01 §3.1
inline constexpr std::uint8_t kPli = 1;                // PSFB, RFC 4585 §6.3.1
inline constexpr std::uint8_t kFir = 4;                // PSFB, RFC 5104 §4.3.1
inline constexpr std::uint8_t kApplicationLayer = 15;  // PSFB, REMB lives here
}  // namespace rtcp_fmt

inline constexpr std::size_t kRtcpHeaderSize = 4;
inline constexpr std::size_t kRtcpFeedbackHeaderSize = 8;  // the two SSRCs after the header

// One RTCP packet located inside a (compound) datagram.
struct RtcpPacketView {
  bool padding = false;
  std::uint8_t count = 0;  // RC, SC or FMT depending on the type
  std::uint8_t packet_type = 0;
  ByteSpan packet;  // the whole packet: header, body and padding
  ByteSpan body;    // after the 4-byte header, padding removed
};

// Parses the packet starting at bytes[0]; `bytes` may continue with further packets.
Result<RtcpPacketView> parse_rtcp_packet_view(ByteSpan bytes);

// Checks that `bytes` is one packet of this type (and, when fmt >= 0, this FMT) and returns its
// view; `what` names the packet in the error.
Result<RtcpPacketView> expect_rtcp_packet(ByteSpan bytes, std::uint8_t packet_type, int fmt,
                                          const char* what);

// RFC 4585 §6.1 feedback header, read from the first 8 body bytes.
struct RtcpFeedbackHeader {
  std::uint32_t sender_ssrc = 0;
  std::uint32_t media_ssrc = 0;
};

// Serializer helpers: begin appends a zeroed header to be filled in later and returns its offset;
// finish pads the body with zeros to a 32-bit boundary (with the P bit and a final count byte when
// `padding_bit`), then writes the header with the final length.
std::size_t begin_rtcp_packet(Bytes& out);
void finish_rtcp_packet(Bytes& out, std::size_t start, std::uint8_t count, std::uint8_t packet_type,
                        bool padding_bit = false);
// begin_rtcp_packet plus the two feedback SSRCs.
std::size_t begin_rtcp_feedback(Bytes& out, const RtcpFeedbackHeader& header);

Error rtcp_error(const char* what, const char* problem);

}  // namespace ivs::proto
