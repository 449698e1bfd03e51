// engine::Relay: the composition of the publisher side (relay_source.hpp), the GOP cache
// (gop_cache.hpp) and the egress legs (relay_leg.hpp); relay_impl.hpp holds the state and
// relay_upstream.cpp the feedback toward the publisher. See relay.hpp for the design and
// docs/relay.md for the behaviour in prose.
#include "engine/relay.hpp"

#include <algorithm>
#include <deque>

#include "engine/gop_cache.hpp"
#include "engine/relay_impl.hpp"
#include "engine/relay_leg.hpp"
#include "engine/relay_source.hpp"
#include "proto/h264_payload.hpp"
#include "proto/h264_profile.hpp"
#include "proto/rtp_packet.hpp"

namespace ivs::engine {
namespace {

std::vector<std::string> describe_violations(const proto::IvsVideoCheck& check) {
  std::vector<std::string> violations;
  if (!check.baseline) {
    violations.push_back("H.264 profile " + std::string(proto::to_string(check.profile)) +
                         " is not Baseline: IVS disconnects non-Baseline video");
  }
  if (!check.within_720p) {
    violations.push_back("resolution " + std::to_string(check.width) + "x" +
                         std::to_string(check.height) + " exceeds 720p: IVS disconnects it");
  }
  return violations;
}

// The ingest history name of a packet of `track` that arrived already (the GOP cache holds
// packets within a few thousand sequence numbers of the newest, so unwrapping against the newest
// is exact).
IngestKey ingest_key(const RelaySourceTrack& track, std::uint16_t sequence_number) {
  return {track.generation, static_cast<std::uint32_t>(track.stream.extend(sequence_number))};
}

}  // namespace

void Relay::Impl::start_publisher(Instant now, const RelaySourceFormat& source, RelaySink& sink) {
  live = true;
  format = source;
  feedback = &sink;
  const std::uint32_t epoch = stats.epoch + 1;
  // Counters describe the current publisher; the epoch counts them all.
  stats = RelaySourceStats{};
  stats.epoch = epoch;
  stats.live = true;
  video.configure(&format.video, ++generations);
  audio.configure(format.audio ? &*format.audio : nullptr, ++generations);
  last_sps.clear();
  gop.reset();
  keyframe_limiter = KeyframeRequestLimiter(config.upstream_keyframe_request_interval);
  keyframe_wanted_without_ssrc = false;
  next_receiver_report_at = now + config.receiver_report_interval;
  for (auto& leg : legs) {
    leg->bind_source(format, config);
    leg->set_video_waiting(true);
  }
  events.push_back(RelayPublisherSwitched{epoch});
}

void Relay::Impl::stop_publisher() {
  live = false;
  stats.live = false;
  feedback = nullptr;
  video.nacks.clear();
  audio.nacks.clear();
  gop.reset();
  stats.gop_cache_packets = 0;
  keyframe_limiter.reset();
  keyframe_wanted_without_ssrc = false;
  next_receiver_report_at.reset();
}

void Relay::Impl::handle_rtp(Instant now, MediaKind kind, ByteSpan packet) {
  if (!live) {
    return;
  }
  auto parsed = proto::parse_rtp(packet);
  if (!parsed) {
    ++stats.malformed_dropped;
    return;
  }
  const proto::RtpView& view = *parsed;
  if (kind == MediaKind::kUnknown) {
    kind = view.payload_type == video.payload_type ? MediaKind::kVideo : MediaKind::kAudio;
  }
  RelaySourceTrack& track = kind == MediaKind::kVideo ? video : audio;
  // Other payload types (RTX, RED, FEC a publisher sends anyway) are not relayed.
  if (!track.present || view.payload_type != track.payload_type) {
    return;
  }
  proto::H264PayloadInfo info;
  const bool has_payload = view.payload_size > 0;
  if (kind == MediaKind::kVideo && has_payload) {
    auto inspected = proto::inspect_h264_payload(view.payload());
    if (!inspected) {
      ++stats.malformed_dropped;
      return;
    }
    info = *inspected;
  }
  const auto key = accept_packet(now, track, view);
  if (!key) {
    return;
  }
  if (kind == MediaKind::kVideo) {
    ++stats.video_packets;
    stats.video_bytes += packet.size();
    video_history.store(*key, packet);
    inspect_sps(view.payload(), info);
    fan_out_video(now, view, *key, has_payload, info);
  } else {
    ++stats.audio_packets;
    stats.audio_bytes += packet.size();
    audio_history.store(*key, packet);
    fan_out_audio(now, view, *key);
  }
}

// Reception bookkeeping: SSRC changes, loss detection and NACKs. Nothing drops the packet.
std::optional<IngestKey> Relay::Impl::accept_packet(Instant now, RelaySourceTrack& track,
                                                    const proto::RtpView& view) {
  if (track.retired_ssrc == view.ssrc) {
    return std::nullopt;
  }
  if (!track.stream.active() || track.stream.ssrc() != view.ssrc) {
    if (track.stream.active()) {
      // A new SSRC within the epoch: a new numbering, like a new publisher for this track.
      track.retired_ssrc = track.stream.ssrc();
      track.generation = ++generations;
      track.nacks.clear();
      if (&track == &video) {
        gop.reset();
        for (auto& leg : legs) {
          leg->set_video_waiting(true);
        }
      }
    }
    track.stream.reset(view.ssrc, track.clock_rate);
  }
  const auto received = track.stream.on_packet(now, view.sequence_number, view.timestamp);
  if (received.arrival == RelayInboundStream::Arrival::kDuplicate) {
    return std::nullopt;
  }
  if (received.arrival == RelayInboundStream::Arrival::kLate) {
    track.nacks.fill(received.extended);
  } else if (received.gap_count > 0) {
    stats.packets_lost += track.nacks.add_gap(now, received.gap_first, received.gap_count);
    send_due_nacks(now, track);
  }
  if (&track == &video && keyframe_wanted_without_ssrc) {
    keyframe_wanted_without_ssrc = false;
    request_keyframe(now);
  }
  return IngestKey{track.generation, static_cast<std::uint32_t>(received.extended)};
}

void Relay::Impl::inspect_sps(ByteSpan payload, const proto::H264PayloadInfo& info) {
  if (!info.sps) {
    return;
  }
  const ByteSpan nal = info.sps->in(payload);
  if (std::equal(nal.begin(), nal.end(), last_sps.begin(), last_sps.end())) {
    return;
  }
  last_sps.assign(nal.begin(), nal.end());
  auto sps = proto::parse_h264_sps(nal);
  if (!sps) {
    return;
  }
  auto violations = describe_violations(proto::check_ivs_video_limits(*sps));
  stats.sps = *sps;
  stats.ivs_violations = violations;
  events.push_back(RelaySpsChanged{*sps, std::move(violations)});
}

void Relay::Impl::fan_out_video(Instant now, const proto::RtpView& view, IngestKey key,
                                bool has_payload, const proto::H264PayloadInfo& info) {
  // Padding-only packets (a browser's bandwidth probes) are cached too: they hold sequence
  // numbers inside the GOP, and a replay without them showed a joining stage 10–50 "lost"
  // packets that it then NACKed.
  const bool new_keyframe = gop.add(now, view, info) == GopCache::Added::kNewKeyframe;
  stats.gop_cache_packets = gop.packets();
  if (has_payload) {
    keep_gop_fresh(now, info);
  }
  if (new_keyframe) {
    ++stats.keyframes;
    keyframe_limiter.reset();  // a request held back by the rate limit is answered by this one
  }
  for (auto& leg : legs) {
    if (!leg->video_waiting() && !leg->video().started(video.generation)) {
      leg->set_video_waiting(true);
    }
    if (leg->video_waiting()) {
      if (new_keyframe) {
        start_leg_video(now, *leg, view);
      }
      continue;
    }
    leg->count_sent(leg->video().send(now, view, key, now, leg->sink()));
  }
}

void Relay::Impl::fan_out_audio(Instant now, const proto::RtpView& view, IngestKey key) {
  for (auto& leg : legs) {
    LegStream* stream = leg->audio();
    if (stream == nullptr) {
      continue;
    }
    if (!stream->started(audio.generation)) {
      stream->start(audio.generation, view.sequence_number, view.timestamp, now);
    }
    leg->count_sent(stream->send(now, view, key, now, leg->sink()));
  }
}

// Asks for a keyframe when a delta-frame packet finds the cache empty (no keyframe seen yet, or
// an overflow emptied it), or when the cached GOP has grown older than gop_refresh_age, so what
// a joining leg is sent stays short (RelayConfig::gop_refresh_age). Parameter sets and IDR
// slices arriving while the cache is empty are the keyframe on its way, not a reason to ask.
// The limiter turns the per-packet calls into at most one request per interval.
void Relay::Impl::keep_gop_fresh(Instant now, const proto::H264PayloadInfo& info) {
  if (!gop.valid()) {
    if (!info.is_keyframe()) {
      request_keyframe(now);
    }
    return;
  }
  if (now - gop.entries().front().arrival >= config.gop_refresh_age) {
    request_keyframe(now);
  }
}

// Starts a leg's video at the cached keyframe (renumbered to follow its last packet), or at the
// current packet when the cache could not hold the keyframe.
void Relay::Impl::start_leg_video(Instant now, RelayLeg& leg, const proto::RtpView& current) {
  LegStream& stream = leg.video();
  if (gop.valid()) {
    const auto& entries = gop.entries();
    auto front = proto::parse_rtp(entries.front().bytes);
    stream.start(video.generation, front->sequence_number, front->timestamp,
                 entries.front().arrival);
    for (const auto& entry : entries) {
      auto view = proto::parse_rtp(entry.bytes);
      if (view) {
        leg.count_sent(stream.send(now, *view, ingest_key(video, view->sequence_number),
                                   entry.arrival, leg.sink()));
      }
    }
  } else {
    stream.start(video.generation, current.sequence_number, current.timestamp, now);
    leg.count_sent(
        stream.send(now, current, ingest_key(video, current.sequence_number), now, leg.sink()));
  }
  leg.set_video_waiting(false);
  if (!leg.stats().first_keyframe_sent_at) {
    leg.stats().first_keyframe_sent_at = now;
  }
}

Relay::Relay(RelayConfig config) : impl_(std::make_unique<Impl>(config)) {}
Relay::~Relay() = default;

void Relay::start_publisher(Instant now, const RelaySourceFormat& format, RelaySink& feedback) {
  impl_->start_publisher(now, format, feedback);
}
void Relay::stop_publisher(Instant /*now*/) {
  impl_->stop_publisher();
}
bool Relay::has_publisher() const {
  return impl_->live;
}

void Relay::handle_publisher_rtp(Instant now, MediaKind kind, ByteSpan packet) {
  impl_->handle_rtp(now, kind, packet);
}

void Relay::handle_publisher_rtcp(Instant now, std::span<const proto::RtcpPacket> packets) {
  for (const auto& packet : packets) {
    if (const auto* report = std::get_if<proto::RtcpSenderReport>(&packet)) {
      for (RelaySourceTrack* track : {&impl_->video, &impl_->audio}) {
        if (track->stream.active() && track->stream.ssrc() == report->sender_ssrc) {
          track->stream.on_sender_report(now, report->ntp_timestamp);
        }
      }
    }
  }
}

void Relay::switch_video_ssrc(std::uint32_t ssrc) {
  if (impl_->video.retired_ssrc == ssrc) {
    impl_->video.retired_ssrc.reset();
  }
}

EgressId Relay::add_egress(Instant now, const RelayEgressFormat& format, RelaySink& sink) {
  Impl& impl = *impl_;
  const EgressId id = impl.next_egress_id++;
  impl.legs.push_back(std::make_unique<RelayLeg>(id, impl.format, format, sink, impl.config,
                                                 impl.leg_shared(), now));
  RelayLeg& leg = *impl.legs.back();
  if (!impl.next_sender_report_at || leg.next_sender_report_at() < *impl.next_sender_report_at) {
    impl.next_sender_report_at = leg.next_sender_report_at();
  }
  if (impl.live && impl.gop.valid()) {
    leg.stats().started_from_gop_cache = true;
    auto front = proto::parse_rtp(impl.gop.entries().front().bytes);
    impl.start_leg_video(now, leg, *front);
  } else {
    leg.set_video_waiting(true);
    impl.request_keyframe(now);
  }
  return id;
}

void Relay::remove_egress(EgressId id) {
  auto& legs = impl_->legs;
  legs.erase(
      std::remove_if(legs.begin(), legs.end(), [id](const auto& leg) { return leg->id() == id; }),
      legs.end());
  impl_->recompute_sender_report_deadline();
}

void Relay::handle_egress_rtcp(Instant now, EgressId id,
                               std::span<const proto::RtcpPacket> packets) {
  RelayLeg* leg = impl_->find_leg(id);
  if (leg != nullptr && leg->handle_rtcp(now, impl_->ntp_at(now), packets)) {
    impl_->request_keyframe(now);
  }
}

std::size_t Relay::egress_count() const {
  return impl_->legs.size();
}
void Relay::handle_timeout(Instant now) {
  impl_->handle_timeout(now);
}
std::optional<Instant> Relay::poll_timeout() const {
  return impl_->poll_timeout();
}

std::optional<RelayEvent> Relay::poll_event() {
  if (impl_->events.empty()) {
    return std::nullopt;
  }
  RelayEvent event = std::move(impl_->events.front());
  impl_->events.pop_front();
  return event;
}

RelaySourceStats Relay::source_stats() const {
  return impl_->stats;
}

std::optional<RelayEgressStats> Relay::egress_stats(EgressId id) const {
  const RelayLeg* leg = impl_->find_leg(id);
  if (leg == nullptr) {
    return std::nullopt;
  }
  return leg->stats();
}

}  // namespace ivs::engine
