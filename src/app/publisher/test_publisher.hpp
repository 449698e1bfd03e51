// `media-server publish`: a WHIP (RFC 9725) test publisher that pushes H.264 + Opus from files
// (or generated, cached test media) to any WHIP endpoint: our `serve` ingest, the local `stage`
// role, or a real Amazon IVS stage with a participant token.
//
//   make_egress_offer ─► POST (Bearer token, application/sdp) ─► 201 answer + Location
//   accept_egress_answer ─► client PeerSession (full ICE, controlling; DTLS role from a=setup)
//   Connected ─► MediaFileSource paced by timestamps; NACK ─► history; PLI/FIR ─► next IDR;
//                SR every second
//   --seconds elapsed / SIGINT / SIGTERM ─► DELETE Location ─► one JSON line on stdout
//
// Why: tests and the demo need a publisher that behaves like a well-configured OBS (Baseline,
// no B-frames, 1 s GOP, 20 ms Opus) without a GUI, and it is also a second, independent user of
// the egress SDP and client session code. New random SSRCs, sequence numbers and timestamps
// each run, as a real encoder restart would produce. The UDP socket binds 127.0.0.1 when the
// URL's host is loopback (the common local case, and what netns tests have), else 0.0.0.0 with
// every interface address as a host candidate.
// Exit status: 0 when it connected (whatever happened after), 1 when it never connected or the
// POST was refused (the status and the first line of the body go to stderr), 2 for bad usage.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "app/publisher/media_file_source.hpp"
#include "proto/result.hpp"

namespace ivs::app {

struct PublisherOptions {
  std::string url;
  std::string token;
  std::string video_path;  // empty: generated test media
  std::string audio_path;  // empty: generated test media (or none when only --video is given)
  std::optional<double> seconds;
  int width = 1280;
  int height = 720;
  int fps = 30;
  int bitrate_kbps = 2500;
  // Packet pacing rate (SendPacer). Unset: 2.5 × --bitrate for generated media (libwebrtc's
  // pacing factor), off for a user's files (their bitrate is unknown); 0: off (line-rate bursts).
  std::optional<int> pace_kbps;
  double connect_timeout_seconds = 15;
  // --like obs: SPS and PPS in packets of their own and PLI/FIR ignored (counted, not
  // answered), as OBS's WHIP output does (DESIGN.md §3); the default answers a keyframe request
  // by jumping to the file's next IDR and aggregates small NAL units like libwebrtc.
  bool like_obs = false;
};

// The media a publisher sends: --video/--audio files, or the generated test stream (made once
// with ffmpeg and cached).
struct LoadedMedia {
  std::vector<H264AccessUnit> video;
  std::vector<OpusPacket> audio;
};
Result<LoadedMedia> load_media(const PublisherOptions& options);

// The pacing rate in effect: --pace-kbps, else libwebrtc's 2.5 × --bitrate for generated media
// (whose bitrate is known) and no pacing for a user's files.
int effective_pace_kbps(const PublisherOptions& options);

// Parses the arguments after the role name. Errors are one sentence for stderr.
Result<PublisherOptions> parse_publisher_args(const std::vector<std::string>& args);
std::string publisher_usage();

struct PublisherSummary {
  bool connected = false;
  std::uint64_t video_frames = 0;
  std::uint64_t video_packets = 0;
  std::uint64_t audio_packets = 0;
  std::uint64_t keyframes = 0;
  std::uint64_t nacks = 0;
  std::uint64_t retransmitted = 0;
  std::uint64_t plis = 0;
  std::uint64_t loops = 0;
  bool deleted = false;  // the DELETE was answered 2xx
  std::string resource_url;
  std::string failure;

  std::string to_json() const;
};

// True for 127.0.0.0/8, ::1 and "localhost".
bool is_loopback_host(std::string_view host);

// The role entry point (argv[0] is the role name).
int run_publish_role(int argc, char** argv);

}  // namespace ivs::app
