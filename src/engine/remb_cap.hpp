// A REMB (draft-alvestrand-rmcat-remb-03 §2) that caps a publisher's bitrate rather than
// estimating it.
//
// With transport-cc feedback a browser's own estimator decides how fast to send; it takes
// min(own estimate, last REMB) as its ceiling. Sending the configured cap (INGEST_MAX_BITRATE)
// keeps a fast link from pushing the publisher past what we forward to IVS stages (8.5 Mbit/s
// is IVS's limit). The value never drops below the cap, so it cannot slow a publisher that
// stays under it; a publisher that ignores REMB (OBS) is unaffected.
//
// Cadence: the first REMB as soon as the first packet shows the publisher's SSRC, then one per
// `interval` (libwebrtc expires a receiver limit it has not heard about for a while, so it is
// repeated rather than sent once).
#pragma once

#include <array>
#include <cstdint>
#include <optional>

#include "proto/rtcp_remb.hpp"
#include "proto/time.hpp"

namespace ivs::engine {

struct RembCapConfig {
  std::uint32_t sender_ssrc = 1;
  std::uint64_t max_bitrate_bps = 6'000'000;
  Duration interval = std::chrono::seconds(1);
};

class RembCap {
 public:
  explicit RembCap(RembCapConfig config) : config_(config) {}

  // A packet from the publisher on `ssrc`: the first one starts the REMB schedule; every SSRC
  // seen (up to kMaxSsrcs) is listed in the REMB.
  void on_packet(Instant arrival, std::uint32_t ssrc);

  std::optional<Instant> poll_timeout() const { return next_at_; }
  void handle_timeout(Instant now);
  std::optional<proto::RtcpRemb> poll_remb();

  std::uint64_t sent() const { return sent_; }

 private:
  static constexpr std::size_t kMaxSsrcs = 4;

  RembCapConfig config_;
  std::array<std::uint32_t, kMaxSsrcs> ssrcs_{};
  std::size_t ssrc_count_ = 0;
  std::optional<Instant> next_at_;
  bool due_ = false;
  std::uint64_t sent_ = 0;
};

}  // namespace ivs::engine
