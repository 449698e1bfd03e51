// Transport-wide congestion control feedback, receiver side
// (draft-holmer-rmcat-transport-wide-cc-extensions-01 §3.1 feedback message, §2 the
// transport-wide sequence number extension).
//
// A browser publisher sizes its send bitrate with its own estimator (send-side bandwidth
// estimation); that estimator only moves when the receiver reports, per transport-wide sequence
// number, whether each packet arrived and when. Without this report Chromium stays near its start
// bitrate (DESIGN.md §3). The generator records (arrival time, sequence number) for every packet
// of the BUNDLE, audio and video alike, because the numbering is shared by the whole transport,
// and turns them into RtcpTransportFeedback packets on its timer.
//
// Cadence: one feedback per `interval` (50 ms by default, libwebrtc's fastest periodic rate)
// while packets arrive, none while idle, and at once when `early_send_packets` are pending so a
// burst does not wait a whole interval (libwebrtc does the same to keep the sender's picture
// fresh).
//
// A feedback packet is split when the next receive delta does not fit the 16-bit signed field
// (about ±8.19 s), when the status count would pass 65535, or when the packet would grow past
// `max_packet_bytes` (so it fits one datagram after SRTCP). A packet that arrives after its
// sequence number was already reported as lost is reported again in a feedback of its own (a
// sender takes the later report; libwebrtc re-reports the same way) rather than silently dropped.
//
// Time is an input: arrivals come with the receive instant of their datagram, the next wake-up is
// poll_timeout(). Receive deltas are computed from each packet's absolute tick count (250 µs
// since the first arrival), not accumulated, so rounding never drifts.
#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <vector>

#include "proto/bytes.hpp"
#include "proto/rtcp_twcc.hpp"
#include "proto/time.hpp"

namespace ivs::engine {

struct TransportFeedbackConfig {
  std::uint32_t sender_ssrc = 1;  // our SSRC in the feedback's "packet sender" field
  Duration interval = std::chrono::milliseconds(50);
  std::size_t early_send_packets = 100;
  std::size_t max_packet_bytes = 1200;
  // Arrivals kept between two feedbacks at most; beyond it packets are counted and not
  // recorded (the sender then sees them as lost, which is the safe direction).
  std::size_t max_pending_packets = 8192;
};

struct TransportFeedbackStats {
  std::uint64_t packets_recorded = 0;
  std::uint64_t duplicates = 0;    // a sequence number seen twice before it was reported
  std::uint64_t late_packets = 0;  // arrived after their number was reported lost
  std::uint64_t pending_overflow = 0;
  std::uint64_t feedback_packets = 0;
};

// The generator's working records, outside the class so std::optional<> of them sees their
// default member initializers (clang evaluates that inside an incomplete enclosing class).
struct TransportFeedbackArrival {
  std::int64_t sequence = 0;  // unwrapped
  std::int64_t tick = 0;      // 250 µs ticks since the first arrival
};
struct TransportFeedbackInProgress {
  proto::RtcpTransportFeedback feedback;
  std::int64_t base = 0;  // unwrapped base sequence
  std::int64_t last_tick = 0;
  std::size_t delta_bytes = 0;
  bool has_received = false;
  bool late = false;  // reports packets below the first unreported number
};

class TransportFeedbackGenerator {
 public:
  explicit TransportFeedbackGenerator(TransportFeedbackConfig config = {});

  // One received RTP packet: its transport-wide sequence number (the extension's 16 bits) and
  // the SSRC it came on (used as the feedback's media SSRC, as libwebrtc does).
  void on_packet(Instant arrival, std::uint16_t transport_sequence, std::uint32_t media_ssrc);

  // When handle_timeout must run next; nullopt while nothing is pending.
  std::optional<Instant> poll_timeout() const { return next_feedback_at_; }
  // Builds the feedback due at `now` (if any); take it with poll_feedback().
  void handle_timeout(Instant now);
  std::optional<proto::RtcpTransportFeedback> poll_feedback();

  const TransportFeedbackStats& stats() const { return stats_; }

 private:
  using Arrival = TransportFeedbackArrival;
  using Open = TransportFeedbackInProgress;

  std::int64_t unwrap(std::uint16_t sequence);
  void build_feedback();
  void add_arrival(const Arrival& arrival);
  bool try_append(Open& open, const Arrival& arrival);
  void start(std::int64_t base, bool late);
  void finish();

  TransportFeedbackConfig config_;
  TransportFeedbackStats stats_;
  std::vector<Arrival> pending_;
  std::deque<proto::RtcpTransportFeedback> ready_;
  std::optional<Open> open_;
  std::optional<std::int64_t> last_unwrapped_;
  std::optional<std::int64_t> next_to_report_;  // first sequence not yet covered by a feedback
  std::optional<Instant> origin_;               // the first arrival: tick 0
  std::optional<Instant> next_feedback_at_;
  std::optional<Instant> last_feedback_at_;
  std::uint32_t media_ssrc_ = 0;
  std::uint8_t feedback_count_ = 0;
  Bytes size_scratch_;
};

}  // namespace ivs::engine
