// Media from files as paced RTP: an H.264 Annex-B elementary stream (ITU-T H.264 Annex B,
// packetized per RFC 6184 mode 1) and Ogg Opus audio (RFC 7845, one packet per RTP payload per
// RFC 7587), for the test publisher.
//
// Why it looks like this:
// - Pacing is by media timestamps, not by wall clock ticks: video frame k is due at
//   start + k/fps (90 kHz clock), audio packet n at start + samples_before_n/48000. The caller
//   asks due(now) from any timer; late calls catch up in order, so a slow tick never drifts.
// - The files loop seamlessly: the frame and sample counters never reset, so RTP timestamps and
//   sequence numbers keep increasing across loops (a receiver sees one continuous stream; the
//   first access unit of the file is an IDR, so the loop point decodes). Audio longer than the
//   video is cut to the video's duration, so both loop on the same period and stay in sync.
// - Time is an input (Instant for pacing, WallTime for sender reports) so the pacing and the
//   SR arithmetic are unit-tested on a simulated clock.
// - A history of sent video packets answers NACKs (RFC 4585 §6.2.1); a PLI (§6.3.1) jumps to the
//   next IDR of the file so the receiver gets a keyframe at once (the test content's clock jumps
//   forward a little, which nobody minds).
#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <vector>

#include "proto/bytes.hpp"
#include "proto/result.hpp"
#include "proto/time.hpp"

namespace ivs::app {

struct H264AccessUnit {
  std::vector<Bytes> nal_units;  // without start codes; AUD removed
  bool keyframe = false;         // holds an IDR slice
};

// Splits an Annex-B stream into access units (H.264 §7.4.1.2.3): a new unit starts at a
// non-VCL NAL unit (SPS, PPS, SEI, AUD) that follows a slice, or at a slice whose
// first_mb_in_slice is 0 following a slice. Works for one or several slices per picture.
Result<std::vector<H264AccessUnit>> split_access_units(ByteSpan annex_b);

struct OpusPacket {
  Bytes data;
  std::uint32_t samples = 960;  // at 48 kHz, from the TOC byte
};

// Loads the files; errors name the file and what is wrong with it.
Result<std::vector<H264AccessUnit>> load_h264_file(const std::string& path);
Result<std::vector<OpusPacket>> load_ogg_opus_file(const std::string& path);

class MediaFileSource {
 public:
  struct Options {
    std::uint8_t video_payload_type = 96;
    std::optional<std::uint8_t> audio_payload_type;  // none: video only
    std::uint32_t video_ssrc = 0;
    std::uint32_t audio_ssrc = 0;
    std::uint16_t video_sequence = 0;  // first sequence numbers and timestamps (random per run)
    std::uint16_t audio_sequence = 0;
    std::uint32_t video_timestamp = 0;
    std::uint32_t audio_timestamp = 0;
    double fps = 30;
    std::size_t max_payload = 1200;
    std::size_t history_packets = 2048;
    // false: every NAL unit in packets of its own, never a STAP-A, as OBS's libdatachannel
    // packetizer sends SPS and PPS (DESIGN.md §3); true: libwebrtc's aggregation.
    bool aggregate_nal_units = true;
  };

  struct Stats {
    std::uint64_t video_frames = 0;
    std::uint64_t video_packets = 0;
    std::uint64_t audio_packets = 0;
    std::uint64_t keyframes = 0;
    std::uint64_t loops = 0;  // times the video wrapped to its start
    std::uint64_t video_octets = 0;
    std::uint64_t audio_octets = 0;
    std::uint64_t retransmitted = 0;
    std::uint64_t keyframe_requests = 0;
  };

  // `video` must be non-empty and start with a keyframe; `audio` may be empty.
  MediaFileSource(std::vector<H264AccessUnit> video, std::vector<OpusPacket> audio,
                  Options options);

  // Every RTP packet due at or before `now`, in send order. The first call fixes the start.
  std::vector<Bytes> due(Instant now);
  // When the next packet falls due (nullopt before the first due()).
  std::optional<Instant> next_due() const;

  // The stored packet for a NACKed sequence number of `ssrc`, counted as retransmitted.
  std::optional<Bytes> retransmission(std::uint32_t ssrc, std::uint16_t sequence);
  // PLI/FIR: continue from the next IDR of the file.
  void request_keyframe();

  // RTCP sender reports (RFC 3550 §6.4.1) for each stream that sent something, with the RTP
  // timestamp extrapolated to `now` so receivers can map both streams to one wall clock.
  std::vector<Bytes> sender_reports(Instant now, WallTime wall) const;

  const Stats& stats() const { return stats_; }

 private:
  void send_video_frame(std::vector<Bytes>& out);
  void send_audio_packet(std::vector<Bytes>& out);
  Instant video_due(std::uint64_t frame) const;
  Instant audio_due(std::uint64_t samples) const;
  void remember(std::uint16_t sequence, const Bytes& packet);

  std::vector<H264AccessUnit> video_;
  std::vector<OpusPacket> audio_;
  Options options_;
  Stats stats_;
  std::optional<Instant> start_;
  std::size_t next_unit_ = 0;
  std::size_t next_audio_ = 0;
  std::uint64_t frames_ = 0;         // video frames sent since start (never reset)
  std::uint64_t audio_samples_ = 0;  // audio samples sent since start (never reset)
  std::uint16_t video_sequence_ = 0;
  std::uint16_t audio_sequence_ = 0;
  std::deque<std::pair<std::uint16_t, Bytes>> history_;
};

}  // namespace ivs::app
