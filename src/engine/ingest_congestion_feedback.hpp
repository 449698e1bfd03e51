// Congestion-control feedback toward a WHIP publisher: transport-wide feedback
// (draft-holmer-rmcat-transport-wide-cc-extensions-01, transport_feedback.hpp) when the ingest
// answer agreed to it, and a REMB cap (remb_cap.hpp) when goog-remb was agreed.
//
// What is negotiated decides what is sent, per publisher session:
// - transport-cc: some m-section agreed to both the transport-wide sequence number extension
//   and `a=rtcp-fb:<pt> transport-cc` (Chromium, Firefox, aiortc do). Every decrypted packet
//   whose m-section carries the extension is recorded, audio and video alike: the numbering is
//   shared over the BUNDLE transport.
// - REMB: some m-section agreed to `goog-remb` AND transport-cc feedback is active. The REMB
//   carries the cap, not an estimate, which is only right for a sender that runs its own
//   estimator and sends min(estimate, REMB), as Chromium does. A REMB-only sender takes the
//   REMB as its target instead (aiortc 1.4 sets its encoder's target bitrate to it), so a
//   fixed cap would make it send at the cap whatever the path can carry. OBS offers goog-remb
//   without transport-cc: it, aiortc and any other REMB-only publisher get nothing, as before.
// - Neither: nothing is sent, nothing is parsed.
//
// Packets go out through the publisher's RelaySink (the session protects them with SRTCP) from
// handle_timeout(); the owner merges poll_timeout() into its timer. Time is an input.
#pragma once

#include <cstdint>
#include <optional>

#include "engine/relay.hpp"
#include "engine/remb_cap.hpp"
#include "engine/sdp_negotiation.hpp"
#include "engine/transport_feedback.hpp"
#include "proto/bytes.hpp"
#include "proto/time.hpp"

namespace ivs::engine {

struct IngestCongestionConfig {
  std::uint32_t sender_ssrc = 1;              // our SSRC toward the publisher (RR, NACK, PLI)
  std::uint64_t max_bitrate_bps = 6'000'000;  // INGEST_MAX_BITRATE
  Duration feedback_interval = std::chrono::milliseconds(50);
  Duration remb_interval = std::chrono::seconds(1);
};

struct IngestCongestionStats {
  bool transport_feedback = false;  // negotiated and active
  bool remb = false;
  std::uint64_t packets_without_sequence = 0;  // a negotiated extension missing or malformed
  std::uint64_t feedback_packets_sent = 0;
  std::uint64_t remb_packets_sent = 0;
  TransportFeedbackStats transport;
};

class IngestCongestionFeedback {
 public:
  IngestCongestionFeedback(const NegotiatedMedia& media, IngestCongestionConfig config);

  bool active() const { return transport_.has_value() || remb_.has_value(); }

  // One decrypted RTP packet from the publisher and the receive time of its datagram.
  void on_rtp(Instant arrival, MediaKind kind, ByteSpan packet);
  std::optional<Instant> poll_timeout() const;
  // Sends whatever feedback is due at `now` to the publisher.
  void handle_timeout(Instant now, RelaySink& publisher);

  IngestCongestionStats stats() const;

 private:
  std::optional<std::uint8_t> video_extension_id_;
  std::optional<std::uint8_t> audio_extension_id_;
  std::optional<TransportFeedbackGenerator> transport_;
  std::optional<RembCap> remb_;
  std::uint64_t packets_without_sequence_ = 0;
  std::uint64_t feedback_packets_sent_ = 0;
  Bytes scratch_;
};

}  // namespace ivs::engine
