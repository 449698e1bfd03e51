// What /api/status (serve) and /api/stages (stage) show about one relayed stream: plain values,
// so health.cpp renders them without knowing about sessions or the relay.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "app/relay/forward_delay.hpp"
#include "proto/time.hpp"

namespace ivs::app {

// One simulcast layer of the publisher (RFC 8853), as the selector sees it.
struct SimulcastLayerStatus {
  std::string rid;
  std::optional<std::uint32_t> ssrc;  // once a packet named the rid
  std::optional<int> width;           // from the layer's own SPS
  std::optional<int> height;
  double bitrate_kbps = 0;  // the last second; 0 when inactive
  bool active = false;      // a packet within the last second
  bool fits = false;        // within IVS limits (≤ 720p, ≤ 8.5 Mbit/s)
  bool chosen = false;      // the layer stages and default WHEP viewers get
  std::uint64_t packets = 0;
};

struct PublisherStatus {
  bool live = false;        // connected and feeding the relay
  bool connecting = false;  // accepted, ICE/DTLS not finished
  std::optional<WallTime> since;
  std::string remote_address;
  // What feeds the relay: "whip" (a publisher's WHIP session), "pull" (INGEST_PULL_URL, the
  // stream pulled from another media server), "" while nothing does.
  std::string source;
  std::string codec = "H264";
  std::string profile;       // "Constrained Baseline", ... (from the SPS)
  std::optional<int> level;  // level_idc, e.g. 31
  std::optional<int> width;
  std::optional<int> height;
  double video_bitrate_kbps = 0;  // over the last few seconds
  double audio_bitrate_kbps = 0;
  std::uint64_t packets_lost = 0;
  std::uint64_t nacks_sent = 0;
  std::uint64_t keyframe_requests = 0;
  std::uint64_t keyframes = 0;
  std::uint64_t gop_cache_packets = 0;  // what a joining stage is sent first (docs/relay.md)
  std::uint64_t video_packets = 0;
  std::uint64_t audio_packets = 0;
  // Simulcast publishers only: every layer, the chosen one, how often the choice changed, and
  // the video packets that belong to no layer (RTX, an SSRC no rid named, malformed).
  std::vector<SimulcastLayerStatus> layers;
  std::optional<std::string> chosen_layer;
  std::uint64_t simulcast_switches = 0;
  std::uint64_t simulcast_dropped = 0;
  std::vector<std::string> warnings;  // IVS limit violations, last session end reason, ...
};

// INGEST_PULL_URL (app/ingest/ingest_pull.hpp): the edge's pull from its origin.
struct IngestPullStatus {
  std::string url;    // redacted
  std::string state;  // "connecting", "connected", "waiting" (between attempts), "stopped"
  std::uint64_t attempts = 0;
  std::uint64_t connects = 0;
  std::string last_error;
  std::optional<WallTime> connected_since;
  std::uint64_t rtp_received = 0;  // this attempt
};

struct ChannelStatus {
  PublisherStatus publisher;
  std::size_t viewers = 0;             // connected WHEP viewers
  std::size_t viewers_connecting = 0;  // accepted WHEP viewers not connected yet
  std::size_t egress_legs = 0;         // attached external legs (WHIP egress)
  std::size_t viewers_on_workers = 0;  // connected WHEP viewers whose legs media workers run
  std::uint64_t publishes = 0;         // accepted publisher offers
  std::uint64_t deletes = 0;           // publisher sessions ended by end_session (WHIP DELETE)
  std::uint64_t viewers_accepted = 0;
  ForwardDelayHistogram forward_delay;  // ingest receipt → every leg's socket
};

}  // namespace ivs::app
