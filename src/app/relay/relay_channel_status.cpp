// RelayChannel: relay events and timer, housekeeping (connect timeouts, bitrate samples),
// status, and the EgressMediaSource side (WHIP egress legs).
#include <spdlog/spdlog.h>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

#include <algorithm>
#include <cstdio>

#include "app/relay/relay_channel.hpp"
#include "app/relay/relay_channel_session.hpp"
#include "io/engine_timer.hpp"
#include "proto/h264_profile.hpp"

namespace ivs::app {

namespace {

constexpr auto kHousekeepingInterval = std::chrono::milliseconds(500);
constexpr auto kBitrateWindow = std::chrono::seconds(5);
constexpr std::size_t kMaxWarnings = 8;

double kbps(std::uint64_t bytes, Duration elapsed) {
  const double seconds = std::chrono::duration<double>(elapsed).count();
  return seconds > 0 ? static_cast<double>(bytes) * 8.0 / seconds / 1000.0 : 0.0;
}

}  // namespace

void RelayChannel::after_relay_input(Instant now) {
  while (auto event = relay_.poll_event()) {
    if (const auto* changed = std::get_if<engine::RelaySpsChanged>(&*event)) {
      const auto& sps = changed->sps;
      publish_profile_level_id();
      spdlog::info(
          "[{}] publisher video: H.264 {} level {} {}x{}", options_.name,
          proto::to_string(proto::classify_h264_profile(sps.profile_idc, sps.constraint_flags)),
          sps.level_idc, sps.width, sps.height);
      for (const std::string& violation : changed->ivs_violations) {
        spdlog::warn(
            "[{}] !!! PUBLISHER VIDEO OUTSIDE AMAZON IVS LIMITS: {} -- IVS disconnects a stage "
            "that receives this; configure the encoder for H.264 Baseline, at most 720p{}",
            options_.name, violation,
            options_.reject_video_over_ivs_limits ? " (VIDEO_LIMITS_POLICY=reject: ending it)"
                                                  : "");
        warnings_.push_back("publisher video outside IVS limits: " + violation);
      }
      if (!changed->ivs_violations.empty() && options_.reject_video_over_ivs_limits) {
        // Not from inside this call: the publisher's session may be the one being handled.
        boost::asio::post(io_, [this, alive = std::weak_ptr<bool>(alive_)] {
          if (alive.lock() && publisher_) {
            if (Session* session = find(*publisher_)) {
              const Instant at = clock_.now();
              warnings_.push_back("publisher session ended: VIDEO_LIMITS_POLICY=reject");
              end(at, *session, true, "video outside IVS limits (VIDEO_LIMITS_POLICY=reject)");
              plane_.drain(at);
            }
          }
        });
      }
    } else if (const auto* switched = std::get_if<engine::RelayPublisherSwitched>(&*event)) {
      spdlog::info("[{}] relay: publisher epoch {}", options_.name, switched->epoch);
    }
  }
  while (warnings_.size() > kMaxWarnings) {
    warnings_.erase(warnings_.begin());
  }
  relay_timer_->rearm(next_timeout());
  plane_.drain(now);
}

void RelayChannel::schedule_housekeeping() {
  // The timer is the channel's and drops its handler when destroyed, so `this` is safe here.
  housekeeping_->arm(clock_.now() + kHousekeepingInterval, [this] {
    on_housekeeping();
    schedule_housekeeping();
  });
}

void RelayChannel::on_housekeeping() {
  const Instant now = clock_.now();
  std::vector<engine::IceSessionId> expired;
  for (const auto& [id, session] : sessions_) {
    if (!session->connected && now - session->created >= options_.connect_timeout) {
      expired.push_back(id);
    }
  }
  for (engine::IceSessionId id : expired) {
    if (Session* session = find(id)) {
      const auto seconds =
          std::chrono::duration_cast<std::chrono::seconds>(options_.connect_timeout).count();
      spdlog::warn("[{}] {} session {} did not connect (ICE/DTLS) within {} s; removed",
                   options_.name, session->role == SessionRole::publisher ? "publisher" : "viewer",
                   session->resource_id.substr(0, 8), seconds);
      end(now, *session, false, "not connected in time");
    }
  }
  if (!expired.empty()) {
    plane_.drain(now);
  }
  sample_bitrates(now);
}

void RelayChannel::sample_bitrates(Instant now) {
  if (!source_live()) {
    samples_.clear();
    return;
  }
  const auto stats = relay_.source_stats();
  if (!samples_.empty() && (stats.video_bytes < samples_.back().video_bytes ||
                            stats.audio_bytes < samples_.back().audio_bytes)) {
    samples_.clear();  // counters restarted
  }
  samples_.push_back(RateSample{now, stats.video_bytes, stats.audio_bytes});
  while (samples_.size() > 2 && now - samples_.front().at > kBitrateWindow) {
    samples_.pop_front();
  }
}

bool RelayChannel::publisher_live() const {
  return source_live();
}

std::size_t RelayChannel::viewer_count() const {
  std::size_t count = 0;
  for (const auto& [id, session] : sessions_) {
    count += session->role == SessionRole::viewer && session->has_leg() ? 1 : 0;
  }
  return count;
}

std::size_t RelayChannel::connecting_viewer_count() const {
  std::size_t count = 0;
  for (const auto& [id, session] : sessions_) {
    count += session->role == SessionRole::viewer && !session->has_leg() ? 1 : 0;
  }
  return count;
}

ChannelStatus RelayChannel::status() const {
  ChannelStatus out;
  out.viewers = viewer_count();
  out.viewers_connecting = connecting_viewer_count();
  out.egress_legs = external_legs_;
  for (const RelayShardLink* shard : shards_) {
    // The two counts are read apart while the worker may move them: never below zero.
    const std::size_t legs = shard->leg_count();
    const std::size_t viewers = std::min(shard->viewer_leg_count(), legs);
    out.egress_legs += legs - viewers;
    out.viewers_on_workers += viewers;
  }
  out.publishes = publishes_;
  out.deletes = deletes_;
  out.viewers_accepted = viewers_accepted_;
  out.forward_delay = forward_delay_.histogram();
  for (const RelayShardLink* shard : shards_) {
    out.forward_delay.merge(shard->forward_delay());
  }
  PublisherStatus& p = out.publisher;
  p.live = source_live();
  p.source = publisher_ ? "whip" : (source_live() ? "pull" : "");
  p.connecting = pending_publisher_.has_value();
  p.since = publisher_since_;
  p.warnings = warnings_;
  const auto stats = relay_.source_stats();
  p.packets_lost = stats.packets_lost;
  p.nacks_sent = stats.nacks_sent;
  p.keyframe_requests = stats.keyframe_requests_sent;
  p.keyframes = stats.keyframes;
  p.gop_cache_packets = stats.gop_cache_packets;
  p.video_packets = stats.video_packets;
  p.audio_packets = stats.audio_packets;
  if (stats.sps) {
    p.profile = std::string(proto::to_string(
        proto::classify_h264_profile(stats.sps->profile_idc, stats.sps->constraint_flags)));
    p.level = stats.sps->level_idc;
    p.width = static_cast<int>(stats.sps->width);
    p.height = static_cast<int>(stats.sps->height);
  }
  if (publisher_) {
    auto found = sessions_.find(*publisher_);
    if (found != sessions_.end()) {
      p.remote_address = found->second->remote;
    }
    simulcast_status(p);
  } else if (upstream_ && upstream_->feeding) {
    p.remote_address = upstream_->remote;
  }
  if (source_live()) {
    if (samples_.size() >= 2) {
      const auto& first = samples_.front();
      const auto& last = samples_.back();
      p.video_bitrate_kbps = kbps(last.video_bytes - first.video_bytes, last.at - first.at);
      p.audio_bitrate_kbps = kbps(last.audio_bytes - first.audio_bytes, last.at - first.at);
    }
  }
  return out;
}

engine::EgressId RelayChannel::attach(Instant now, const engine::RelayEgressFormat& format,
                                      engine::RelaySink& sink) {
  const engine::EgressId id = relay_.add_egress(now, format, sink);
  ++external_legs_;
  after_relay_input(now);
  return id;
}

void RelayChannel::detach(engine::EgressId id) {
  relay_.remove_egress(id);
  if (external_legs_ > 0) {
    --external_legs_;
  }
  relay_timer_->rearm(next_timeout());
}

void RelayChannel::feedback(Instant now, engine::EgressId id,
                            std::span<const proto::RtcpPacket> packets) {
  relay_.handle_egress_rtcp(now, id, packets);
  after_relay_input(now);
}

std::optional<engine::RelayEgressStats> RelayChannel::stats(engine::EgressId id) const {
  return relay_.egress_stats(id);
}

std::string RelayChannel::h264_profile_level_id() const {
  const auto stats = relay_.source_stats();
  if (stats.sps) {
    // The SPS is the truth; OBS signals 42e01f whatever its encoder runs (DESIGN.md §3).
    char hex[7];
    std::snprintf(hex, sizeof hex, "%02x%02x%02x", stats.sps->profile_idc,
                  stats.sps->constraint_flags, stats.sps->level_idc);
    return hex;
  }
  if (publisher_) {
    auto found = sessions_.find(*publisher_);
    if (found != sessions_.end() && !found->second->media.video.h264_profile_level_id.empty()) {
      return found->second->media.video.h264_profile_level_id;
    }
  }
  return "42e01f";
}

}  // namespace ivs::app
