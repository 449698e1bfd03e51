// Prints feedback packets our engine produces toward a publisher, one JSON object per line with
// the bytes in hex and what we meant them to say, for tests that read them with a stack we did
// not write (tests/interop/test_aiortc_feedback_parse.py).
//
//   congestion_feedback_dump
//
// Lines: {"kind":"remb","hex":…,"bitrate":…,"ssrcs":[…]} for a REMB cap of 4 Mbit/s, then
// {"kind":"twcc","hex":…,"sender_ssrc":…,"media_ssrc":…,"base":…,"count":…,"padded":…} for
// transport-wide feedback from short scripted arrivals across the 16-bit wrap (in order, with
// losses); one of them is sized so that it needs no padding.
#include <cstdio>
#include <string>

#include "engine/remb_cap.hpp"
#include "engine/transport_feedback.hpp"
#include "proto/bytes.hpp"

namespace {

using ivs::Instant;

std::string hex(const ivs::Bytes& bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (const auto byte : bytes) {
    out += kDigits[byte >> 4];
    out += kDigits[byte & 0xF];
  }
  return out;
}

Instant at_ms(int ms) {
  return Instant{} + std::chrono::seconds(10) + std::chrono::milliseconds(ms);
}

void dump_remb() {
  ivs::engine::RembCap cap({.sender_ssrc = 1, .max_bitrate_bps = 4'000'000});
  cap.on_packet(at_ms(0), 0x11111111);
  cap.on_packet(at_ms(1), 0x22222222);
  cap.handle_timeout(at_ms(1));
  const auto remb = cap.poll_remb();
  if (!remb) {
    return;
  }
  std::printf(R"({"kind":"remb","hex":"%s","bitrate":%llu,"ssrcs":[%u,%u]})"
              "\n",
              hex(remb->serialize()).c_str(), static_cast<unsigned long long>(remb->bitrate_bps()),
              0x11111111u, 0x22222222u);
}

void dump_transport_feedback(int packets, int lose_every) {
  ivs::engine::TransportFeedbackGenerator generator({.sender_ssrc = 1});
  for (int i = 0; i < packets; ++i) {
    if (lose_every > 0 && i % lose_every == lose_every - 1) {
      continue;
    }
    generator.on_packet(at_ms(i), static_cast<std::uint16_t>(65530 + i), 0x33333333);
  }
  generator.handle_timeout(at_ms(1000));
  while (auto feedback = generator.poll_feedback()) {
    const ivs::Bytes bytes = feedback->serialize();
    std::printf(R"({"kind":"twcc","hex":"%s","sender_ssrc":%u,"media_ssrc":%u,"base":%u,)"
                R"("count":%zu,"padded":%s})"
                "\n",
                hex(bytes).c_str(), feedback->sender_ssrc, feedback->media_ssrc,
                feedback->base_sequence, feedback->packets.size(),
                (bytes[0] & 0x20) != 0 ? "true" : "false");
  }
}

}  // namespace

int main() {
  dump_remb();
  dump_transport_feedback(10, 0);  // 20 + 2 chunk + 10 delta bytes: no padding needed
  dump_transport_feedback(10, 4);  // two losses: 20 + 2 + 8, padded to 32
  return 0;
}
