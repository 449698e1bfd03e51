// engine::RelayIngest: see relay_ingest.hpp; relay_ingest_feedback.cpp has the RTCP it sends
// toward the publisher, docs/relay.md the behaviour in prose.
#include "engine/relay_ingest.hpp"

#include <algorithm>

#include "proto/h264_profile.hpp"

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

}  // namespace

RelayIngest::RelayIngest(RelayConfig config)
    : config_(config),
      gop_(config.gop_cache_max_packets, config.gop_cache_max_bytes),
      keyframe_limiter_(config.upstream_keyframe_request_interval) {}

void RelayIngest::start_publisher(Instant now, const RelaySourceFormat& format,
                                  RelaySink& feedback) {
  live_ = true;
  format_ = format;
  feedback_ = &feedback;
  const std::uint32_t epoch = stats_.epoch + 1;
  // Counters describe the current publisher; the epoch counts them all.
  stats_ = RelaySourceStats{};
  stats_.epoch = epoch;
  stats_.live = true;
  video_.configure(&format_.video, ++generations_);
  audio_.configure(format_.audio ? &*format_.audio : nullptr, ++generations_);
  last_sps_.clear();
  gop_.reset();
  keyframe_limiter_ = KeyframeRequestLimiter(config_.upstream_keyframe_request_interval);
  keyframe_wanted_without_ssrc_ = false;
  next_receiver_report_at_ = now + config_.receiver_report_interval;
  events_.push_back(RelayPublisherSwitched{epoch});
}

void RelayIngest::stop_publisher() {
  live_ = false;
  stats_.live = false;
  feedback_ = nullptr;
  video_.nacks.clear();
  audio_.nacks.clear();
  gop_.reset();
  stats_.gop_cache_packets = 0;
  keyframe_limiter_.reset();
  keyframe_wanted_without_ssrc_ = false;
  next_receiver_report_at_.reset();
}

RelayPacketPtr RelayIngest::handle_rtp(Instant now, MediaKind kind, ByteSpan packet) {
  if (!live_) {
    return nullptr;
  }
  auto parsed = proto::parse_rtp(packet);
  if (!parsed) {
    ++stats_.malformed_dropped;
    return nullptr;
  }
  const proto::RtpView& view = *parsed;
  if (kind == MediaKind::kUnknown) {
    kind = view.payload_type == video_.payload_type ? MediaKind::kVideo : MediaKind::kAudio;
  }
  RelaySourceTrack& track = kind == MediaKind::kVideo ? video_ : audio_;
  // Other payload types (RTX, RED, FEC a publisher sends anyway) are not relayed.
  if (!track.present || view.payload_type != track.payload_type) {
    return nullptr;
  }
  proto::H264PayloadInfo info;
  const bool has_payload = view.payload_size > 0;
  if (kind == MediaKind::kVideo && has_payload) {
    auto inspected = proto::inspect_h264_payload(view.payload());
    if (!inspected) {
      ++stats_.malformed_dropped;
      return nullptr;
    }
    info = *inspected;
  }
  const auto key = accept_packet(now, track, view);
  if (!key) {
    return nullptr;
  }
  RelayPacketPtr accepted = make_relay_packet(kind, *key, now, info, view);
  if (kind == MediaKind::kVideo) {
    ++stats_.video_packets;
    stats_.video_bytes += packet.size();
    inspect_sps(view.payload(), info);
    track_keyframes(now, accepted, has_payload);
  } else {
    ++stats_.audio_packets;
    stats_.audio_bytes += packet.size();
  }
  return accepted;
}

// Reception bookkeeping: SSRC changes, loss detection and NACKs. Nothing drops the packet.
std::optional<IngestKey> RelayIngest::accept_packet(Instant now, RelaySourceTrack& track,
                                                    const proto::RtpView& view) {
  if (track.retired_ssrc == view.ssrc) {
    return std::nullopt;
  }
  if (!track.stream.active() || track.stream.ssrc() != view.ssrc) {
    if (track.stream.active()) {
      // A new SSRC within the epoch: a new numbering, like a new publisher for this track.
      track.retired_ssrc = track.stream.ssrc();
      track.generation = ++generations_;
      track.nacks.clear();
      if (&track == &video_) {
        gop_.reset();
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
    stats_.packets_lost += track.nacks.add_gap(now, received.gap_first, received.gap_count);
    send_due_nacks(now, track);
  }
  if (&track == &video_ && keyframe_wanted_without_ssrc_) {
    keyframe_wanted_without_ssrc_ = false;
    request_keyframe(now);
  }
  return IngestKey{track.generation, static_cast<std::uint32_t>(received.extended)};
}

void RelayIngest::inspect_sps(ByteSpan payload, const proto::H264PayloadInfo& info) {
  if (!info.sps) {
    return;
  }
  const ByteSpan nal = info.sps->in(payload);
  if (std::equal(nal.begin(), nal.end(), last_sps_.begin(), last_sps_.end())) {
    return;
  }
  last_sps_.assign(nal.begin(), nal.end());
  auto sps = proto::parse_h264_sps(nal);
  if (!sps) {
    return;
  }
  auto violations = describe_violations(proto::check_ivs_video_limits(*sps));
  stats_.sps = *sps;
  stats_.ivs_violations = violations;
  events_.push_back(RelaySpsChanged{*sps, std::move(violations)});
}

// Follows the keyframes in the ingest side's own GOP cache (the shards keep the same one), and
// asks for a keyframe when a delta-frame packet finds the cache empty (no keyframe seen yet, or
// an overflow emptied it), or when the cached GOP has grown older than gop_refresh_age, so what
// a joining leg is sent stays short (RelayConfig::gop_refresh_age). Parameter sets and IDR
// slices arriving while the cache is empty are the keyframe on its way, not a reason to ask.
// The limiter turns the per-packet calls into at most one request per interval.
void RelayIngest::track_keyframes(Instant now, const RelayPacketPtr& packet, bool has_payload) {
  const proto::H264PayloadInfo& info = packet->info;
  // Padding-only packets are cached too, as the shards do (relay_fanout.cpp). The cache holds the
  // shared packet, so it costs this side no copy.
  if (gop_.add(packet) == GopCache::Added::kNewKeyframe) {
    ++stats_.keyframes;
    keyframe_limiter_.reset();  // a request held back by the rate limit is answered by this one
  }
  stats_.gop_cache_packets = gop_.packets();
  if (!has_payload) {
    return;
  }
  if (!gop_.valid()) {
    if (!info.is_keyframe()) {
      request_keyframe(now);
    }
    return;
  }
  if (now - gop_.entries().front().arrival >= config_.gop_refresh_age) {
    request_keyframe(now);
  }
}

void RelayIngest::handle_rtcp(Instant now, std::span<const proto::RtcpPacket> packets) {
  for (const auto& packet : packets) {
    if (const auto* report = std::get_if<proto::RtcpSenderReport>(&packet)) {
      for (RelaySourceTrack* track : {&video_, &audio_}) {
        if (track->stream.active() && track->stream.ssrc() == report->sender_ssrc) {
          track->stream.on_sender_report(now, report->ntp_timestamp);
        }
      }
    }
  }
}

void RelayIngest::switch_video_ssrc(std::uint32_t ssrc) {
  if (video_.retired_ssrc == ssrc) {
    video_.retired_ssrc.reset();
  }
}

std::optional<RelayEvent> RelayIngest::poll_event() {
  if (events_.empty()) {
    return std::nullopt;
  }
  RelayEvent event = std::move(events_.front());
  events_.pop_front();
  return event;
}

}  // namespace ivs::engine
