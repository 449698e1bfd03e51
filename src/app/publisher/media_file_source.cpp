#include "app/publisher/media_file_source.hpp"

#include <cmath>
#include <fstream>
#include <iterator>
#include <span>

#include "proto/h264_packetizer.hpp"
#include "proto/h264_payload.hpp"
#include "proto/ogg.hpp"
#include "proto/rtcp_sender_report.hpp"
#include "proto/rtp_builder.hpp"

namespace ivs::app {

namespace {

constexpr double kVideoClock = 90000;
constexpr double kAudioClock = 48000;

bool is_vcl(std::uint8_t type) {
  return type >= proto::h264_nal::kSlice && type <= proto::h264_nal::kIdrSlice;
}

// first_mb_in_slice is the first ue(v) of the slice header; it is 0 exactly when the first
// bit after the NAL header is 1.
bool starts_picture(ByteSpan nal) {
  return nal.size() >= 2 && (nal[1] & 0x80) != 0;
}

Result<Bytes> read_file(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) {
    return make_error(path + ": cannot open");
  }
  return Bytes((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
}

}  // namespace

Result<std::vector<H264AccessUnit>> split_access_units(ByteSpan annex_b) {
  std::vector<H264AccessUnit> units;
  H264AccessUnit current;
  bool current_has_slice = false;
  auto finish = [&] {
    if (current_has_slice) {
      units.push_back(std::move(current));
    }
    current = {};
    current_has_slice = false;
  };
  for (ByteSpan nal : proto::split_annex_b(annex_b)) {
    if (nal.empty()) {
      continue;
    }
    const std::uint8_t type = nal[0] & 0x1F;
    const bool vcl = is_vcl(type);
    if (current_has_slice && (!vcl || starts_picture(nal))) {
      finish();
    }
    if (type == proto::h264_nal::kAccessUnitDelimiter) {
      continue;
    }
    current.nal_units.emplace_back(nal.begin(), nal.end());
    if (vcl) {
      current_has_slice = true;
      current.keyframe = current.keyframe || type == proto::h264_nal::kIdrSlice;
    }
  }
  finish();
  if (units.empty()) {
    return make_error("no H.264 access units (is it an Annex-B .h264 stream?)");
  }
  if (!units.front().keyframe) {
    return make_error("the stream does not start with an IDR picture");
  }
  return units;
}

Result<std::vector<H264AccessUnit>> load_h264_file(const std::string& path) {
  auto bytes = read_file(path);
  if (!bytes) {
    return bytes.error();
  }
  auto units = split_access_units(*bytes);
  if (!units) {
    return make_error(path + ": " + units.error().message);
  }
  return units;
}

Result<std::vector<OpusPacket>> load_ogg_opus_file(const std::string& path) {
  auto bytes = read_file(path);
  if (!bytes) {
    return bytes.error();
  }
  auto opus = proto::parse_ogg_opus(*bytes);
  if (!opus) {
    return make_error(path + ": " + opus.error().message);
  }
  std::vector<OpusPacket> packets;
  for (Bytes& data : opus->packets) {
    auto samples = proto::opus_packet_samples(data);
    if (!samples) {
      continue;  // an undecodable packet would only make the receiver conceal it
    }
    packets.push_back(OpusPacket{std::move(data), *samples});
  }
  if (packets.empty()) {
    return make_error(path + ": no Opus audio packets");
  }
  return packets;
}

MediaFileSource::MediaFileSource(std::vector<H264AccessUnit> video, std::vector<OpusPacket> audio,
                                 Options options)
    : video_(std::move(video)),
      audio_(std::move(audio)),
      options_(options),
      video_sequence_(options.video_sequence),
      audio_sequence_(options.audio_sequence) {
  if (options_.fps <= 0) {
    options_.fps = 30;
  }
  // Both files loop, each on its own length; if the audio is longer than the video (an Opus
  // encoder adds its pre-skip), every loop would move the sound later against the picture.
  // Cut the audio to the video's duration so both loop on one period and stay in sync.
  const auto video_samples =
      static_cast<std::uint64_t>(static_cast<double>(video_.size()) * kAudioClock / options_.fps);
  std::uint64_t samples = 0;
  for (std::size_t i = 0; i < audio_.size(); ++i) {
    samples += audio_[i].samples;
    if (samples > video_samples && i > 0) {
      audio_.resize(i);
      break;
    }
  }
}

Instant MediaFileSource::video_due(std::uint64_t frame) const {
  const auto offset = std::chrono::duration<double>(static_cast<double>(frame) / options_.fps);
  return *start_ + std::chrono::duration_cast<Duration>(offset);
}

Instant MediaFileSource::audio_due(std::uint64_t samples) const {
  return *start_ + std::chrono::duration_cast<Duration>(microseconds(samples * 1000 / 48));
}

std::vector<Bytes> MediaFileSource::due(Instant now) {
  std::vector<Bytes> out;
  if (!start_) {
    start_ = now;
  }
  const bool has_audio = options_.audio_payload_type && !audio_.empty();
  // Interleave by due time so a catch-up burst still goes out in timestamp order.
  while (true) {
    const bool video_ready = !video_.empty() && video_due(frames_) <= now;
    const bool audio_ready = has_audio && audio_due(audio_samples_) <= now;
    if (video_ready && (!audio_ready || video_due(frames_) <= audio_due(audio_samples_))) {
      send_video_frame(out);
    } else if (audio_ready) {
      send_audio_packet(out);
    } else {
      break;
    }
  }
  return out;
}

std::optional<Instant> MediaFileSource::next_due() const {
  if (!start_) {
    return std::nullopt;
  }
  Instant next = video_due(frames_);
  if (options_.audio_payload_type && !audio_.empty()) {
    next = std::min(next, audio_due(audio_samples_));
  }
  return next;
}

void MediaFileSource::send_video_frame(std::vector<Bytes>& out) {
  const H264AccessUnit& unit = video_[next_unit_];
  std::vector<ByteSpan> nals(unit.nal_units.begin(), unit.nal_units.end());
  std::vector<Bytes> payloads;
  if (options_.aggregate_nal_units) {
    payloads = proto::packetize_h264(nals, options_.max_payload);
  } else {
    for (const ByteSpan nal : nals) {
      for (Bytes& payload : proto::packetize_h264(std::span(&nal, 1), options_.max_payload)) {
        payloads.push_back(std::move(payload));
      }
    }
  }
  const auto timestamp = static_cast<std::uint32_t>(
      options_.video_timestamp + static_cast<std::uint64_t>(std::llround(
                                     static_cast<double>(frames_) * kVideoClock / options_.fps)));
  for (std::size_t i = 0; i < payloads.size(); ++i) {
    proto::RtpPacket packet;
    packet.payload_type = options_.video_payload_type;
    packet.sequence_number = video_sequence_++;
    packet.timestamp = timestamp;
    packet.ssrc = options_.video_ssrc;
    packet.marker = i + 1 == payloads.size();
    packet.payload = payloads[i];
    auto bytes = packet.serialize();
    if (!bytes) {
      continue;
    }
    stats_.video_octets += payloads[i].size();
    ++stats_.video_packets;
    remember(packet.sequence_number, *bytes);
    out.push_back(std::move(*bytes));
  }
  ++stats_.video_frames;
  stats_.keyframes += unit.keyframe ? 1 : 0;
  ++frames_;
  next_unit_ = (next_unit_ + 1) % video_.size();
  if (next_unit_ == 0) {
    ++stats_.loops;
  }
}

void MediaFileSource::send_audio_packet(std::vector<Bytes>& out) {
  const OpusPacket& opus = audio_[next_audio_];
  proto::RtpPacket packet;
  packet.payload_type = *options_.audio_payload_type;
  packet.sequence_number = audio_sequence_++;
  packet.timestamp = static_cast<std::uint32_t>(options_.audio_timestamp + audio_samples_);
  packet.ssrc = options_.audio_ssrc;
  packet.marker = false;
  packet.payload = opus.data;
  if (auto bytes = packet.serialize()) {
    stats_.audio_octets += opus.data.size();
    ++stats_.audio_packets;
    out.push_back(std::move(*bytes));
  }
  audio_samples_ += opus.samples;
  next_audio_ = (next_audio_ + 1) % audio_.size();
}

void MediaFileSource::remember(std::uint16_t sequence, const Bytes& packet) {
  history_.emplace_back(sequence, packet);
  while (history_.size() > options_.history_packets) {
    history_.pop_front();
  }
}

std::optional<Bytes> MediaFileSource::retransmission(std::uint32_t ssrc, std::uint16_t sequence) {
  if (ssrc != options_.video_ssrc || history_.empty()) {
    return std::nullopt;
  }
  // The history is contiguous in sequence space, so the position is an offset from the front.
  const auto offset = static_cast<std::uint16_t>(sequence - history_.front().first);
  if (offset >= history_.size() || history_[offset].first != sequence) {
    return std::nullopt;
  }
  ++stats_.retransmitted;
  return history_[offset].second;
}

void MediaFileSource::request_keyframe() {
  ++stats_.keyframe_requests;
  for (std::size_t step = 0; step < video_.size(); ++step) {
    const std::size_t index = (next_unit_ + step) % video_.size();
    if (video_[index].keyframe) {
      if (index < next_unit_) {
        ++stats_.loops;
      }
      next_unit_ = index;
      return;
    }
  }
}

std::vector<Bytes> MediaFileSource::sender_reports(Instant now, WallTime wall) const {
  std::vector<Bytes> reports;
  if (!start_) {
    return reports;
  }
  const double elapsed = std::chrono::duration<double>(now - *start_).count();
  auto report = [&](std::uint32_t ssrc, std::uint32_t base, double clock, std::uint64_t packets,
                    std::uint64_t octets) {
    proto::RtcpSenderReport sr;
    sr.sender_ssrc = ssrc;
    sr.ntp_timestamp = to_ntp(wall);
    sr.rtp_timestamp = static_cast<std::uint32_t>(
        base + static_cast<std::uint64_t>(std::llround(elapsed * clock)));
    sr.packet_count = static_cast<std::uint32_t>(packets);
    sr.octet_count = static_cast<std::uint32_t>(octets);
    reports.push_back(sr.serialize());
  };
  if (stats_.video_packets > 0) {
    report(options_.video_ssrc, options_.video_timestamp, kVideoClock, stats_.video_packets,
           stats_.video_octets);
  }
  if (stats_.audio_packets > 0) {
    report(options_.audio_ssrc, options_.audio_timestamp, kAudioClock, stats_.audio_packets,
           stats_.audio_octets);
  }
  return reports;
}

}  // namespace ivs::app
