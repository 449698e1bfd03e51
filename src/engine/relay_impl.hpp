// The inside of engine::Relay, shared by relay.cpp (publisher input, fan-out, the public
// methods) and relay_upstream.cpp (feedback toward the publisher, timers). Not part of the
// interface: only those two files include it.
//
// Source generations: every time an ingest stream's numbering changes (a new publisher epoch or
// a new SSRC within one), its track gets a fresh generation number. A leg stream whose offsets
// belong to an older generation computes new ones from its own last sequence number and
// timestamp before it sends, so continuity costs one integer compare per packet per leg.
#pragma once

#include <algorithm>

#include <deque>
#include <memory>
#include <optional>
#include <vector>

#include "engine/gop_cache.hpp"
#include "engine/relay.hpp"
#include "engine/relay_history.hpp"
#include "engine/relay_leg.hpp"
#include "engine/relay_source.hpp"
#include "proto/h264_payload.hpp"
#include "proto/rtp_packet.hpp"

namespace ivs::engine {

// One ingest track of the current publisher.
struct RelaySourceTrack {
  bool present = false;
  std::uint8_t payload_type = 0;
  std::uint32_t clock_rate = 0;
  bool nack_enabled = false;
  std::uint32_t generation = 0;
  std::optional<std::uint32_t> retired_ssrc;  // the SSRC this one replaced: stragglers dropped
  RelayInboundStream stream;
  NackTracker nacks;

  void configure(const NegotiatedTrack* track, std::uint32_t next_generation) {
    present = track != nullptr;
    payload_type = track ? track->payload_type : 0;
    clock_rate = track ? track->clock_rate : 0;
    nack_enabled = track && track->feedback.nack;
    generation = next_generation;
    retired_ssrc.reset();
    stream = RelayInboundStream{};
    nacks.clear();
  }
};

struct Relay::Impl {
  explicit Impl(RelayConfig relay_config)
      : config(relay_config),
        gop(relay_config.gop_cache_max_packets, relay_config.gop_cache_max_bytes),
        keyframe_limiter(relay_config.upstream_keyframe_request_interval),
        video_history(relay_config.video_history_packets),
        audio_history(relay_config.audio_history_packets) {
    leg_scratch.reserve(kLegScratchBytes);
  }

  // Larger than any RTP packet in a 1500-byte MTU datagram, so the shared rewrite buffer does not
  // reallocate once the relay runs.
  static constexpr std::size_t kLegScratchBytes = 1500;

  RelayConfig config;
  bool live = false;
  RelaySourceFormat format;
  RelaySink* feedback = nullptr;
  std::uint32_t generations = 0;
  RelaySourceTrack video;
  RelaySourceTrack audio;
  Bytes last_sps;
  GopCache gop;
  KeyframeRequestLimiter keyframe_limiter;
  bool keyframe_wanted_without_ssrc = false;
  std::uint8_t fir_sequence = 0;
  std::optional<Instant> next_receiver_report_at;
  RelaySourceStats stats;
  std::deque<RelayEvent> events;

  // The last ingest packets per track, held once for every leg's NACK answers, and the buffer
  // every leg rewrites a packet in (relay_history.hpp, relay_leg.hpp).
  IngestHistory video_history;
  IngestHistory audio_history;
  Bytes leg_scratch;
  LegShared leg_shared() { return {&video_history, &audio_history, &leg_scratch}; }

  std::vector<std::unique_ptr<RelayLeg>> legs;
  EgressId next_egress_id = 1;
  std::optional<Instant> next_sender_report_at;
  Bytes rtcp_scratch;
  std::vector<std::uint16_t> nack_scratch;

  std::uint64_t ntp_at(Instant now) const {
    const auto elapsed =
        std::chrono::duration_cast<std::chrono::microseconds>(now - config.reference_instant);
    return to_ntp(WallTime{config.wall_at_reference.unix_micros + elapsed.count()});
  }
  // Legs are appended with increasing ids and removed in place, so `legs` stays sorted by id:
  // a binary search, since every leg's RTCP and every status snapshot looks legs up by id.
  RelayLeg* find_leg(EgressId id) const {
    const auto found =
        std::lower_bound(legs.begin(), legs.end(), id,
                         [](const auto& leg, EgressId wanted) { return leg->id() < wanted; });
    return found != legs.end() && (*found)->id() == id ? found->get() : nullptr;
  }

  void start_publisher(Instant now, const RelaySourceFormat& source, RelaySink& sink);
  void stop_publisher();
  void handle_rtp(Instant now, MediaKind kind, ByteSpan packet);
  // Reception bookkeeping; the packet's name in the ingest history, or nothing to drop it.
  std::optional<IngestKey> accept_packet(Instant now, RelaySourceTrack& track,
                                         const proto::RtpView& view);
  void inspect_sps(ByteSpan payload, const proto::H264PayloadInfo& info);
  void fan_out_video(Instant now, const proto::RtpView& view, IngestKey key, bool has_payload,
                     const proto::H264PayloadInfo& info);
  void fan_out_audio(Instant now, const proto::RtpView& view, IngestKey key);
  void keep_gop_fresh(Instant now, const proto::H264PayloadInfo& info);
  void start_leg_video(Instant now, RelayLeg& leg, const proto::RtpView& current);
  void request_keyframe(Instant now);
  void send_keyframe_request(Instant now);
  void send_due_nacks(Instant now, RelaySourceTrack& track);
  void send_receiver_report(Instant now);
  void handle_timeout(Instant now);
  void recompute_sender_report_deadline();
  std::optional<Instant> poll_timeout() const;
};

}  // namespace ivs::engine
