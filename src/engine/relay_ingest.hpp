// The ingest side of the relay (DESIGN.md §5), on the thread that receives the publisher: RFC
// 3550 §A.1 sequence unwrapping, §A.3 loss and §6.4.2 receiver reports, RFC 4585 §6.2.1 NACKs
// and §6.3.1 PLI / RFC 5104 §4.3.1 FIR toward the publisher (rate-limited), the SPS check
// against IVS limits, and a GOP cache of its own that tells when the cached keyframe has grown
// stale. Each accepted packet becomes one immutable RelayPacket for the fan-out shards
// (relay_fanout.hpp); it never touches a leg.
//
// Source generations: every time an ingest stream's numbering changes (a new publisher epoch or
// a new SSRC within one), its track gets a fresh generation number, carried in each packet's
// IngestKey. A shard's leg stream whose offsets belong to an older generation computes new ones
// from its own last sequence number and timestamp before it sends, so continuity costs one
// integer compare per packet per leg.
#pragma once

#include <deque>
#include <optional>
#include <span>
#include <vector>

#include "engine/gop_cache.hpp"
#include "engine/relay.hpp"
#include "engine/relay_packet.hpp"
#include "engine/relay_source.hpp"
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

class RelayIngest {
 public:
  explicit RelayIngest(RelayConfig config);
  RelayIngest(const RelayIngest&) = delete;
  RelayIngest& operator=(const RelayIngest&) = delete;

  // start_publisher begins a new epoch (also when one is live: it replaces it). `feedback`
  // receives NACK/PLI/FIR/RR for the publisher until stop_publisher.
  void start_publisher(Instant now, const RelaySourceFormat& format, RelaySink& feedback);
  void stop_publisher();
  bool live() const { return live_; }
  const RelaySourceFormat& format() const { return format_; }

  // Decrypted RTP from the publisher: the packet for the fan-out shards, or null when it is
  // dropped (malformed: counted; other payload types, duplicates, a retired SSRC's stragglers).
  RelayPacketPtr handle_rtp(Instant now, MediaKind kind, ByteSpan packet);
  void handle_rtcp(Instant now, std::span<const proto::RtcpPacket> packets);
  void switch_video_ssrc(std::uint32_t ssrc);
  // A shard's leg wants a keyframe: one PLI/FIR per interval however many ask.
  void request_keyframe(Instant now);

  void handle_timeout(Instant now);
  std::optional<Instant> poll_timeout() const;
  std::optional<RelayEvent> poll_event();
  const RelaySourceStats& stats() const { return stats_; }

 private:
  // Reception bookkeeping; the packet's name in the ingest history, or nothing to drop it.
  std::optional<IngestKey> accept_packet(Instant now, RelaySourceTrack& track,
                                         const proto::RtpView& view);
  void inspect_sps(ByteSpan payload, const proto::H264PayloadInfo& info);
  void track_keyframes(Instant now, const RelayPacketPtr& packet, bool has_payload);
  // relay_ingest_feedback.cpp: RTCP toward the publisher.
  void send_keyframe_request(Instant now);
  void send_due_nacks(Instant now, RelaySourceTrack& track);
  void send_receiver_report(Instant now);

  RelayConfig config_;
  bool live_ = false;
  RelaySourceFormat format_;
  RelaySink* feedback_ = nullptr;
  std::uint32_t generations_ = 0;
  RelaySourceTrack video_;
  RelaySourceTrack audio_;
  Bytes last_sps_;
  GopCache gop_;  // what the shards cache too: its age says when to ask for a fresh keyframe
  KeyframeRequestLimiter keyframe_limiter_;
  bool keyframe_wanted_without_ssrc_ = false;
  std::uint8_t fir_sequence_ = 0;
  std::optional<Instant> next_receiver_report_at_;
  RelaySourceStats stats_;
  std::deque<RelayEvent> events_;
  Bytes rtcp_scratch_;
  std::vector<std::uint16_t> nack_scratch_;
};

}  // namespace ivs::engine
