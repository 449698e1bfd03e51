// One egress leg of the relay (DESIGN.md §5): per outgoing stream the RFC 3550 §5.1 rewrite
// (SSRC, payload type, sequence number and timestamp by offsets), the RFC 8285 extension id
// remap, a packet history for RFC 4585 §6.2.1 NACK answers, and the §6.4.1 sender report;
// per leg the handling of its feedback (NACK, PLI, FIR, receiver reports → RTT and loss).
//
// Why offsets: out = in + offset (mod 2^16 / 2^32). Reordered and retransmitted ingest packets
// land on the right outgoing number, and a gap stays a gap the stage can NACK. Renumbering by
// arrival order instead makes SRTP replay errors and NACK storms (DESIGN.md §3 pitfalls). New
// offsets are only computed when a stream (re)starts: a new leg, a new publisher epoch, or a
// new ingest SSRC. Then the sequence continues at last + 1 and the timestamp at last + the
// elapsed time in clock ticks (at least one), so a stage never sees a jump backwards.
//
// Why the history holds no bytes: a NACKed packet must be resent byte-identical (SRTP is
// configured to allow identical retransmits), but the rewritten bytes differ from the ingest
// bytes only by what this stream's configuration, offsets and send time put in. So the relay
// keeps each ingest packet once (IngestHistory, relay_history.hpp) and a leg stream keeps 16
// bytes per sent packet (LegHistory): the ingest packet's name, the outgoing sequence number and
// timestamp, the abs-send-time value stamped and which configuration was in force (the current
// one or the one before the last publisher switch). A resend rebuilds the same bytes; if the
// ingest slot was overwritten meanwhile, the NACK is counted as missed. Per packet per leg the
// work is one copy of the ingest packet into the relay's shared scratch buffer, a few in-place
// writes, a 16-byte history store and the sink call: no allocation and no map lookup.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "engine/relay.hpp"
#include "engine/relay_history.hpp"
#include "proto/rtcp_compound.hpp"
#include "proto/rtp_packet.hpp"
#include "proto/rtp_rewrite.hpp"
#include "proto/rtp_sequence.hpp"

namespace ivs::engine {

// How one outgoing stream rewrites ingest packets.
struct LegStreamConfig {
  std::uint32_t ssrc = 0;
  std::uint8_t payload_type = 0;
  std::uint32_t clock_rate = 90000;
  proto::RtpExtensionIdMap extension_map;    // ingest id → leg id, 0 = drop
  std::uint8_t ingest_mid_id = 0;            // 0: the ingest carries no mid
  std::string mid;                           // the leg's mid value
  std::uint8_t ingest_abs_send_time_id = 0;  // 0: nothing to restamp (or the leg lacks it)
  std::size_t history_packets = 0;
};

// Builds the rewrite of one ingest track onto one leg track.
LegStreamConfig make_leg_stream_config(const NegotiatedTrack& ingest, const RelayTrackFormat& leg,
                                       std::size_t history_packets);

// What every leg of one relay shares: the ingest histories and the buffer a packet is rewritten
// in. One buffer serves all legs because the relay is single-threaded and a sink never calls
// back into it (the bytes are only valid during send_rtp).
struct LegShared {
  const IngestHistory* video = nullptr;
  const IngestHistory* audio = nullptr;
  Bytes* scratch = nullptr;
};

class LegStream {
 public:
  // `ingest` and `scratch` must outlive the stream.
  LegStream(LegStreamConfig config, const IngestHistory& ingest, Bytes& scratch);

  const LegStreamConfig& config() const { return config_; }
  // True when the stream has offsets for this source generation.
  bool started(std::uint32_t generation) const { return started_ && generation_ == generation; }
  // Computes offsets so the packet (first_sequence, first_timestamp) that arrived at
  // first_arrival goes out next in this stream's spaces.
  void start(std::uint32_t generation, std::uint16_t first_sequence, std::uint32_t first_timestamp,
             Instant first_arrival);
  void stop() { started_ = false; }
  // A new publisher may use other extension ids and clock rates; the numbering state and the
  // history stay, and the configuration before the switch is kept so packets sent under it can
  // still be resent as they were.
  void reconfigure(LegStreamConfig config);

  // Rewrites a copy of the packet (parsed as `view`, which arrived at `arrival` and is kept in
  // the ingest history under `ingest`), remembers how, and hands it to the sink. Returns the
  // bytes sent.
  std::size_t send(Instant now, const proto::RtpView& view, IngestKey ingest, Instant arrival,
                   RelaySink& sink);
  // Resends a packet byte-identical. False when it is no longer in this stream's history, its
  // ingest slot was overwritten, or it was sent under a configuration no longer known.
  bool resend(std::uint16_t sequence_number, RelaySink& sink);
  std::size_t history_memory_bytes() const { return history_.memory_bytes(); }

  bool has_sent() const { return any_sent_; }
  // RFC 3550 §6.4.1 with the RTP timestamp projected to now.
  proto::RtcpSenderReport sender_report(Instant now, std::uint64_t ntp_now) const;

 private:
  // Copies `view`'s packet into the scratch buffer and rewrites it; the result is a pure
  // function of the arguments.
  MutableByteSpan rewrite(const proto::RtpView& view, const LegStreamConfig& config,
                          std::uint16_t sequence, std::uint32_t timestamp,
                          std::uint32_t abs_send_time) const;

  LegStreamConfig config_;
  std::optional<LegStreamConfig> previous_config_;  // before the last reconfigure()
  std::uint8_t config_epoch_ = 0;                   // 7 bits, advanced by reconfigure()
  const IngestHistory* ingest_;
  Bytes* scratch_;
  bool started_ = false;
  std::uint32_t generation_ = 0;
  std::uint16_t sequence_offset_ = 0;
  std::uint32_t timestamp_offset_ = 0;
  bool any_sent_ = false;
  std::uint16_t last_sequence_ = 0;
  std::uint32_t last_timestamp_ = 0;
  Instant last_timestamp_at_{};
  std::uint32_t packet_count_ = 0;
  std::uint32_t octet_count_ = 0;
  LegHistory history_;
};

class RelayLeg {
 public:
  RelayLeg(EgressId id, const RelaySourceFormat& source, const RelayEgressFormat& format,
           RelaySink& sink, const RelayConfig& config, LegShared shared, Instant now);

  EgressId id() const { return id_; }
  // Rebuilds the rewrite for a new publisher's format (called by start_publisher).
  void bind_source(const RelaySourceFormat& source, const RelayConfig& config);
  RelaySink& sink() { return *sink_; }
  LegStream& video() { return video_; }
  LegStream* audio() { return audio_ ? &*audio_ : nullptr; }
  RelayEgressStats& stats() { return stats_; }
  // The leg's NACK history in bytes (the per-leg part; the ingest copies are shared).
  std::size_t history_memory_bytes() const;
  const RelayEgressStats& stats() const { return stats_; }

  // Video is held back until a keyframe (or the GOP cache) starts it.
  bool video_waiting() const { return video_waiting_; }
  void set_video_waiting(bool waiting) { video_waiting_ = waiting; }

  void count_sent(std::size_t bytes) {
    ++stats_.packets_sent;
    stats_.bytes_sent += bytes;
  }

  // Handles the leg's feedback. Returns true when it asked for a keyframe (PLI or FIR).
  bool handle_rtcp(Instant now, std::uint64_t ntp_now, std::span<const proto::RtcpPacket> packets);

  Instant next_sender_report_at() const { return next_sender_report_at_; }
  // Sends the sender reports and SDES when due; returns whether it sent.
  bool send_sender_reports_if_due(Instant now, std::uint64_t ntp_now, Duration interval,
                                  Bytes& scratch);

 private:
  LegStream* stream_for(std::uint32_t ssrc);
  void handle_nack(const proto::RtcpNack& nack);
  void handle_report_blocks(std::span<const proto::RtcpReportBlock> blocks, std::uint64_t ntp_now);

  EgressId id_;
  RelaySink* sink_;
  RelayEgressFormat format_;
  LegShared shared_;
  LegStream video_;
  std::optional<LegStream> audio_;
  bool video_waiting_ = true;
  RelayEgressStats stats_;
  Instant next_sender_report_at_;
};

}  // namespace ivs::engine
