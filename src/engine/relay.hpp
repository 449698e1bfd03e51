// The relay: one publisher's media fanned out to many egress legs (DESIGN.md §5), sans-I/O.
// RFC 3550 (RTP/RTCP: sequence/timestamp spaces, SR/RR, §A.3 loss, §A.8 jitter), RFC 4585
// (generic NACK, PLI), RFC 5104 (FIR), RFC 6184 (H.264 access units for the GOP cache).
//
//   publisher (decrypted RTP) ─► RelaySource ─ RelayPacket (shared, immutable) ─► RelayFanout
//        ▲   loss → NACK, RR        │ GOP cache (last IDR with SPS/PPS onward)      │ per leg:
//        │   PLI/FIR (rate-limited) │ SPS check against IVS limits                  │ rewrite SSRC,
//        └──────── RelaySink ◄──────┘                                               │ PT, ext ids,
//                                                                                   │ seq, ts;
//        stage / viewer ◄──────────────────── RelaySink (send_rtp / send_rtcp) ◄────┘ history,
//        NACK, PLI, FIR, RR ─► handle_egress_rtcp                                      SR
//
// Why it looks like this:
// - Output goes through RelaySink callbacks, synchronously, with a buffer the relay reuses: a
//   queue of owned packets would allocate once per packet per leg (DESIGN.md §4: no allocation
//   per packet per egress). A sink must not call back into the relay (no re-entrancy); it hands
//   the bytes to its PeerSession, which protects and queues them.
// - The ingest side (relay_ingest.hpp) and the fan-out side (relay_fanout.hpp) are separate
//   classes that talk only by messages: an immutable, shared RelayPacket per accepted ingest
//   packet, the start and end of a publisher epoch, and "keyframe wanted" flowing back. So the
//   media workers (docs/architecture.md) run one RelayFanout shard each on their own threads,
//   fed the same RelayPacket pointers. `Relay` is the single-threaded composition of the two:
//   one ingest side and the shard of the legs on the ingest thread (WHEP viewers, and every
//   stage with MEDIA_WORKERS=1).
// - Every leg owns its SSRC, payload type, extension ids, and a sequence and timestamp space that
//   never jumps: a publisher reconnect (new SSRCs, new random sequence and timestamp bases) starts
//   a new source epoch, and each leg continues from its last sequence number + 1 with the
//   timestamp projected by the wall time elapsed (DESIGN.md §3 pitfalls). A leg added mid-stream
//   starts with the GOP cache renumbered into its own space, so a stage shows video within one
//   round trip even though OBS ignores PLI.
// - Time is an input (`now`); the next wake-up is poll_timeout(); no clocks, no threads.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <variant>
#include <vector>

#include "engine/peer_session.hpp"  // MediaKind
#include "engine/sdp_negotiation.hpp"
#include "proto/bytes.hpp"
#include "proto/h264_sps.hpp"
#include "proto/rtcp_compound.hpp"
#include "proto/time.hpp"

namespace ivs::engine {

// Where the relay's output goes: one per egress leg, one for the publisher (feedback).
// Packets are plain (unencrypted) RTP/RTCP, valid only during the call.
class RelaySink {
 public:
  virtual ~RelaySink() = default;
  virtual void send_rtp(ByteSpan packet) = 0;
  virtual void send_rtcp(ByteSpan packet) = 0;
};

// The publisher's negotiated tracks (from negotiate_ingest), so the relay knows payload types,
// clock rates and the ingest extension ids it must remap.
struct RelaySourceFormat {
  NegotiatedTrack video;
  std::optional<NegotiatedTrack> audio;
};

// One outgoing track as negotiated with the leg (WHIP egress answer or WHEP viewer offer).
struct RelayTrackFormat {
  std::uint32_t ssrc = 0;
  std::uint8_t payload_type = 0;
  std::string mid;                  // written into the mid extension when negotiated
  NegotiatedExtensions extensions;  // the leg's ids; absent ones are stripped from packets
  NegotiatedFeedback feedback;

  // The leg's track as negotiated, sent under our `ssrc`.
  static RelayTrackFormat of(const NegotiatedTrack& track, std::uint32_t ssrc) {
    return {ssrc, track.payload_type, track.mid, track.extensions, track.feedback};
  }
};

struct RelayEgressFormat {
  RelayTrackFormat video;
  std::optional<RelayTrackFormat> audio;  // absent: the leg gets no audio
  std::string cname;                      // for SDES in sender reports
};

struct RelayConfig {
  Duration upstream_keyframe_request_interval = std::chrono::milliseconds(500);  // PLI/FIR limit
  Duration sender_report_interval = std::chrono::seconds(1);
  Duration receiver_report_interval = std::chrono::seconds(1);
  // NACK answers (relay_history.hpp): the last this many ingest packets per track are kept once
  // (~1.5 KB each), and each leg stream remembers as many sent packets (16 bytes each). 1024
  // video packets are > 2 s at 2.5 Mbit/s and hold a whole 2 s GOP replayed to a new leg.
  std::size_t video_history_packets = 1024;
  std::size_t audio_history_packets = 128;
  std::size_t gop_cache_max_packets = 4096;  // beyond this the cache is dropped, not grown
  std::size_t gop_cache_max_bytes = std::size_t{6} * 1024 * 1024;
  // A cached GOP older than this asks the publisher for a fresh keyframe (PLI/FIR, under the
  // rate limit above), and so does a cache left empty by an overflow. Browsers, aiortc and
  // GStreamer send keyframes only when asked, so without this their cached GOP grows from the
  // start of the stream and a joining stage is sent every frame since; OBS ignores the request
  // and keeps its own 1–2 s interval. 2 s is the longest IDR interval IVS accepts.
  Duration gop_refresh_age = std::chrono::seconds(2);
  std::uint32_t receiver_ssrc = 1;  // our SSRC in RR/NACK/PLI toward the publisher
  // The wall clock at one monotonic instant, so sender reports can carry NTP time (RFC 3550
  // §6.4.1) although the engine reads no clock: wall(now) = wall_at_reference + (now −
  // reference_instant). The owner sets both from io/clock.hpp when it creates the relay.
  Instant reference_instant{};
  WallTime wall_at_reference{};
};

using EgressId = std::uint64_t;
struct RelayPacket;

// What /api/status shows about the publisher.
struct RelaySourceStats {
  bool live = false;
  std::uint32_t epoch = 0;                  // publisher sessions seen so far
  std::optional<proto::H264Sps> sps;        // the last SPS seen (profile, level, resolution)
  std::vector<std::string> ivs_violations;  // empty when the SPS is within IVS limits
  std::uint64_t video_packets = 0;
  std::uint64_t audio_packets = 0;
  std::uint64_t video_bytes = 0;
  std::uint64_t audio_bytes = 0;
  std::uint64_t keyframes = 0;
  std::uint64_t packets_lost = 0;            // sequence gaps never filled
  std::uint64_t nacks_sent = 0;              // NACK packets sent upstream
  std::uint64_t keyframe_requests_sent = 0;  // PLI/FIR upstream (after rate limiting)
  std::uint64_t malformed_dropped = 0;
  std::size_t gop_cache_packets = 0;
};

// What /api/status shows about one egress leg.
struct RelayEgressStats {
  std::uint64_t packets_sent = 0;
  std::uint64_t bytes_sent = 0;
  std::uint64_t nacks_received = 0;          // NACK feedback packets
  std::uint64_t packets_retransmitted = 0;   // answered from history
  std::uint64_t retransmissions_missed = 0;  // asked for but no longer in history
  std::uint64_t plis_received = 0;
  std::uint64_t firs_received = 0;
  std::optional<double> rtt_ms;         // from the leg's receiver reports (LSR/DLSR)
  std::optional<double> fraction_lost;  // 0..1, the last report
  std::optional<std::int64_t> cumulative_lost;
  bool started_from_gop_cache = false;
  std::optional<Instant> first_keyframe_sent_at;
};

// Something the owner should log or show.
struct RelaySpsChanged {
  proto::H264Sps sps;
  std::vector<std::string> ivs_violations;  // log loudly when not empty
};
struct RelayPublisherSwitched {
  std::uint32_t epoch = 0;
};
using RelayEvent = std::variant<RelaySpsChanged, RelayPublisherSwitched>;

class Relay {
 public:
  explicit Relay(RelayConfig config = {});
  ~Relay();
  Relay(const Relay&) = delete;
  Relay& operator=(const Relay&) = delete;

  // The publisher. start_publisher begins a new epoch (also when one is live: it replaces it).
  // `feedback` receives NACK/PLI/FIR/RR for the publisher until stop_publisher.
  void start_publisher(Instant now, const RelaySourceFormat& format, RelaySink& feedback);
  void stop_publisher(Instant now);
  bool has_publisher() const;
  // Decrypted RTP from the publisher: inspected, cached, and fanned out to every leg of this
  // relay's own shard before this returns. Malformed packets are counted and dropped. Returns
  // the packet for other shards (null when it was dropped).
  std::shared_ptr<const RelayPacket> handle_publisher_rtp(Instant now, MediaKind kind,
                                                          ByteSpan packet);
  void handle_publisher_rtcp(Instant now, std::span<const proto::RtcpPacket> packets);
  // Simulcast (engine/simulcast_selector.hpp): the owner now feeds the video layer with this
  // SSRC. It starts a new generation like any new SSRC, also when it is the one retired by an
  // earlier switch (a layer that comes back), whose packets would otherwise be dropped.
  void switch_video_ssrc(std::uint32_t ssrc);
  // A leg of another shard asked for a keyframe (RelayFanout::take_keyframe_wanted).
  void request_keyframe(Instant now);
  const RelaySourceFormat& source_format() const;

  // Egress legs. A new leg starts from the GOP cache when there is one, else at the next
  // keyframe (and a keyframe request goes upstream).
  EgressId add_egress(Instant now, const RelayEgressFormat& format, RelaySink& sink);
  void remove_egress(EgressId id);
  void handle_egress_rtcp(Instant now, EgressId id, std::span<const proto::RtcpPacket> packets);
  std::size_t egress_count() const;

  void handle_timeout(Instant now);
  std::optional<Instant> poll_timeout() const;
  std::optional<RelayEvent> poll_event();

  RelaySourceStats source_stats() const;
  std::optional<RelayEgressStats> egress_stats(EgressId id) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace ivs::engine
