// Shared helpers for the relay tests: a recording sink, a simulated publisher that packetizes the
// real x264 fixtures in testdata/h264 (SPS and PPS as separate packets before the IDR, as OBS
// sends them), and the ingest/egress formats the tests negotiate.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "engine/relay.hpp"
#include "proto/h264_packetizer.hpp"
#include "proto/rtcp_compound.hpp"
#include "proto/rtp_builder.hpp"
#include "proto/rtp_packet.hpp"
#include "support/testdata.hpp"

namespace ivs::engine::relay_test {

inline constexpr std::uint8_t kIngestVideoPt = 96;
inline constexpr std::uint8_t kIngestAudioPt = 111;
inline constexpr std::uint8_t kIngestAbsSendTimeId = 3;
inline constexpr std::uint8_t kIngestMidId = 4;
inline constexpr std::uint8_t kIngestTransportCcId = 5;

class RecordingSink final : public RelaySink {
 public:
  void send_rtp(ByteSpan packet) override { rtp.emplace_back(packet.begin(), packet.end()); }
  void send_rtcp(ByteSpan packet) override { rtcp.emplace_back(packet.begin(), packet.end()); }
  void clear() {
    rtp.clear();
    rtcp.clear();
  }
  // Every RTCP packet received, parsed.
  std::vector<proto::RtcpPacket> rtcp_packets() const {
    std::vector<proto::RtcpPacket> all;
    for (const auto& datagram : rtcp) {
      auto packets = proto::parse_rtcp_compound(datagram);
      EXPECT_TRUE(packets.ok()) << "relay wrote malformed RTCP";
      if (packets.ok()) {
        all.insert(all.end(), packets->begin(), packets->end());
      }
    }
    return all;
  }
  template <class T>
  std::vector<T> rtcp_of() const {
    std::vector<T> found;
    for (const auto& packet : rtcp_packets()) {
      if (const auto* typed = std::get_if<T>(&packet)) {
        found.push_back(*typed);
      }
    }
    return found;
  }
  std::vector<proto::RtpView> views() const {
    std::vector<proto::RtpView> out;
    for (const auto& packet : rtp) {
      auto view = proto::parse_rtp(packet);
      EXPECT_TRUE(view.ok()) << "relay wrote malformed RTP";
      if (view.ok()) {
        out.push_back(*view);
      }
    }
    return out;
  }

  std::vector<Bytes> rtp;
  std::vector<Bytes> rtcp;
};

inline Bytes fixture(const std::string& name) {
  const std::string text = test::read_testdata("h264/" + name);
  return Bytes(text.begin(), text.end());
}

inline RelaySourceFormat ingest_format(bool with_audio = true) {
  RelaySourceFormat format;
  format.video.mid = "1";
  format.video.payload_type = kIngestVideoPt;
  format.video.clock_rate = 90000;
  format.video.feedback = {.nack = true, .pli = true, .fir = true};
  format.video.extensions.mid = kIngestMidId;
  format.video.extensions.abs_send_time = kIngestAbsSendTimeId;
  format.video.extensions.transport_cc = kIngestTransportCcId;
  if (with_audio) {
    NegotiatedTrack audio;
    audio.mid = "0";
    audio.payload_type = kIngestAudioPt;
    audio.clock_rate = 48000;
    audio.channels = 2;
    audio.extensions.mid = kIngestMidId;
    format.audio = audio;
  }
  return format;
}

inline RelayEgressFormat egress_format(std::uint32_t video_ssrc = 0x51000001,
                                       std::uint32_t audio_ssrc = 0x51000002) {
  RelayEgressFormat format;
  format.cname = "leg-cname";
  format.video.ssrc = video_ssrc;
  format.video.payload_type = 102;
  format.video.mid = "v";
  format.video.extensions.mid = 9;
  format.video.feedback = {.nack = true, .pli = true};
  RelayTrackFormat audio;
  audio.ssrc = audio_ssrc;
  audio.payload_type = 109;
  audio.mid = "a";
  audio.extensions.mid = 9;
  format.audio = audio;
  return format;
}

// A publisher sending real H.264 access units and Opus-sized audio packets.
class TestPublisher {
 public:
  explicit TestPublisher(std::uint32_t video_ssrc = 0x1000, std::uint16_t video_sequence = 100,
                         std::uint32_t video_timestamp = 5000, std::uint32_t audio_ssrc = 0x2000)
      : video_ssrc(video_ssrc),
        audio_ssrc(audio_ssrc),
        video_sequence(video_sequence),
        video_timestamp(video_timestamp) {}

  // SPS, PPS (one packet each), then the IDR slice in FU-A fragments; marker on the last.
  std::vector<Bytes> keyframe(const std::string& sps_name = "base720.sps") {
    const Bytes sps = fixture(sps_name);
    const Bytes pps = fixture("base720.pps");
    const Bytes idr = fixture("base720_idr_head.nal");
    std::vector<Bytes> payloads{sps, pps};
    for (auto& fragment : proto::fragment_fu_a(idr, 1100)) {
      payloads.push_back(std::move(fragment));
    }
    return access_unit(payloads);
  }
  std::vector<Bytes> delta() { return access_unit({fixture("base720_p_head.nal")}); }

  Bytes audio() {
    proto::RtpPacket packet;
    packet.payload_type = kIngestAudioPt;
    packet.sequence_number = audio_sequence++;
    packet.timestamp = audio_timestamp;
    audio_timestamp += 960;
    packet.ssrc = audio_ssrc;
    packet.extensions.push_back({kIngestMidId, {'0'}});
    packet.payload = Bytes(80, 0xAB);
    return *packet.serialize();
  }

  std::uint32_t video_ssrc;
  std::uint32_t audio_ssrc;
  std::uint16_t video_sequence;
  std::uint32_t video_timestamp;
  std::uint16_t audio_sequence = 7;
  std::uint32_t audio_timestamp = 1000;
  // The extension ids the video packets carry (a second publisher may negotiate others).
  std::uint8_t abs_send_time_id = kIngestAbsSendTimeId;
  std::uint8_t mid_id = kIngestMidId;
  std::uint8_t transport_cc_id = kIngestTransportCcId;

 private:
  std::vector<Bytes> access_unit(const std::vector<Bytes>& payloads) {
    std::vector<Bytes> packets;
    for (std::size_t i = 0; i < payloads.size(); ++i) {
      proto::RtpPacket packet;
      packet.marker = i + 1 == payloads.size();
      packet.payload_type = kIngestVideoPt;
      packet.sequence_number = video_sequence++;
      packet.timestamp = video_timestamp;
      packet.ssrc = video_ssrc;
      packet.extensions.push_back({abs_send_time_id, {1, 2, 3}});
      packet.extensions.push_back({mid_id, {'1'}});
      packet.extensions.push_back({transport_cc_id, {0, 42}});
      packet.payload = payloads[i];
      packets.push_back(*packet.serialize());
    }
    video_timestamp += 3000;  // 30 fps
    return packets;
  }
};

// A simulated instant, `ms` milliseconds after the epoch.
inline Instant at(int ms) {
  return Instant{} + std::chrono::milliseconds(ms);
}

// Runs the relay's timers up to `until` the way the owner does: wake at poll_timeout().
inline void run_until(Relay& relay, Instant until) {
  while (auto next = relay.poll_timeout()) {
    if (*next > until) {
      break;
    }
    relay.handle_timeout(*next);
  }
}

// Feeds packets into the relay at `now`.
inline void feed(Relay& relay, Instant now, const std::vector<Bytes>& packets,
                 MediaKind kind = MediaKind::kVideo) {
  for (const auto& packet : packets) {
    relay.handle_publisher_rtp(now, kind, packet);
  }
}

// The payload bytes of a packet, for comparing what went in with what came out.
inline Bytes payload_of(ByteSpan packet) {
  auto view = proto::parse_rtp(packet);
  EXPECT_TRUE(view.ok());
  return view.ok() ? Bytes(view->payload().begin(), view->payload().end()) : Bytes{};
}

}  // namespace ivs::engine::relay_test
