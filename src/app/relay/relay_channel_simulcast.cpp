// RelayChannel and simulcast publishers (RFC 8853, RFC 8851): an engine::SimulcastSelector per
// publisher session that sends more than one layer picks the layer the relay (and so every stage
// and default WHEP viewer) gets; see engine/simulcast_selector.hpp for the policy. The selector
// needs a timer of its own (the fallback when the chosen layer goes silent must happen even when
// no other packet arrives) and sends PLIs for the layer it waits for.
//
// A WHEP viewer that asks for one layer (?layer=<rid>) is a leg of a relay of its own for that
// layer (a LayerRelay), fed every packet of the layer and the audio. It is created with the first
// such viewer, starts from the layer's cached GOP, and goes with the last one, so a publisher
// nobody asks layers of costs nothing extra.
#include <spdlog/spdlog.h>

#include <algorithm>

#include "app/relay/relay_channel.hpp"
#include "app/relay/relay_channel_session.hpp"
#include "io/engine_timer.hpp"
#include "proto/rtcp_pli.hpp"

namespace ivs::app {

// The selector's output: the chosen layer into the relay, keyframe requests to the publisher.
class RelayChannel::SimulcastFeed final : public engine::SimulcastOutput {
 public:
  SimulcastFeed(RelayChannel& channel, Session& publisher, Instant now)
      : channel_(channel), publisher_(publisher), now_(now) {}

  void switched(std::size_t layer, std::uint32_t ssrc) override {
    channel_.relay_.switch_video_ssrc(ssrc);
    const auto stats = publisher_.simulcast->stats(now_);
    const auto& chosen = stats.layers[layer];
    spdlog::info("[{}] simulcast: forwarding layer {} (SSRC {:08x}, {}x{}, {} kbit/s)",
                 channel_.options_.name, chosen.rid, ssrc, chosen.sps ? chosen.sps->width : 0,
                 chosen.sps ? chosen.sps->height : 0, chosen.bitrate_bps / 1000);
  }
  void forward(ByteSpan packet) override {
    channel_.feed_relay(now_, engine::MediaKind::kVideo, packet);
  }
  void request_keyframe(std::uint32_t ssrc) override {
    if (!publisher_.media.video.feedback.pli) {
      return;  // OBS ignores keyframe requests anyway; the layer's own keyframe will come
    }
    Bytes rtcp;
    proto::RtcpPli{channel_.options_.relay.receiver_ssrc, ssrc}.append_to(rtcp);
    channel_.plane_.send_rtcp(publisher_.ice_id, rtcp);
  }

 private:
  RelayChannel& channel_;
  Session& publisher_;
  Instant now_;
};

void RelayChannel::start_simulcast(Session& session) {
  const auto& video = session.media.video;
  if (video.rids.size() < 2) {
    return;  // not simulcast: the relay gets every video packet, as before
  }
  engine::SimulcastSelectorConfig config;
  config.rids = video.rids;
  config.payload_type = video.payload_type;
  config.rtp_stream_id_ext = static_cast<std::uint8_t>(video.extensions.rtp_stream_id.value_or(0));
  config.gop_cache_max_packets = options_.relay.gop_cache_max_packets;
  config.gop_cache_max_bytes = options_.relay.gop_cache_max_bytes;
  // 700 ms of silence, not the selector's default 1 s: with 1 s the stages reached the next layer
  // 1.03–1.12 s after a browser stopped the top one (the switch itself takes 40–120 ms), and
  // users expect that within a second. A running layer (10–60 fps) is never silent that long.
  config.layer_timeout = std::chrono::milliseconds(700);
  if (config.rtp_stream_id_ext == 0) {
    spdlog::warn(
        "[{}] simulcast offer without the rtp-stream-id extension: layers cannot be told "
        "apart, no video will be forwarded",
        options_.name);
  }
  session.simulcast = std::make_unique<engine::SimulcastSelector>(std::move(config));
}

void RelayChannel::on_simulcast_video(Instant now, Session& session, ByteSpan packet) {
  SimulcastFeed feed(*this, session, now);
  const auto layer = session.simulcast->handle_rtp(now, packet, feed);
  simulcast_timer_->rearm(session.simulcast->poll_timeout());
  if (layer && !layer_relays_.empty()) {
    auto found = layer_relays_.find(session.media.video.rids[*layer]);
    if (found != layer_relays_.end()) {
      found->second->relay.handle_publisher_rtp(now, engine::MediaKind::kVideo, packet);
      found->second->settle();
    }
  }
}

void RelayChannel::on_simulcast_timeout(Instant now) {
  Session* session = publisher_ ? find(*publisher_) : nullptr;
  if (session == nullptr || !session->simulcast) {
    return;
  }
  SimulcastFeed feed(*this, *session, now);
  session->simulcast->handle_timeout(now, feed);
  simulcast_timer_->rearm(session->simulcast->poll_timeout());
  after_relay_input(now);
}

void RelayChannel::simulcast_status(PublisherStatus& status) const {
  auto found = publisher_ ? sessions_.find(*publisher_) : sessions_.end();
  if (found == sessions_.end() || !found->second->simulcast) {
    return;
  }
  const auto stats = found->second->simulcast->stats(clock_.now());
  for (std::size_t i = 0; i < stats.layers.size(); ++i) {
    const auto& layer = stats.layers[i];
    SimulcastLayerStatus item;
    item.rid = layer.rid;
    item.ssrc = layer.ssrc;
    if (layer.sps) {
      item.width = static_cast<int>(layer.sps->width);
      item.height = static_cast<int>(layer.sps->height);
    }
    item.bitrate_kbps = static_cast<double>(layer.bitrate_bps) / 1000.0;
    item.active = layer.active;
    item.fits = layer.fits;
    item.chosen = stats.chosen == i;
    item.packets = layer.packets;
    status.layers.push_back(std::move(item));
  }
  if (stats.chosen) {
    status.chosen_layer = stats.layers[*stats.chosen].rid;
  }
  status.simulcast_switches = stats.switches;
  status.simulcast_dropped =
      stats.unidentified_dropped + stats.other_payload_dropped + stats.malformed_dropped;
}

std::optional<std::string> RelayChannel::check_layer(
    const std::optional<std::string>& layer) const {
  if (!layer) {
    return std::nullopt;
  }
  auto found = publisher_ ? sessions_.find(*publisher_) : sessions_.end();
  if (found == sessions_.end() || !found->second->simulcast) {
    return "the publisher sends no simulcast layers; leave out the layer parameter";
  }
  const auto& rids = found->second->media.video.rids;
  if (std::find(rids.begin(), rids.end(), *layer) != rids.end()) {
    return std::nullopt;
  }
  std::string names;
  for (const auto& rid : rids) {
    names += (names.empty() ? "" : ", ") + rid;
  }
  return "no simulcast layer '" + *layer + "'; the publisher sends " + names;
}

engine::EgressId RelayChannel::add_viewer_leg(Instant now, const Session& session,
                                              const engine::RelayEgressFormat& format) {
  if (session.layer.empty()) {
    return relay_.add_egress(now, format, *session.sink);
  }
  auto& slot = layer_relays_[session.layer];
  if (slot) {
    const engine::EgressId id = slot->relay.add_egress(now, format, *session.sink);
    slot->settle();
    return id;
  }
  slot = std::make_unique<LayerRelay>(clock_, plane_, options_.relay);
  Session* publisher = publisher_ ? find(*publisher_) : nullptr;
  if (publisher != nullptr) {
    const engine::RelaySourceFormat format_in{publisher->media.video, publisher->media.audio};
    slot->relay.start_publisher(now, format_in, *publisher->sink);
  }
  // The leg first, then the layer's cached GOP: the leg starts at its keyframe and gets every
  // later packet live, padding included (the relay's own GOP cache skips padding, so a leg
  // started from it would see holes in the numbering).
  const engine::EgressId id = slot->relay.add_egress(now, format, *session.sink);
  const auto index = publisher != nullptr && publisher->simulcast
                         ? publisher->simulcast->find_layer(session.layer)
                         : std::nullopt;
  if (index && publisher->simulcast->cache(*index).valid()) {
    for (const auto& entry : publisher->simulcast->cache(*index).entries()) {
      slot->relay.handle_publisher_rtp(now, engine::MediaKind::kVideo, entry.bytes());
    }
  }
  slot->settle();
  spdlog::info("[{}] simulcast: a relay for WHEP viewers of layer {}", options_.name,
               session.layer);
  return id;
}

engine::Relay* RelayChannel::find_relay(const Session& session) {
  if (session.layer.empty()) {
    return &relay_;
  }
  auto found = layer_relays_.find(session.layer);
  return found == layer_relays_.end() ? nullptr : &found->second->relay;
}

void RelayChannel::remove_viewer_leg(Session& session) {
  if (session.worker_leg) {
    session.worker_leg->shard->close_viewer(session.worker_leg->key);
    session.worker_leg.reset();
  }
  if (!session.egress) {
    return;
  }
  engine::Relay* relay = find_relay(session);
  if (relay != nullptr) {
    relay->remove_egress(*session.egress);
    if (relay != &relay_ && relay->egress_count() == 0) {
      layer_relays_.erase(session.layer);
    }
  }
  session.egress.reset();
}

void RelayChannel::start_layer_relays(Instant now, Session& publisher) {
  const engine::RelaySourceFormat format{publisher.media.video, publisher.media.audio};
  for (auto& [rid, layer] : layer_relays_) {
    layer->relay.start_publisher(now, format, *publisher.sink);
    layer->settle();
  }
}

void RelayChannel::stop_layer_relays(Instant now) {
  for (auto& [rid, layer] : layer_relays_) {
    layer->relay.stop_publisher(now);
    layer->settle();
  }
}

void RelayChannel::feed_layer_relays(Instant now, engine::MediaKind kind, ByteSpan packet) {
  for (auto& [rid, layer] : layer_relays_) {
    layer->relay.handle_publisher_rtp(now, kind, packet);
    layer->settle();
  }
}

void RelayChannel::feed_layer_relays(Instant now, std::span<const proto::RtcpPacket> packets) {
  for (auto& [rid, layer] : layer_relays_) {
    layer->relay.handle_publisher_rtcp(now, packets);
    layer->settle();
  }
}

}  // namespace ivs::app
