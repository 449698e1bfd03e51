// Transport-wide congestion control feedback (draft-holmer-rmcat-transport-wide-cc-extensions-01
// §3.1): RTPFB, FMT=15. The receiver reports, per transport-wide sequence number, whether the
// packet arrived and its arrival time relative to the previous one; browsers size their send
// bitrate from it.
//
//   |V=2|P|  FMT=15 |    PT=205     |           length              |
//   |                     SSRC of packet sender                     |
//   |                      SSRC of media source                     |
//   |      base sequence number     |      packet status count      |
//   |                 reference time                | fb pkt. count |
//   |          packet chunk         |         packet chunk          |  …
//   |         recv delta            |  recv delta   | zero padding  |  …
//
// Packet chunks (16 bits):
//   run length     |0|S S|  run length (13 bits)     |  one symbol repeated
//   status vector  |1|0|  14 × 1-bit symbols         |  0 not received, 1 small delta
//                  |1|1|   7 × 2-bit symbols         |  00 not, 01 small, 10 large/negative
// Receive deltas: 1 byte unsigned for "small", 2 bytes signed for "large", in 250 µs ticks, one
// per received packet in sequence order; the first is relative to reference time × 64 ms.
//
// The packet holds the decoded list of statuses rather than the chunks, so the engine works with
// "packet n arrived at delta d" and the serializer chooses the chunk encoding. Symbol 11 is
// reserved and rejected.
#pragma once

#include <cstdint>
#include <vector>

#include "proto/bytes.hpp"
#include "proto/result.hpp"

namespace ivs::proto {

enum class TwccStatus : std::uint8_t {
  kNotReceived = 0,
  kSmallDelta = 1,  // received, delta 0..255 ticks
  kLargeDelta = 2,  // received, delta -32768..32767 ticks
};

inline constexpr std::int64_t kTwccDeltaTickMicros = 250;
inline constexpr std::int64_t kTwccReferenceTimeMicros = 64000;

struct TwccPacketStatus {
  TwccStatus status = TwccStatus::kNotReceived;
  std::int32_t delta_ticks = 0;  // receive delta in 250 µs ticks; 0 when not received
  bool operator==(const TwccPacketStatus&) const = default;
};

struct RtcpTransportFeedback {
  std::uint32_t sender_ssrc = 0;
  std::uint32_t media_ssrc = 0;
  std::uint16_t base_sequence = 0;
  std::int32_t reference_time = 0;  // 24-bit signed, multiples of 64 ms
  std::uint8_t feedback_count = 0;  // increments per feedback packet sent
  // Status of base_sequence + i for each i; at most 65535 are written.
  std::vector<TwccPacketStatus> packets;

  // The symbol a received packet with this delta needs.
  static TwccStatus status_for_delta(std::int32_t delta_ticks) {
    return delta_ticks >= 0 && delta_ticks <= 255 ? TwccStatus::kSmallDelta
                                                  : TwccStatus::kLargeDelta;
  }
  // Appends a received packet, choosing its symbol; deltas beyond int16 are clamped.
  void add_received(std::int32_t delta_ticks);
  void add_lost() { packets.push_back({TwccStatus::kNotReceived, 0}); }

  static Result<RtcpTransportFeedback> parse(ByteSpan packet);
  // Deltas that do not fit their symbol (small outside 0..255, large outside int16) are clamped.
  void append_to(Bytes& out) const;
  Bytes serialize() const;

  bool operator==(const RtcpTransportFeedback&) const = default;
};

}  // namespace ivs::proto
