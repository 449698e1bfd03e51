// Stateful fuzz target over engine::Relay (STYLE.md §9): a byte script of operations, each
// step's first byte choosing what happens:
//   0: raw publisher RTP (fuzz bytes) as video or audio
//   1, 2: a well-formed packet (H.264 SPS, PPS, IDR/P slice, STAP-A or FU-A; or audio) with
//      fuzz-chosen sequence number, timestamp and SSRC, so the fuzzer reaches the GOP cache,
//      keyframe starts, NACK gaps and SSRC switches it could rarely forge from raw bytes
//   3: publisher RTCP (fuzz bytes, parsed as a compound; unparsable ones are skipped)
//   4: a leg is added (fuzz-chosen extension ids, mid, audio or not)
//   5: a leg is removed
//   6: leg RTCP: fuzz bytes, or a synthesized NACK/PLI/FIR/RR for that leg
//   7: time passes (two bytes, in ms) and due timeouts run
//   8: the publisher is replaced (start_publisher again) or stopped
// Invariants: no crash or sanitizer report; every RTP packet a leg receives parses and carries
// that leg's SSRC; all RTCP written parses; after handle_timeout(now) the next deadline lies
// after now (no busy loop for the owner's timer).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <vector>

#include "engine/relay.hpp"
#include "fuzz_script.hpp"
#include "proto/rtcp_compound.hpp"
#include "proto/rtp_builder.hpp"
#include "proto/rtp_packet.hpp"

namespace {

using namespace ivs;
using namespace ivs::engine;

const Bytes kSps = {0x67, 0x42, 0xc0, 0x1f, 0xd9, 0x00, 0x50, 0x05, 0xbb, 0x01, 0x10, 0x00, 0x00,
                    0x03, 0x00, 0x10, 0x00, 0x00, 0x03, 0x03, 0xc0, 0xf1, 0x83, 0x24, 0x80};
const Bytes kHighSps = {0x67, 0x64, 0x00, 0x28, 0xac, 0xd9, 0x40, 0x78, 0x02,
                        0x27, 0xe5, 0xc0, 0x44, 0x00, 0x00, 0x03, 0x00, 0x04,
                        0x00, 0x00, 0x03, 0x00, 0xf0, 0x3c, 0x60, 0xc6, 0x58};
const Bytes kPps = {0x68, 0xcb, 0x83, 0xcb, 0x20};

using fuzz::Script;

class CheckingSink final : public RelaySink {
 public:
  CheckingSink(std::uint32_t video_ssrc, std::uint32_t audio_ssrc)
      : video_ssrc_(video_ssrc), audio_ssrc_(audio_ssrc) {}
  void send_rtp(ByteSpan packet) override {
    auto view = proto::parse_rtp(packet);
    if (!view || (view->ssrc != video_ssrc_ && view->ssrc != audio_ssrc_)) {
      std::abort();
    }
  }
  void send_rtcp(ByteSpan packet) override {
    if (!proto::parse_rtcp_compound(packet)) {
      std::abort();
    }
  }

 private:
  std::uint32_t video_ssrc_;
  std::uint32_t audio_ssrc_;
};

class FeedbackSink final : public RelaySink {
 public:
  void send_rtp(ByteSpan) override { std::abort(); }  // the relay never sends media upstream
  void send_rtcp(ByteSpan packet) override {
    if (!proto::parse_rtcp_compound(packet)) {
      std::abort();
    }
  }
};

RelaySourceFormat source_format(std::uint8_t choice) {
  RelaySourceFormat format;
  format.video.payload_type = 96;
  format.video.clock_rate = 90000;
  format.video.feedback.nack = (choice & 1) != 0;
  format.video.feedback.pli = (choice & 2) != 0;
  format.video.feedback.fir = (choice & 4) != 0;
  format.video.extensions.mid = 4;
  format.video.extensions.abs_send_time = 3;
  format.video.extensions.transport_cc = (choice & 8) ? 15 : 5;
  if ((choice & 16) == 0) {
    NegotiatedTrack audio;
    audio.payload_type = 111;
    audio.clock_rate = 48000;
    audio.extensions.mid = 4;
    format.audio = audio;
  }
  return format;
}

struct Leg {
  EgressId id;
  std::unique_ptr<CheckingSink> sink;
  std::uint32_t video_ssrc;
};

Bytes h264_payload(Script& script) {
  switch (script.byte() % 7) {
    case 0:
      return kSps;
    case 1:
      return kPps;
    case 2:
      return kHighSps;
    case 3: {  // STAP-A with SPS and PPS
      Bytes stap{0x18, 0x00, static_cast<std::uint8_t>(kSps.size())};
      stap.insert(stap.end(), kSps.begin(), kSps.end());
      stap.push_back(0x00);
      stap.push_back(static_cast<std::uint8_t>(kPps.size()));
      stap.insert(stap.end(), kPps.begin(), kPps.end());
      return stap;
    }
    case 4: {  // FU-A of an IDR slice, start/end bits from the script
      std::uint8_t bits = script.byte() & 0xC0;
      bits = bits == 0xC0 ? 0x80 : bits;
      return {0x7C, static_cast<std::uint8_t>(bits | 5), 0x88, 0x84};
    }
    case 5:  // a single IDR slice
      return {0x65, 0x88, 0x84, 0x00, 0x33};
    default:  // a P slice
      return {0x41, 0x9a, 0x02, 0x04};
  }
}

void synthesized_media(Relay& relay, Script& script, Instant now) {
  const bool video = script.byte() % 2 == 0;
  proto::RtpPacket packet;
  packet.payload_type = video ? 96 : 111;
  packet.sequence_number = script.u16();
  packet.timestamp = script.u32();
  packet.ssrc = 0x1000 + (script.byte() & 3);
  packet.marker = (script.byte() & 1) != 0;
  packet.extensions.push_back({4, {'1'}});
  packet.extensions.push_back({3, {1, 2, 3}});
  packet.payload = video ? h264_payload(script) : Bytes{0xFC, 0x01, 0x02};
  if (auto bytes = packet.serialize()) {
    relay.handle_publisher_rtp(now, video ? MediaKind::kVideo : MediaKind::kAudio, *bytes);
  }
}

void add_leg(Relay& relay, Script& script, Instant now, std::vector<Leg>& legs,
             std::uint32_t& next_ssrc) {
  const std::uint8_t choice = script.byte();
  RelayEgressFormat format;
  format.cname = "fuzz";
  format.video.ssrc = next_ssrc++;
  format.video.payload_type = static_cast<std::uint8_t>(100 + (choice & 3));
  format.video.mid = (choice & 4) ? "v" : "video";
  if (choice & 8) {
    format.video.extensions.mid = static_cast<std::uint16_t>(1 + (choice >> 4));
  }
  if (choice & 16) {
    format.video.extensions.abs_send_time = 2;
  }
  RelayTrackFormat audio;
  audio.ssrc = next_ssrc++;
  audio.payload_type = 109;
  if ((choice & 32) == 0) {
    format.audio = audio;
  }
  auto sink = std::make_unique<CheckingSink>(format.video.ssrc, audio.ssrc);
  const EgressId id = relay.add_egress(now, format, *sink);
  legs.push_back({id, std::move(sink), format.video.ssrc});
}

void leg_feedback(Relay& relay, Script& script, Instant now, const std::vector<Leg>& legs) {
  if (legs.empty()) {
    return;
  }
  const Leg& leg = legs[script.byte() % legs.size()];
  std::vector<proto::RtcpPacket> packets;
  switch (script.byte() % 5) {
    case 0:
      if (auto parsed = proto::parse_rtcp_compound(script.bytes(script.byte()))) {
        packets = std::move(*parsed);
      }
      break;
    case 1: {
      const std::uint16_t id = script.u16();
      packets.push_back(proto::RtcpNack{9, leg.video_ssrc, {{id, script.u16()}}});
      break;
    }
    case 2:
      packets.push_back(proto::RtcpPli{9, leg.video_ssrc});
      break;
    case 3:
      packets.push_back(proto::RtcpFir{9, 0, {{leg.video_ssrc, script.byte()}}});
      break;
    default: {
      proto::RtcpReportBlock block;
      block.ssrc = leg.video_ssrc;
      block.fraction_lost = script.byte();
      block.last_sender_report = script.u32();
      block.delay_since_last_sender_report = script.u32();
      packets.push_back(proto::RtcpReceiverReport{9, {block}, {}});
    }
  }
  relay.handle_egress_rtcp(now, leg.id, packets);
}

void advance(Relay& relay, Script& script, Instant& now) {
  now += std::chrono::milliseconds(script.u16());
  for (int guard = 0; guard < 100000; ++guard) {
    const auto deadline = relay.poll_timeout();
    if (!deadline || *deadline > now) {
      return;
    }
    relay.handle_timeout(now);
    const auto after = relay.poll_timeout();
    if (after && *after <= now) {
      std::abort();  // handle_timeout must consume what was due
    }
  }
}

void step(Relay& relay, Script& script, Instant& now, FeedbackSink& feedback,
          std::vector<Leg>& legs, std::uint32_t& next_ssrc) {
  switch (script.byte() % 9) {
    case 0: {
      const auto kind = (script.byte() & 1) ? MediaKind::kVideo : MediaKind::kAudio;
      relay.handle_publisher_rtp(now, kind, script.bytes(script.byte()));
      break;
    }
    case 1:
    case 2:
      synthesized_media(relay, script, now);
      break;
    case 3:
      if (auto packets = proto::parse_rtcp_compound(script.bytes(script.byte()))) {
        relay.handle_publisher_rtcp(now, *packets);
      }
      break;
    case 4:
      add_leg(relay, script, now, legs, next_ssrc);
      break;
    case 5:
      if (!legs.empty()) {
        const std::size_t index = script.byte() % legs.size();
        relay.remove_egress(legs[index].id);
        legs.erase(legs.begin() + static_cast<std::ptrdiff_t>(index));
      }
      break;
    case 6:
      leg_feedback(relay, script, now, legs);
      break;
    case 7:
      advance(relay, script, now);
      break;
    default:
      if (script.byte() & 1) {
        relay.start_publisher(now, source_format(script.byte()), feedback);
      } else {
        relay.stop_publisher(now);
      }
  }
  while (relay.poll_event()) {
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  Script script(data, size);
  RelayConfig config;
  config.video_history_packets = 1 + script.byte() % 64;
  config.audio_history_packets = script.byte() % 16;
  config.gop_cache_max_packets = 1 + script.byte() % 32;
  config.gop_cache_max_bytes = 64 * (1 + static_cast<std::size_t>(script.byte()));
  Relay relay(config);
  FeedbackSink feedback;
  Instant now = Instant{} + std::chrono::seconds(1);
  relay.start_publisher(now, source_format(script.byte()), feedback);
  std::vector<Leg> legs;
  std::uint32_t next_ssrc = 0x50000000;
  for (int steps = 0; steps < 2000 && !script.done(); ++steps) {
    step(relay, script, now, feedback, legs, next_ssrc);
  }
  return 0;
}
