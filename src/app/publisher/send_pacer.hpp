// A leaky-bucket packet pacer for the test publisher, modelled on what WebRTC senders do
// (libwebrtc's PacingController sends at pacing factor 2.5 × the target bitrate, in small bursts
// every few milliseconds): a video frame leaves spread over a fraction of the frame interval
// instead of as one line-rate burst. Why the test publisher needs it: an unpaced 720p keyframe is
// ~60 packets arriving within microseconds, and how long a relay takes to forward that burst to
// N stages is N × burst × cost per packet — a property of the source more than of the relay.
// Real publishers pace (browsers; OBS's WHIP output enables libdatachannel's PacingHandler since
// obs-studio PR #10966, 2024), so the benchmark's default source does too; `--pace-kbps 0` keeps
// the unpaced worst case measurable.
//
// Sans-I/O: packets in with push(), the ones allowed out by `now` from pop_ready(now), and
// next_wake(now) says when to ask again.
#pragma once

#include <cstddef>
#include <deque>
#include <optional>
#include <vector>

#include "proto/bytes.hpp"
#include "proto/time.hpp"

namespace ivs::app {

class SendPacer {
 public:
  // `rate_kbps` 0 disables pacing (everything is ready at once). `burst_bytes` is what may go
  // out back to back (libwebrtc allows about 5 ms worth).
  explicit SendPacer(int rate_kbps, std::size_t burst_bytes = 0);

  void push(Bytes packet);
  // The queued packets the budget allows at `now`, oldest first.
  std::vector<Bytes> pop_ready(Instant now);
  // When the next queued packet will be allowed; nullopt when nothing is queued.
  std::optional<Instant> next_wake(Instant now) const;
  std::size_t queued() const { return queue_.size(); }
  bool enabled() const { return bytes_per_second_ > 0; }

  static constexpr std::size_t kMaxQueued = 512;  // ~0.6 s of 2.5 Mbit/s video

 private:
  void refill(Instant now);

  double bytes_per_second_ = 0;
  double burst_bytes_ = 0;
  double budget_ = 0;  // bytes that may leave now; negative after a packet larger than it
  std::optional<Instant> refilled_at_;
  std::deque<Bytes> queue_;
};

}  // namespace ivs::app
