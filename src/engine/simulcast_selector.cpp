// engine::SimulcastSelector: see simulcast_selector.hpp for the policy and docs/relay.md
// (Simulcast) for the behaviour in prose.
#include "engine/simulcast_selector.hpp"

#include <algorithm>

#include "proto/h264_payload.hpp"
#include "proto/rtp_packet.hpp"

namespace ivs::engine {
namespace {

std::uint64_t area(const proto::H264Sps& sps) {
  return std::uint64_t{sps.width} * sps.height;
}

bool within(const proto::H264Sps& sps, const SimulcastLimits& limits) {
  const std::uint32_t long_side = std::max(sps.width, sps.height);
  const std::uint32_t short_side = std::min(sps.width, sps.height);
  return long_side <= limits.max_long_side && short_side <= limits.max_short_side;
}

}  // namespace

SimulcastSelector::SimulcastSelector(SimulcastSelectorConfig config) : config_(std::move(config)) {
  layers_.reserve(config_.rids.size());
  for (const auto& rid : config_.rids) {
    layers_.emplace_back(rid, config_);
  }
}

std::optional<std::size_t> SimulcastSelector::find_layer(std::string_view rid) const {
  for (std::size_t i = 0; i < layers_.size(); ++i) {
    if (layers_[i].rid == rid) {
      return i;
    }
  }
  return std::nullopt;
}

std::optional<std::size_t> SimulcastSelector::identify(const proto::RtpView& view) {
  for (std::size_t i = 0; i < layers_.size(); ++i) {
    if (layers_[i].ssrc == view.ssrc) {
      return i;
    }
  }
  if (config_.rtp_stream_id_ext == 0) {
    return std::nullopt;
  }
  auto rid = view.extension(config_.rtp_stream_id_ext);
  if (!rid) {
    return std::nullopt;
  }
  const std::string_view text(reinterpret_cast<const char*>(rid->data()), rid->size());
  auto index = find_layer(text);
  if (!index) {
    return std::nullopt;
  }
  Layer& layer = layers_[*index];
  if (layer.ssrc) {
    // The publisher renumbered this layer: what was cached belongs to the old SSRC. If it was
    // the chosen one, choose again, so the relay is told about the new SSRC at a keyframe.
    layer.gop.reset();
    layer.last_sps.clear();
    if (chosen_ == index) {
      chosen_.reset();
    }
  }
  layer.ssrc = view.ssrc;
  return index;
}

std::optional<std::size_t> SimulcastSelector::handle_rtp(Instant now, ByteSpan packet,
                                                         SimulcastOutput& out) {
  auto parsed = proto::parse_rtp(packet);
  if (!parsed) {
    ++malformed_dropped_;
    return std::nullopt;
  }
  if (parsed->payload_type != config_.payload_type) {
    ++other_payload_dropped_;
    return std::nullopt;
  }
  const auto index = identify(*parsed);
  if (!index) {
    ++unidentified_dropped_;
    return std::nullopt;
  }
  if (!first_packet_) {
    first_packet_ = now;
  }
  Layer& layer = layers_[*index];
  const Observed observed = observe(now, layer, *parsed);
  const std::optional<std::size_t> before = chosen_;
  decide(now, observed.keyframe ? index : std::nullopt, out);
  if (chosen_ != index) {
    return index;
  }
  // A switch to this layer forwarded its cache, which ends with this packet when it was cached.
  if (before == chosen_ || !observed.cached) {
    out.forward(packet);
  }
  return index;
}

SimulcastSelector::Observed SimulcastSelector::observe(Instant now, Layer& layer,
                                                       const proto::RtpView& view) {
  ++layer.packets;
  layer.bytes += view.packet.size();
  layer.last_packet = now;
  if (layer.window_bytes == 0 && layer.window_start == Instant{}) {
    layer.window_start = now;
  }
  if (now - layer.window_start >= config_.bitrate_window) {
    const auto elapsed =
        std::chrono::duration_cast<std::chrono::microseconds>(now - layer.window_start).count();
    layer.bitrate_bps = layer.window_bytes * 8 * 1'000'000 / static_cast<std::uint64_t>(elapsed);
    layer.window_start = now;
    layer.window_bytes = 0;
  }
  layer.window_bytes += view.packet.size();
  if (view.payload_size == 0) {
    // Padding only (Chromium pads a layer up to its bitrate when RTX is not negotiated). It
    // takes a sequence number of the layer, so it is cached like a delta packet: a replay with
    // holes would show every leg that many lost packets (and make it NACK them).
    const auto added = layer.gop.add(now, view, proto::H264PayloadInfo{});
    return {added != GopCache::Added::kNotCached && layer.gop.valid(), false};
  }
  auto info = proto::inspect_h264_payload(view.payload());
  if (!info) {
    ++malformed_dropped_;
    return {};
  }
  if (info->sps) {
    const ByteSpan nal = info->sps->in(view.payload());
    if (!std::equal(nal.begin(), nal.end(), layer.last_sps.begin(), layer.last_sps.end())) {
      layer.last_sps.assign(nal.begin(), nal.end());
      if (auto sps = proto::parse_h264_sps(nal)) {
        layer.sps = *sps;
      }
    }
  }
  const auto added = layer.gop.add(now, view, *info);
  Observed observed;
  observed.keyframe = added == GopCache::Added::kNewKeyframe;
  observed.cached = added != GopCache::Added::kNotCached && layer.gop.valid();
  layer.keyframes += observed.keyframe ? 1 : 0;
  return observed;
}

bool SimulcastSelector::active(const Layer& layer, Instant now) const {
  return layer.last_packet && now - *layer.last_packet <= config_.layer_timeout;
}

bool SimulcastSelector::fits(const Layer& layer) const {
  return layer.sps && within(*layer.sps, config_.limits) &&
         layer.bitrate_bps <= config_.limits.max_bitrate_bps;
}

// The largest active layer that fits; when none fits, the smallest active one with a known SPS.
// Layers whose SPS is unknown are never chosen: their size is unknown, and with no SPS seen
// there is no keyframe to start from either.
std::optional<std::size_t> SimulcastSelector::best(Instant now) const {
  std::optional<std::size_t> best_fit;
  std::optional<std::size_t> smallest;
  for (std::size_t i = 0; i < layers_.size(); ++i) {
    const Layer& layer = layers_[i];
    if (!active(layer, now) || !layer.sps) {
      continue;
    }
    if (fits(layer) && (!best_fit || area(*layer.sps) > area(*layers_[*best_fit].sps))) {
      best_fit = i;
    }
    if (!smallest || area(*layer.sps) < area(*layers_[*smallest].sps)) {
      smallest = i;
    }
  }
  return best_fit ? best_fit : smallest;
}

void SimulcastSelector::decide(Instant now, std::optional<std::size_t> keyframe_layer,
                               SimulcastOutput& out) {
  const auto target = best(now);
  if (!target || target == chosen_) {
    pending_.reset();
    return;
  }
  Layer& next = layers_[*target];
  if (!chosen_) {
    // The first choice: give the other layers' keyframes a moment (the first SPS to arrive may
    // be the smallest layer's, or a layer over the limits), unless every layer is known.
    const bool all_known = std::all_of(layers_.begin(), layers_.end(),
                                       [](const Layer& layer) { return layer.sps.has_value(); });
    if (!all_known && now < *first_packet_ + config_.initial_wait) {
      pending_ = target;
      return;
    }
  }
  if (keyframe_layer == target) {
    switch_to(*target, out);  // a live keyframe of the new layer: the cleanest switch point
    return;
  }
  const bool chosen_alive = chosen_ && active(layers_[*chosen_], now);
  if (!chosen_alive && next.gop.valid()) {
    fall_back(now, *target, out);
    return;
  }
  pending_ = target;
  request_keyframe(now, next, out);
}

void SimulcastSelector::fall_back(Instant now, std::size_t target, SimulcastOutput& out) {
  Layer& next = layers_[target];
  const bool young = now - next.gop.entries().front().arrival <= config_.max_replay_age;
  if (waiting_for_ != target) {
    waiting_for_ = target;
    waiting_since_ = now;
  }
  // The first choice replays whatever is cached: there is no earlier timeline to keep.
  if (!chosen_ || young || now >= *waiting_since_ + config_.keyframe_wait) {
    switch_to(target, out);
    return;
  }
  pending_ = target;
  request_keyframe(now, next, out);
}

void SimulcastSelector::switch_to(std::size_t index, SimulcastOutput& out) {
  Layer& layer = layers_[index];
  chosen_ = index;
  pending_.reset();
  waiting_for_.reset();
  waiting_since_.reset();
  ++switches_;
  out.switched(index, *layer.ssrc);
  if (layer.gop.valid()) {
    for (const auto& entry : layer.gop.entries()) {
      out.forward(entry.bytes());
    }
  }
}

void SimulcastSelector::request_keyframe(Instant now, Layer& layer, SimulcastOutput& out) {
  if (!layer.ssrc || (layer.last_keyframe_request &&
                      now - *layer.last_keyframe_request < config_.keyframe_request_interval)) {
    return;
  }
  layer.last_keyframe_request = now;
  out.request_keyframe(*layer.ssrc);
}

void SimulcastSelector::handle_timeout(Instant now, SimulcastOutput& out) {
  if (!first_packet_) {
    return;
  }
  if (now >= *first_packet_ + config_.initial_wait) {
    initial_wait_over_ = true;
  }
  decide(now, std::nullopt, out);
  if (waiting_since_ && now >= *waiting_since_ + config_.keyframe_wait) {
    waiting_since_.reset();  // no longer a deadline (the target changed): packets decide
    waiting_for_.reset();
  }
  if (chosen_ && !active(layers_[*chosen_], now)) {
    // Silent and nothing to fall back to: wait for packets rather than for the timer again.
    silence_handled_ = layers_[*chosen_].last_packet;
  }
}

std::optional<Instant> SimulcastSelector::poll_timeout() const {
  if (!first_packet_) {
    return std::nullopt;
  }
  if (!chosen_) {
    const bool waiting = pending_ && !initial_wait_over_;
    return waiting ? std::optional<Instant>(*first_packet_ + config_.initial_wait) : std::nullopt;
  }
  if (waiting_since_) {
    return *waiting_since_ + config_.keyframe_wait;
  }
  const Layer& layer = layers_[*chosen_];
  if (!layer.last_packet || silence_handled_ == layer.last_packet) {
    return std::nullopt;
  }
  // Just after the chosen layer would count as silent, so the fallback happens even when no
  // other packet arrives to trigger it.
  const Instant silent = *layer.last_packet + config_.layer_timeout + std::chrono::milliseconds(1);
  return silent;
}

SimulcastSelectorStats SimulcastSelector::stats(Instant now) const {
  SimulcastSelectorStats stats;
  for (const auto& layer : layers_) {
    SimulcastLayerStats item;
    item.rid = layer.rid;
    item.ssrc = layer.ssrc;
    item.sps = layer.sps;
    item.active = active(layer, now);
    item.bitrate_bps = item.active ? layer.bitrate_bps : 0;
    item.fits = fits(layer);
    item.packets = layer.packets;
    item.bytes = layer.bytes;
    item.keyframes = layer.keyframes;
    stats.layers.push_back(std::move(item));
  }
  stats.chosen = chosen_;
  stats.pending = pending_;
  stats.switches = switches_;
  stats.unidentified_dropped = unidentified_dropped_;
  stats.other_payload_dropped = other_payload_dropped_;
  stats.malformed_dropped = malformed_dropped_;
  return stats;
}

}  // namespace ivs::engine
