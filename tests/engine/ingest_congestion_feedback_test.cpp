// What a publisher gets back for what it negotiated: a Chromium-like offer (transport-cc
// extension and rtcp-fb, goog-remb) gets transport-wide feedback over audio and video plus the
// REMB cap; transport-cc alone gets the feedback alone; an OBS- or aiortc-like offer (goog-remb,
// no transport-cc) and an offer with neither get nothing.
#include <gtest/gtest.h>

#include <variant>

#include "engine/ingest_congestion_feedback.hpp"
#include "proto/rtp_builder.hpp"
#include "relay_test_util.hpp"

namespace ivs::engine {
namespace {

constexpr std::uint8_t kTransportCcId = 3;

Instant at_ms(int ms) {
  return Instant{} + std::chrono::seconds(100) + std::chrono::milliseconds(ms);
}

NegotiatedTrack track(bool transport_cc, bool remb) {
  NegotiatedTrack negotiated;
  negotiated.feedback.remb = remb;
  negotiated.feedback.transport_cc = transport_cc;
  if (transport_cc) {
    negotiated.extensions.transport_cc = kTransportCcId;
  }
  return negotiated;
}

NegotiatedMedia media(bool transport_cc, bool remb) {
  NegotiatedMedia negotiated;
  negotiated.video = track(transport_cc, remb);
  negotiated.audio = track(transport_cc, remb);
  return negotiated;
}

Bytes rtp(std::uint32_t ssrc, std::uint16_t sequence, std::optional<std::uint16_t> transport) {
  proto::RtpPacket packet;
  packet.payload_type = 96;
  packet.sequence_number = sequence;
  packet.ssrc = ssrc;
  if (transport) {
    packet.extensions.push_back({kTransportCcId,
                                 {static_cast<std::uint8_t>(*transport >> 8),
                                  static_cast<std::uint8_t>(*transport & 0xFF)}});
  }
  packet.payload = Bytes(100, 0xAB);
  return *packet.serialize();
}

template <typename T>
std::vector<T> of_type(const relay_test::RecordingSink& sink) {
  std::vector<T> out;
  for (const auto& packet : sink.rtcp_packets()) {
    if (const auto* typed = std::get_if<T>(&packet)) {
      out.push_back(*typed);
    }
  }
  return out;
}

void run_until(IngestCongestionFeedback& feedback, relay_test::RecordingSink& sink, Instant end) {
  while (auto due = feedback.poll_timeout()) {
    if (*due > end) {
      break;
    }
    feedback.handle_timeout(*due, sink);
  }
}

TEST(IngestCongestionFeedback, ChromiumLikeOfferGetsTransportFeedbackOverAudioAndVideoAndRemb) {
  IngestCongestionFeedback feedback(media(true, true),
                                    {.sender_ssrc = 5, .max_bitrate_bps = 4'000'000});
  ASSERT_TRUE(feedback.active());
  relay_test::RecordingSink sink;
  // Video and audio interleaved, one transport-wide numbering across both.
  for (int i = 0; i < 20; ++i) {
    const bool audio = i % 4 == 0;
    feedback.on_rtp(at_ms(i), audio ? MediaKind::kAudio : MediaKind::kVideo,
                    rtp(audio ? 0xA0 : 0xB0, static_cast<std::uint16_t>(i), 500 + i));
    run_until(feedback, sink, at_ms(i));
  }
  run_until(feedback, sink, at_ms(100));
  const auto transport = of_type<proto::RtcpTransportFeedback>(sink);
  ASSERT_EQ(transport.size(), 1u);
  EXPECT_EQ(transport[0].sender_ssrc, 5u);
  EXPECT_EQ(transport[0].base_sequence, 500);
  EXPECT_EQ(transport[0].packets.size(), 20u);
  const auto remb = of_type<proto::RtcpRemb>(sink);
  ASSERT_EQ(remb.size(), 1u);  // at the first packet; the next is one second later
  EXPECT_EQ(remb[0].bitrate_bps(), 4'000'000u);
  run_until(feedback, sink, at_ms(1000));
  EXPECT_EQ(of_type<proto::RtcpRemb>(sink).size(), 2u);
  EXPECT_EQ(feedback.stats().feedback_packets_sent, 1u);
}

// OBS and aiortc offer goog-remb without transport-cc. A fixed REMB would be a target to such
// a sender (aiortc sets its encoder's bitrate to it), not a cap: they get nothing.
TEST(IngestCongestionFeedback, RembOnlyOfferGetsNothing) {
  IngestCongestionFeedback feedback(media(false, true), {});
  EXPECT_FALSE(feedback.active());
  relay_test::RecordingSink sink;
  for (int i = 0; i < 10; ++i) {
    feedback.on_rtp(at_ms(i * 10), MediaKind::kVideo,
                    rtp(0xB0, static_cast<std::uint16_t>(i), std::nullopt));
  }
  EXPECT_FALSE(feedback.poll_timeout());
  feedback.handle_timeout(at_ms(5000), sink);
  EXPECT_TRUE(sink.rtcp.empty());
}

TEST(IngestCongestionFeedback, TransportCcWithoutRembGetsFeedbackOnly) {
  IngestCongestionFeedback feedback(media(true, false), {});
  relay_test::RecordingSink sink;
  feedback.on_rtp(at_ms(0), MediaKind::kVideo, rtp(0xB0, 1, 9));
  run_until(feedback, sink, at_ms(2000));
  EXPECT_EQ(of_type<proto::RtcpTransportFeedback>(sink).size(), 1u);
  EXPECT_TRUE(of_type<proto::RtcpRemb>(sink).empty());
}

TEST(IngestCongestionFeedback, NothingNegotiatedSendsNothing) {
  IngestCongestionFeedback feedback(media(false, false), {});
  relay_test::RecordingSink sink;
  feedback.on_rtp(at_ms(0), MediaKind::kVideo, rtp(0xB0, 1, 7));
  EXPECT_FALSE(feedback.active());
  EXPECT_FALSE(feedback.poll_timeout());
  feedback.handle_timeout(at_ms(1000), sink);
  EXPECT_TRUE(sink.rtcp.empty());
}

TEST(IngestCongestionFeedback, PacketsMissingTheNegotiatedExtensionAreCountedNotRecorded) {
  IngestCongestionFeedback feedback(media(true, false), {});
  relay_test::RecordingSink sink;
  feedback.on_rtp(at_ms(0), MediaKind::kVideo, rtp(0xB0, 1, std::nullopt));
  feedback.on_rtp(at_ms(1), MediaKind::kVideo, Bytes{0x80, 0x60});  // not RTP: ignored
  EXPECT_EQ(feedback.stats().packets_without_sequence, 1u);
  EXPECT_FALSE(feedback.poll_timeout());
}

}  // namespace
}  // namespace ivs::engine
