// Media helpers of the webrtc_peer interop tool: an Annex-B H.264 file as access units, an RTP
// source (H.264 at 30 fps / 90 kHz through proto's packetizer, Opus silence every 20 ms) with a
// NACK history, the minimal NACK/PLI answers, and the JSON summary the interop tests read.
// Header-only because tests/tools/*.cpp each become one executable.
#pragma once

#include <cstdio>
#include <fstream>
#include <iterator>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "engine/peer_session.hpp"
#include "proto/h264_packetizer.hpp"
#include "proto/h264_payload.hpp"
#include "proto/rtp_builder.hpp"

namespace ivs::webrtc_peer {

// The Annex-B file as access units (one slice per frame: an AU ends with its VCL NAL unit).
inline std::vector<std::vector<Bytes>> read_access_units(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  const Bytes stream((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  std::vector<std::vector<Bytes>> units;
  std::vector<Bytes> current;
  for (ByteSpan nal : proto::split_annex_b(stream)) {
    if (nal.empty()) {
      continue;
    }
    const std::uint8_t type = nal[0] & 0x1F;
    if (type == proto::h264_nal::kAccessUnitDelimiter) {
      continue;
    }
    current.emplace_back(nal.begin(), nal.end());
    if (type == proto::h264_nal::kSlice || type == proto::h264_nal::kIdrSlice) {
      units.push_back(std::move(current));
      current.clear();
    }
  }
  return units;
}

// Produces RTP for one outgoing H.264 + Opus stream pair; keeps a NACK history.
class MediaSource {
 public:
  MediaSource(const std::vector<std::vector<Bytes>>& units, std::uint8_t video_pt,
              std::optional<std::uint8_t> audio_pt, std::uint32_t video_ssrc,
              std::uint32_t audio_ssrc)
      : units_(units),
        video_pt_(video_pt),
        audio_pt_(audio_pt),
        video_ssrc_(video_ssrc),
        audio_ssrc_(audio_ssrc) {}

  // Packets due at `now` (video every 1/30 s, audio every 20 ms).
  std::vector<Bytes> due(Instant now) {
    std::vector<Bytes> out;
    if (!started_) {
      started_ = true;
      next_video_ = next_audio_ = now;
    }
    while (next_video_ <= now && !units_.empty()) {
      video_frame(out);
      next_video_ += microseconds(33333);
    }
    while (audio_pt_ && next_audio_ <= now) {
      audio_frame(out);
      next_audio_ += milliseconds(20);
    }
    return out;
  }
  std::optional<Bytes> history(std::uint16_t sequence) const {
    auto found = history_.find(sequence);
    return found == history_.end() ? std::nullopt : std::optional<Bytes>(found->second);
  }
  void restart_at_keyframe() { next_unit_ = 0; }
  std::uint64_t frames_sent = 0;

 private:
  void video_frame(std::vector<Bytes>& out) {
    const auto& unit = units_[next_unit_];
    next_unit_ = (next_unit_ + 1) % units_.size();
    std::vector<ByteSpan> nals(unit.begin(), unit.end());
    const auto payloads = proto::packetize_h264(nals, 1100);
    for (std::size_t i = 0; i < payloads.size(); ++i) {
      proto::RtpPacket packet;
      packet.payload_type = video_pt_;
      packet.sequence_number = video_sequence_++;
      packet.timestamp = video_timestamp_;
      packet.ssrc = video_ssrc_;
      packet.marker = i + 1 == payloads.size();
      packet.payload = payloads[i];
      Bytes bytes = *packet.serialize();
      history_[packet.sequence_number] = bytes;
      if (history_.size() > 1024) {
        history_.erase(history_.begin());
      }
      out.push_back(std::move(bytes));
    }
    video_timestamp_ += 3000;
    ++frames_sent;
  }
  void audio_frame(std::vector<Bytes>& out) {
    proto::RtpPacket packet;
    packet.payload_type = *audio_pt_;
    packet.sequence_number = audio_sequence_++;
    packet.timestamp = audio_timestamp_;
    packet.ssrc = audio_ssrc_;
    packet.payload = {0xF8, 0xFF, 0xFE};  // Opus TOC config 31 (CELT FB 20 ms), a silence frame
    audio_timestamp_ += 960;
    out.push_back(*packet.serialize());
  }

  const std::vector<std::vector<Bytes>>& units_;
  std::uint8_t video_pt_;
  std::optional<std::uint8_t> audio_pt_;
  std::uint32_t video_ssrc_;
  std::uint32_t audio_ssrc_;
  bool started_ = false;
  Instant next_video_{};
  Instant next_audio_{};
  std::size_t next_unit_ = 0;
  std::uint16_t video_sequence_ = 1000;
  std::uint16_t audio_sequence_ = 5000;
  std::uint32_t video_timestamp_ = 90000;
  std::uint32_t audio_timestamp_ = 48000;
  std::map<std::uint16_t, Bytes> history_;
};

// Answers NACK from the history and PLI/FIR by restarting at the first (IDR) access unit.
template <class Resend>
void answer_feedback(const engine::SessionRtcpPacket& rtcp, MediaSource& source, Resend resend,
                     std::uint64_t& nacks, std::uint64_t& plis) {
  for (const auto& packet : rtcp.packets) {
    if (const auto* nack = std::get_if<proto::RtcpNack>(&packet)) {
      for (std::uint16_t sequence : nack->sequence_numbers()) {
        ++nacks;
        if (auto bytes = source.history(sequence)) {
          resend(*bytes);
        }
      }
    } else if (std::holds_alternative<proto::RtcpPli>(packet) ||
               std::holds_alternative<proto::RtcpFir>(packet)) {
      ++plis;
      source.restart_at_keyframe();
    }
  }
}

struct Summary {
  bool connected = false;
  std::string failure;
  std::uint64_t video_packets = 0;
  std::uint64_t audio_packets = 0;
  std::uint64_t keyframes = 0;
  std::uint64_t sps = 0;
  std::uint64_t nacks_received = 0;
  std::uint64_t plis_received = 0;
  std::uint64_t frames_sent = 0;
  std::uint64_t plis_sent = 0;
  std::uint64_t decrypt_failures = 0;
  std::string dtls_profile;

  void print(const char* mode) const {
    std::printf(
        "{\"mode\":\"%s\",\"connected\":%s,\"failure\":\"%s\",\"video_packets\":%llu,"
        "\"audio_packets\":%llu,\"opus_packets\":%llu,\"keyframes\":%llu,\"sps\":%llu,"
        "\"nacks_received\":%llu,\"plis_received\":%llu,\"frames_sent\":%llu,"
        "\"plis_sent\":%llu,\"decrypt_failures\":%llu,\"srtp_profile\":\"%s\"}\n",
        mode, connected ? "true" : "false", failure.c_str(),
        static_cast<unsigned long long>(video_packets),
        static_cast<unsigned long long>(audio_packets),
        static_cast<unsigned long long>(audio_packets), static_cast<unsigned long long>(keyframes),
        static_cast<unsigned long long>(sps), static_cast<unsigned long long>(nacks_received),
        static_cast<unsigned long long>(plis_received),
        static_cast<unsigned long long>(frames_sent), static_cast<unsigned long long>(plis_sent),
        static_cast<unsigned long long>(decrypt_failures), dtls_profile.c_str());
    std::fflush(stdout);
  }
};

inline void count_media(const engine::SessionMediaPacket& media, Summary& summary) {
  if (media.kind == engine::MediaKind::kAudio) {
    ++summary.audio_packets;
    return;
  }
  if (media.kind != engine::MediaKind::kVideo) {
    return;
  }
  ++summary.video_packets;
  auto view = proto::parse_rtp(media.packet);
  if (!view) {
    return;
  }
  auto info = proto::inspect_h264_payload(view->payload());
  if (info && info->starts_idr_picture) {
    ++summary.keyframes;
  }
  if (info && info->has_sps) {
    ++summary.sps;
  }
}

}  // namespace ivs::webrtc_peer
