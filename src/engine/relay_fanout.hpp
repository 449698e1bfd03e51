// The fan-out side of the relay (DESIGN.md §5): a shard of egress legs fed by the ingest side's
// messages. RFC 3550 §5.1 per-leg rewriting and §6.4.1 sender reports, RFC 4585 §6.2.1 NACK
// answers from the shard's packet history, §6.3.1 PLI / RFC 5104 §4.3.1 FIR from legs turned
// into one "keyframe wanted" for the ingest side, and the GOP cache a joining leg starts from.
//
//   ingest side ── start_source(format) ───────────► RelayFanout ── RelaySink per leg ─► leg
//               ── handle_packet(RelayPacketPtr) ──►   history, GOP cache, legs
//               ◄─ take_keyframe_wanted() ─────────   (PLI/FIR, or a join with nothing cached)
//                                                      ◄── handle_egress_rtcp(leg feedback)
//
// Why a shard keeps its own GOP cache and history rather than asking the ingest side for them:
// it sees every packet in the order the ingest side produced them, so its cache holds exactly
// what the ingest side's would, and a leg that joins starts at once on the shard's own thread,
// with no round trip to the ingest thread. The history holds the ingest side's shared packets
// themselves (no copy); the GOP cache copies each packet of the current GOP once per shard.
//
// Everything here is single-threaded and sans-I/O like the rest of the engine: the owner of a
// shard on a media worker posts the ingest side's messages to the worker's thread.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "engine/gop_cache.hpp"
#include "engine/relay.hpp"
#include "engine/relay_history.hpp"
#include "engine/relay_leg.hpp"
#include "engine/relay_packet.hpp"

namespace ivs::engine {

class RelayFanout {
 public:
  // Leg ids start at `first_id` and count up, so shards given distinct ranges never reuse one.
  explicit RelayFanout(RelayConfig config, EgressId first_id = 1);
  RelayFanout(const RelayFanout&) = delete;
  RelayFanout& operator=(const RelayFanout&) = delete;

  // Messages from the ingest side, in the order it produced them.
  // A publisher epoch begins: legs rebind to its format and wait for a keyframe.
  void start_source(const RelaySourceFormat& format);
  void stop_source();
  bool has_source() const { return live_; }
  void handle_packet(Instant now, const RelayPacketPtr& packet);

  // Legs. A new leg starts from the GOP cache when there is one, else at the next keyframe (and
  // take_keyframe_wanted() turns true).
  EgressId add_egress(Instant now, const RelayEgressFormat& format, RelaySink& sink);
  void remove_egress(EgressId id);
  void handle_egress_rtcp(Instant now, EgressId id, std::span<const proto::RtcpPacket> packets);
  std::size_t egress_count() const { return legs_.size(); }
  std::optional<RelayEgressStats> egress_stats(EgressId id) const;

  // Sender reports.
  void handle_timeout(Instant now);
  std::optional<Instant> poll_timeout() const { return next_sender_report_at_; }

  // True once after any leg asked for a keyframe: the owner tells the ingest side, whose limiter
  // turns many legs' requests into one PLI or FIR toward the publisher.
  bool take_keyframe_wanted();
  std::size_t gop_cache_packets() const { return gop_.packets(); }

 private:
  RelayLeg* find_leg(EgressId id) const;
  // `new_keyframe`: this packet completed a keyframe the GOP cache now starts with.
  void fan_out_video(Instant now, const RelayPacket& packet, bool new_keyframe);
  void fan_out_audio(Instant now, const RelayPacket& packet);
  void start_leg_video(Instant now, RelayLeg& leg, const RelayPacket* current);
  void recompute_sender_report_deadline();
  std::uint64_t ntp_at(Instant now) const;
  LegShared leg_shared() { return {&video_history_, &audio_history_, &leg_scratch_}; }

  RelayConfig config_;
  bool live_ = false;
  RelaySourceFormat format_;  // the last publisher's, kept after it ends for legs added then
  // The video track's source generation the GOP cache and the legs' offsets belong to.
  std::uint32_t video_generation_ = 0;
  GopCache gop_;
  // The last ingest packets per track for the legs' NACK answers, and the buffer every leg
  // rewrites a packet in (relay_history.hpp, relay_leg.hpp).
  IngestHistory video_history_;
  IngestHistory audio_history_;
  Bytes leg_scratch_;
  // Sorted by id (appended with increasing ids, removed in place): found by binary search.
  std::vector<std::unique_ptr<RelayLeg>> legs_;
  EgressId next_egress_id_;
  std::optional<Instant> next_sender_report_at_;
  Bytes rtcp_scratch_;
  bool keyframe_wanted_ = false;
};

}  // namespace ivs::engine
