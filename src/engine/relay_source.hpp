// The publisher side of the relay (DESIGN.md §5): reception statistics per ingest RTP stream
// (RFC 3550 §A.1 sequence unwrapping, §A.3 loss, §A.8 jitter, §6.4.2 receiver report blocks),
// the generic NACK retry list (RFC 4585 §6.2.1) and the upstream keyframe request limiter
// (RFC 4585 §6.3.1 PLI, RFC 5104 §4.3.1 FIR).
//
// Why separate small classes: each is a pure function of (packet, now) so the tests drive them
// with a simulated clock, and relay.cpp only composes them. None of them sends anything: they
// return what is due and the relay writes the RTCP.
//
// NACK policy: a gap is NACKed as soon as it is seen, then again every kNackRetryInterval while
// it stays open, at most kNackMaxAttempts times; after kNackGiveUpAge the sequence number is
// given up and counted as lost. OBS answers NACKs from a 4000-packet buffer, so a second try
// usually fills what the first lost. A jump larger than kMaxNackGap (a publisher restart that
// kept its SSRC, or a burst no retransmission would save) is counted as lost without NACKs.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <vector>

#include "proto/rtcp_report_block.hpp"
#include "proto/rtp_sequence.hpp"
#include "proto/time.hpp"

namespace ivs::engine {

inline constexpr Duration kNackRetryInterval = std::chrono::milliseconds(150);
inline constexpr int kNackMaxAttempts = 6;
inline constexpr Duration kNackGiveUpAge = std::chrono::seconds(1);
inline constexpr std::int64_t kMaxNackGap = 512;
inline constexpr std::size_t kMaxNackPending = 2048;

// Reception state of one ingest RTP stream (one SSRC).
class RelayInboundStream {
 public:
  enum class Arrival : std::uint8_t {
    kInOrder,    // the new highest sequence number
    kLate,       // below the highest: a reordered packet or a retransmission
    kDuplicate,  // the same as the highest
  };
  struct Received {
    Arrival arrival = Arrival::kInOrder;
    std::int64_t extended = 0;
    std::int64_t gap_first = 0;  // sequence numbers [gap_first, extended) were skipped
    std::int64_t gap_count = 0;
  };

  void reset(std::uint32_t ssrc, std::uint32_t clock_rate);
  bool active() const { return active_; }
  std::uint32_t ssrc() const { return ssrc_; }

  Received on_packet(Instant now, std::uint16_t sequence_number, std::uint32_t timestamp);
  // The extended sequence number of a packet near the newest one, without changing anything.
  std::int64_t extend(std::uint16_t sequence_number) const {
    return unwrapper_.peek(sequence_number);
  }
  // A sender report from this stream's SSRC: remembered for LSR/DLSR.
  void on_sender_report(Instant now, std::uint64_t ntp_timestamp);
  // The §6.4.2 report block as of now; moves the interval counters for the next fraction.
  proto::RtcpReportBlock make_report_block(Instant now);

  std::int64_t expected() const;
  std::int64_t received() const { return received_; }

 private:
  bool active_ = false;
  std::uint32_t ssrc_ = 0;
  std::uint32_t clock_rate_ = 90000;
  proto::SequenceNumberUnwrapper unwrapper_;
  std::int64_t base_ = 0;
  std::int64_t highest_ = 0;
  std::int64_t received_ = 0;
  std::int64_t expected_prior_ = 0;
  std::int64_t received_prior_ = 0;
  double jitter_ = 0;  // RFC 3550 §A.8, in timestamp units
  std::optional<std::int64_t> last_transit_;
  std::uint32_t last_sr_middle_ = 0;  // middle 32 bits of the last SR's NTP time
  std::optional<Instant> last_sr_at_;
};

// Sequence numbers we are waiting for, with their retry schedule.
class NackTracker {
 public:
  // Gap [first, first + count) was seen now. Returns how many were counted lost immediately
  // (gaps too large to repair, or overflow of the pending list).
  std::uint64_t add_gap(Instant now, std::int64_t first, std::int64_t count);
  // A packet arrived: stop asking for it. True when it was missing.
  bool fill(std::int64_t extended);
  // Sequence numbers due for a (re)try now, appended to `due` as 16-bit values; entries past
  // their give-up age are removed and counted in the return value.
  std::uint64_t collect_due(Instant now, std::vector<std::uint16_t>& due);
  std::optional<Instant> next_deadline() const;
  void clear() { pending_.clear(); }
  std::size_t pending() const { return pending_.size(); }

 private:
  struct Entry {
    Instant first_missed_at;
    Instant next_attempt_at;
    int attempts = 0;
  };
  std::map<std::int64_t, Entry> pending_;
};

// At most one keyframe request per interval, however many legs ask (DESIGN.md §5).
class KeyframeRequestLimiter {
 public:
  explicit KeyframeRequestLimiter(Duration interval) : interval_(interval) {}
  // A leg (or a new leg) wants a keyframe. True when a request may go out now.
  bool request(Instant now);
  // A pending request whose time has come: true once, then the caller sends it.
  bool take_due(Instant now);
  std::optional<Instant> next_deadline() const;
  void mark_sent(Instant now) { last_sent_ = now; }
  bool pending() const { return pending_; }
  void reset() { pending_ = false; }

 private:
  Duration interval_;
  std::optional<Instant> last_sent_;
  bool pending_ = false;
};

}  // namespace ivs::engine
