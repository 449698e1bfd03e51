// Compound RTCP (RFC 3550 §6.1) and reduced-size RTCP (RFC 5506): a datagram of one or more
// RTCP packets back to back. The walker checks each header (version, length within the
// datagram, padding) and yields the packets; parse_rtcp_packet() turns one into its typed value,
// or RtcpUnknown for types and FMTs we do not interpret (APP, TMMBR, RPSI, non-REMB AFB, …), so
// nothing is lost when a packet is relayed.
//
// The RFC 3550 §A.2 rule "the first packet is SR or RR" is not enforced: RFC 5506 reduced-size
// feedback (browsers send lone transport-cc and PLI packets) breaks it legitimately.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <variant>
#include <vector>

#include "proto/bytes.hpp"
#include "proto/result.hpp"
#include "proto/rtcp_bye.hpp"
#include "proto/rtcp_fir.hpp"
#include "proto/rtcp_header.hpp"
#include "proto/rtcp_nack.hpp"
#include "proto/rtcp_pli.hpp"
#include "proto/rtcp_receiver_report.hpp"
#include "proto/rtcp_remb.hpp"
#include "proto/rtcp_sdes.hpp"
#include "proto/rtcp_sender_report.hpp"
#include "proto/rtcp_twcc.hpp"

namespace ivs::proto {

// A packet kept as bytes: its header fields and its body without padding.
struct RtcpUnknown {
  std::uint8_t packet_type = 0;
  std::uint8_t count = 0;  // RC/SC/FMT
  Bytes body;              // serialized zero-padded to a 32-bit boundary

  void append_to(Bytes& out) const;
  bool operator==(const RtcpUnknown&) const = default;
};

using RtcpPacket = std::variant<RtcpSenderReport, RtcpReceiverReport, RtcpSdes, RtcpBye, RtcpNack,
                                RtcpPli, RtcpFir, RtcpRemb, RtcpTransportFeedback, RtcpUnknown>;

// Walks a compound datagram without allocating:
//   RtcpCompoundWalker walker(bytes);
//   while (auto packet = walker.next()) { if (!*packet) { count, drop; break; } … }
// After an error the walk ends (lengths past a bad header cannot be trusted).
class RtcpCompoundWalker {
 public:
  explicit RtcpCompoundWalker(ByteSpan datagram) : rest_(datagram) {}
  // The next packet, an error for a malformed header, or nullopt at the end.
  std::optional<Result<RtcpPacketView>> next();

 private:
  ByteSpan rest_;
  bool failed_ = false;
};

// The typed value of one walked packet. Errors when a known type's body is malformed.
Result<RtcpPacket> parse_rtcp_packet(const RtcpPacketView& view);

// Every packet of a compound datagram; fails on the first malformed packet. An empty datagram
// is an error too (RFC 3550 §6.1: a compound holds at least one packet).
Result<std::vector<RtcpPacket>> parse_rtcp_compound(ByteSpan datagram);

void append_rtcp_packet(Bytes& out, const RtcpPacket& packet);
Bytes serialize_rtcp_compound(std::span<const RtcpPacket> packets);

}  // namespace ivs::proto
