// RelayChannel and the pulled upstream (INGEST_PULL_URL, app/ingest/ingest_pull.hpp): a stream
// another media server sends us over WHEP feeds the relay as a WHIP publisher would. Both go
// through the relay's publisher switch (engine::Relay::start_publisher), so stages never see
// which one feeds them: their sessions stay up and their RTP spaces stay continuous.
#include <spdlog/spdlog.h>

#include "app/relay/relay_channel.hpp"
#include "app/relay/relay_channel_session.hpp"
#include "io/clock.hpp"

namespace ivs::app {

bool RelayChannel::source_live() const {
  return publisher_.has_value() || (upstream_ && upstream_->feeding);
}

void RelayChannel::feed_from_upstream(Instant now) {
  upstream_->feeding = true;
  publisher_since_ = io::wall_now();
  samples_.clear();
  const engine::RelaySourceFormat format{upstream_->media.video, upstream_->media.audio};
  start_relay_source(now, format, *upstream_->feedback);
  publish_profile_level_id();
}

void RelayChannel::upstream_connected(Instant now, const engine::NegotiatedMedia& media,
                                      engine::RelaySink& feedback, std::string remote) {
  const bool was_live = source_live();
  upstream_ = Upstream{media, &feedback, std::move(remote), false};
  feed_from_upstream(now);
  spdlog::info("[{}] upstream (INGEST_PULL_URL) connected from {}: it feeds the relay",
               options_.name, upstream_->remote);
  if (publisher_) {
    // The newest source feeds; the WHIP publisher it replaced is closed as a replaced
    // publisher is (the relay already let go of its sink).
    if (Session* replaced = find(*publisher_)) {
      spdlog::info("[{}] publisher session {} replaced by the upstream", options_.name,
                   replaced->resource_id.substr(0, 8));
      stop_layer_relays(now);
      plane_.close_session(now, *publisher_);
      sessions_.erase(*publisher_);
    }
    publisher_.reset();
  }
  if (!was_live && options_.on_publisher_live_changed) {
    options_.on_publisher_live_changed(true);
  }
  after_relay_input(now);
  plane_.drain(now);
}

void RelayChannel::upstream_media(Instant now, engine::MediaKind kind, ByteSpan packet) {
  if (!upstream_ || !upstream_->feeding || kind == engine::MediaKind::kUnknown) {
    return;
  }
  feed_relay(now, kind, packet);
  after_source_packet(now);
}

void RelayChannel::upstream_rtcp(Instant now, std::span<const proto::RtcpPacket> packets) {
  if (!upstream_ || !upstream_->feeding) {
    return;
  }
  relay_.handle_publisher_rtcp(now, packets);
  after_relay_input(now);
}

void RelayChannel::upstream_lost(Instant now, std::string_view reason) {
  if (!upstream_) {
    return;
  }
  const bool was_feeding = upstream_->feeding;
  upstream_.reset();
  spdlog::info("[{}] upstream (INGEST_PULL_URL) ended: {}", options_.name, reason);
  if (!was_feeding) {
    return;  // a WHIP publisher feeds; nothing changes for the stages
  }
  stop_relay_source(now);
  publisher_since_.reset();
  samples_.clear();
  if (options_.on_publisher_live_changed) {
    options_.on_publisher_live_changed(false);
  }
  relay_timer_->rearm(next_timeout());
}

}  // namespace ivs::app
