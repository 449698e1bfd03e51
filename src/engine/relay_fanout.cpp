// engine::RelayFanout: see relay_fanout.hpp for the design and docs/relay.md for the behaviour.
#include "engine/relay_fanout.hpp"

#include <algorithm>

namespace ivs::engine {
namespace {

// Larger than any RTP packet in a 1500-byte MTU datagram, so the shared rewrite buffer does not
// reallocate once the relay runs.
constexpr std::size_t kLegScratchBytes = 1500;

}  // namespace

RelayFanout::RelayFanout(RelayConfig config, EgressId first_id)
    : config_(config),
      gop_(config.gop_cache_max_packets, config.gop_cache_max_bytes),
      video_history_(config.video_history_packets),
      audio_history_(config.audio_history_packets),
      next_egress_id_(first_id) {
  leg_scratch_.reserve(kLegScratchBytes);
}

void RelayFanout::start_source(const RelaySourceFormat& format) {
  live_ = true;
  format_ = format;
  gop_.reset();
  video_generation_ = 0;
  for (auto& leg : legs_) {
    leg->bind_source(format, config_);
    leg->set_video_waiting(true);
  }
}

void RelayFanout::stop_source() {
  live_ = false;
  gop_.reset();
}

void RelayFanout::handle_packet(Instant now, const RelayPacketPtr& shared) {
  if (!live_ || !shared) {
    return;
  }
  const RelayPacket& packet = *shared;
  if (packet.kind == MediaKind::kVideo) {
    if (packet.key.generation != video_generation_) {
      // A new numbering (new SSRC or epoch): the cache and every leg start at its next keyframe.
      video_generation_ = packet.key.generation;
      gop_.reset();
      for (auto& leg : legs_) {
        leg->set_video_waiting(true);
      }
    }
    video_history_.store(shared);
    // Padding-only packets (a browser's bandwidth probes) are cached too: they hold sequence
    // numbers inside the GOP, and a replay without them showed a joining stage 10–50 "lost"
    // packets that it then NACKed.
    const bool new_keyframe = gop_.add(shared) == GopCache::Added::kNewKeyframe;
    fan_out_video(now, packet, new_keyframe);
  } else {
    audio_history_.store(shared);
    fan_out_audio(now, packet);
  }
}

void RelayFanout::fan_out_video(Instant now, const RelayPacket& packet, bool new_keyframe) {
  for (auto& leg : legs_) {
    if (!leg->video_waiting() && !leg->video().started(video_generation_)) {
      leg->set_video_waiting(true);
    }
    if (leg->video_waiting()) {
      if (new_keyframe) {
        start_leg_video(now, *leg, &packet);
      }
      continue;
    }
    leg->count_sent(leg->video().send(now, packet.view, packet.key, packet.arrival, leg->sink()));
  }
}

void RelayFanout::fan_out_audio(Instant now, const RelayPacket& packet) {
  for (auto& leg : legs_) {
    LegStream* stream = leg->audio();
    if (stream == nullptr) {
      continue;
    }
    if (!stream->started(packet.key.generation)) {
      stream->start(packet.key.generation, packet.view.sequence_number, packet.view.timestamp,
                    packet.arrival);
    }
    leg->count_sent(stream->send(now, packet.view, packet.key, packet.arrival, leg->sink()));
  }
}

// Starts a leg's video at the cached keyframe (renumbered to follow its last packet), or at
// `current` when the cache could not hold the keyframe that packet completed.
void RelayFanout::start_leg_video(Instant now, RelayLeg& leg, const RelayPacket* current) {
  LegStream& stream = leg.video();
  if (gop_.valid()) {
    // The shard's cache holds the shared packets (handle_packet), already parsed and named.
    const RelayPacket& front = *gop_.entries().front().shared;
    stream.start(video_generation_, front.view.sequence_number, front.view.timestamp,
                 front.arrival);
    for (const auto& entry : gop_.entries()) {
      const RelayPacket& cached = *entry.shared;
      leg.count_sent(stream.send(now, cached.view, cached.key, cached.arrival, leg.sink()));
    }
  } else if (current != nullptr) {
    stream.start(video_generation_, current->view.sequence_number, current->view.timestamp,
                 current->arrival);
    leg.count_sent(stream.send(now, current->view, current->key, current->arrival, leg.sink()));
  } else {
    return;
  }
  leg.set_video_waiting(false);
  if (!leg.stats().first_keyframe_sent_at) {
    leg.stats().first_keyframe_sent_at = now;
  }
}

EgressId RelayFanout::add_egress(Instant now, const RelayEgressFormat& format, RelaySink& sink) {
  const EgressId id = next_egress_id_++;
  legs_.push_back(
      std::make_unique<RelayLeg>(id, format_, format, sink, config_, leg_shared(), now));
  RelayLeg& leg = *legs_.back();
  if (!next_sender_report_at_ || leg.next_sender_report_at() < *next_sender_report_at_) {
    next_sender_report_at_ = leg.next_sender_report_at();
  }
  if (live_ && gop_.valid()) {
    leg.stats().started_from_gop_cache = true;
    start_leg_video(now, leg, nullptr);
  } else {
    leg.set_video_waiting(true);
    keyframe_wanted_ = true;
  }
  return id;
}

void RelayFanout::remove_egress(EgressId id) {
  legs_.erase(
      std::remove_if(legs_.begin(), legs_.end(), [id](const auto& leg) { return leg->id() == id; }),
      legs_.end());
  recompute_sender_report_deadline();
}

void RelayFanout::handle_egress_rtcp(Instant now, EgressId id,
                                     std::span<const proto::RtcpPacket> packets) {
  RelayLeg* leg = find_leg(id);
  if (leg != nullptr && leg->handle_rtcp(now, ntp_at(now), packets)) {
    keyframe_wanted_ = true;
  }
}

std::optional<RelayEgressStats> RelayFanout::egress_stats(EgressId id) const {
  const RelayLeg* leg = find_leg(id);
  if (leg == nullptr) {
    return std::nullopt;
  }
  return leg->stats();
}

void RelayFanout::handle_timeout(Instant now) {
  if (!next_sender_report_at_ || now < *next_sender_report_at_) {
    return;
  }
  const std::uint64_t ntp_now = ntp_at(now);
  for (auto& leg : legs_) {
    leg->send_sender_reports_if_due(now, ntp_now, config_.sender_report_interval, rtcp_scratch_);
  }
  recompute_sender_report_deadline();
}

bool RelayFanout::take_keyframe_wanted() {
  const bool wanted = keyframe_wanted_;
  keyframe_wanted_ = false;
  return wanted;
}

RelayLeg* RelayFanout::find_leg(EgressId id) const {
  const auto found =
      std::lower_bound(legs_.begin(), legs_.end(), id,
                       [](const auto& leg, EgressId wanted) { return leg->id() < wanted; });
  return found != legs_.end() && (*found)->id() == id ? found->get() : nullptr;
}

void RelayFanout::recompute_sender_report_deadline() {
  next_sender_report_at_.reset();
  for (const auto& leg : legs_) {
    if (!next_sender_report_at_ || leg->next_sender_report_at() < *next_sender_report_at_) {
      next_sender_report_at_ = leg->next_sender_report_at();
    }
  }
}

std::uint64_t RelayFanout::ntp_at(Instant now) const {
  const auto elapsed =
      std::chrono::duration_cast<std::chrono::microseconds>(now - config_.reference_instant);
  return to_ntp(WallTime{config_.wall_at_reference.unix_micros + elapsed.count()});
}

}  // namespace ivs::engine
