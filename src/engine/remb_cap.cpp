#include "engine/remb_cap.hpp"

#include <algorithm>

namespace ivs::engine {

void RembCap::on_packet(Instant arrival, std::uint32_t ssrc) {
  const auto listed = ssrcs_.begin() + static_cast<std::ptrdiff_t>(ssrc_count_);
  if (std::find(ssrcs_.begin(), listed, ssrc) == listed && ssrc_count_ < kMaxSsrcs) {
    ssrcs_[ssrc_count_++] = ssrc;
  }
  if (!next_at_) {
    next_at_ = arrival;  // the cap applies from the start, before the estimator ramps
  }
}

void RembCap::handle_timeout(Instant now) {
  if (!next_at_ || now < *next_at_) {
    return;
  }
  due_ = true;
  *next_at_ += config_.interval;
  if (*next_at_ <= now) {
    *next_at_ = now + config_.interval;  // after a stall, do not send a burst of catch-ups
  }
}

std::optional<proto::RtcpRemb> RembCap::poll_remb() {
  if (!due_) {
    return std::nullopt;
  }
  due_ = false;
  proto::RtcpRemb remb;
  remb.sender_ssrc = config_.sender_ssrc;
  remb.media_ssrc = 0;  // the draft: always 0 for REMB
  remb.set_bitrate(config_.max_bitrate_bps);
  remb.ssrcs.assign(ssrcs_.begin(), ssrcs_.begin() + static_cast<std::ptrdiff_t>(ssrc_count_));
  ++sent_;
  return remb;
}

}  // namespace ivs::engine
