// Stateful fuzz target over the two state machines that read every publisher packet before the
// relay does (issue 11): engine::SimulcastSelector (rid extension, layer SSRCs, per-layer SPS and
// GOP caches, switches) and engine::IngestCongestionFeedback (transport-wide sequence numbers,
// feedback and the REMB cap). A byte script of operations, each step's first byte choosing:
//   0: raw publisher RTP (fuzz bytes) to both
//   1: a well-formed video packet of a fuzz-chosen layer (rid extension or not, SPS, PPS,
//      IDR or P slice, or padding only) with fuzz-chosen sequence numbers, timestamp and
//      transport-wide sequence number, so the fuzzer reaches layer choice, switches and
//      feedback splitting it could rarely forge from raw bytes
//   2: time passes (two bytes, 0–3 s) and due timeouts run
// Invariants: no crash or sanitizer report; every forwarded packet parses; all RTCP written
// parses; after handle_timeout(now) the next deadline lies after now (no busy loop).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "engine/ingest_congestion_feedback.hpp"
#include "engine/simulcast_selector.hpp"
#include "fuzz_script.hpp"
#include "proto/rtcp_compound.hpp"
#include "proto/rtp_builder.hpp"
#include "proto/rtp_packet.hpp"

namespace {

using namespace ivs;
using namespace ivs::engine;

constexpr std::uint8_t kVideoPt = 96;
constexpr std::uint8_t kAudioPt = 111;
constexpr std::uint8_t kRidExtension = 4;
constexpr std::uint8_t kTransportCcExtension = 5;

const Bytes kSps = {0x67, 0x42, 0xc0, 0x1f, 0xd9, 0x00, 0x50, 0x05, 0xbb, 0x01, 0x10, 0x00, 0x00,
                    0x03, 0x00, 0x10, 0x00, 0x00, 0x03, 0x03, 0xc0, 0xf1, 0x83, 0x24, 0x80};
const Bytes kPps = {0x68, 0xcb, 0x83, 0xcb, 0x20};
const Bytes kIdr = {0x65, 0x88, 0x84, 0x00, 0x33, 0xff};
const Bytes kSlice = {0x41, 0x9a, 0x02, 0x00, 0x11};

using fuzz::Script;

class CheckingOutput final : public SimulcastOutput, public RelaySink {
 public:
  void switched(std::size_t /*layer*/, std::uint32_t /*ssrc*/) override {}
  void forward(ByteSpan packet) override {
    if (!proto::parse_rtp(packet)) {
      std::abort();
    }
  }
  void request_keyframe(std::uint32_t /*ssrc*/) override {}
  void send_rtp(ByteSpan /*packet*/) override { std::abort(); }  // feedback is RTCP only
  void send_rtcp(ByteSpan packet) override {
    if (!proto::parse_rtcp_compound(packet)) {
      std::abort();
    }
  }
};

NegotiatedMedia negotiated_media() {
  NegotiatedMedia media;
  media.video.payload_type = kVideoPt;
  media.video.clock_rate = 90000;
  media.video.feedback = {.nack = true, .pli = true, .remb = true, .transport_cc = true};
  media.video.extensions.rtp_stream_id = kRidExtension;
  media.video.extensions.transport_cc = kTransportCcExtension;
  media.video.rids = {"h", "m", "l"};
  NegotiatedTrack audio;
  audio.payload_type = kAudioPt;
  audio.clock_rate = 48000;
  audio.extensions.transport_cc = kTransportCcExtension;
  media.audio = audio;
  return media;
}

Bytes video_packet(Script& script, std::uint16_t transport_sequence) {
  static const std::vector<std::string> kRids = {"h", "m", "l", "x"};
  const std::uint8_t choice = script.byte();
  proto::RtpPacket packet;
  packet.payload_type = choice & 0x80 ? kVideoPt : kAudioPt;
  packet.ssrc = 0x1000u + (choice & 0x03);
  packet.sequence_number = script.u16();
  packet.timestamp = static_cast<std::uint32_t>(script.u16()) * 3000u;
  packet.marker = (choice & 0x04) != 0;
  if (choice & 0x08) {
    const std::string& rid = kRids[(choice >> 4) & 0x03];
    packet.extensions.push_back({kRidExtension, Bytes(rid.begin(), rid.end())});
  }
  packet.extensions.push_back({kTransportCcExtension,
                               {static_cast<std::uint8_t>(transport_sequence >> 8),
                                static_cast<std::uint8_t>(transport_sequence)}});
  switch (script.byte() % 5) {
    case 0:
      packet.payload = kSps;
      break;
    case 1:
      packet.payload = kPps;
      break;
    case 2:
      packet.payload = kIdr;
      break;
    case 3:
      packet.payload = kSlice;
      break;
    default:
      packet.padding_size = 1 + script.byte() % 200;
      break;
  }
  auto bytes = packet.serialize();
  return bytes ? std::move(*bytes) : Bytes{};
}

void run_due(Instant now, SimulcastSelector& selector, IngestCongestionFeedback& feedback,
             CheckingOutput& output) {
  if (auto next = selector.poll_timeout(); next && *next <= now) {
    selector.handle_timeout(now, output);
    if (auto again = selector.poll_timeout(); again && *again <= now) {
      std::abort();  // the owner's timer would spin
    }
  }
  if (auto next = feedback.poll_timeout(); next && *next <= now) {
    feedback.handle_timeout(now, output);
    if (auto again = feedback.poll_timeout(); again && *again <= now) {
      std::abort();
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  Script script(data, size);
  const NegotiatedMedia media = negotiated_media();
  SimulcastSelectorConfig config;
  config.rids = media.video.rids;
  config.payload_type = kVideoPt;
  config.rtp_stream_id_ext = kRidExtension;
  config.gop_cache_max_packets = 64;
  SimulcastSelector selector(config);
  IngestCongestionFeedback feedback(media, IngestCongestionConfig{});
  CheckingOutput output;
  Instant now{};
  std::uint16_t transport_sequence = 0;
  while (!script.done()) {
    switch (script.byte() % 3) {
      case 0: {
        const ByteSpan raw = script.bytes(script.byte());
        selector.handle_rtp(now, raw, output);
        feedback.on_rtp(now, MediaKind::kVideo, raw);
        break;
      }
      case 1: {
        transport_sequence = static_cast<std::uint16_t>(transport_sequence + script.byte() % 8);
        const Bytes packet = video_packet(script, transport_sequence);
        selector.handle_rtp(now, packet, output);
        feedback.on_rtp(now, MediaKind::kVideo, packet);
        break;
      }
      default:
        now += std::chrono::milliseconds(script.u16() % 3000);
        run_due(now, selector, feedback, output);
        break;
    }
  }
  return 0;
}
