// Relay feedback (RFC 3550 §6.4, RFC 4585, RFC 5104): NACK answers from leg history, PLI/FIR
// aggregation upstream, sender reports per leg, RTT from receiver reports, and the publisher
// side's own NACKs and receiver reports; SPS checks and malformed input.
#include <gtest/gtest.h>

#include "engine/relay.hpp"
#include "relay_test_util.hpp"

namespace ivs::engine {
namespace {

using namespace relay_test;

Bytes video_packet(std::uint16_t sequence, std::uint32_t ssrc = 0x1000) {
  proto::RtpPacket packet;
  packet.payload_type = kIngestVideoPt;
  packet.sequence_number = sequence;
  packet.timestamp = sequence * 3000u;
  packet.ssrc = ssrc;
  packet.payload = fixture("base720_p_head.nal");
  return *packet.serialize();
}

class RelayFeedbackTest : public ::testing::Test {
 protected:
  void start() { relay.start_publisher(at(0), ingest_format(), feedback); }

  Relay relay;
  RecordingSink feedback;
  RecordingSink leg_sink;
  TestPublisher publisher;
};

TEST_F(RelayFeedbackTest, NackIsAnsweredByteIdenticalAndMissesAreCounted) {
  RelayConfig config;
  config.video_history_packets = 8;
  Relay small(config);
  small.start_publisher(at(0), ingest_format(), feedback);
  const EgressId leg = small.add_egress(at(0), egress_format(), leg_sink);
  feed(small, at(0), publisher.keyframe());
  for (int i = 1; i <= 5; ++i) {
    feed(small, at(33 * i), publisher.delta());
  }
  const auto sent = leg_sink.rtp;
  ASSERT_EQ(sent.size(), 10u);
  const auto views = leg_sink.views();
  leg_sink.clear();

  // The last two packets are in history, the first (10 packets ago, history 8) is not.
  const proto::RtcpNack nack = proto::RtcpNack::from_sequence_numbers(
      0x99, 0x51000001,
      std::vector<std::uint16_t>{views[0].sequence_number, views[8].sequence_number,
                                 views[9].sequence_number});
  const std::vector<proto::RtcpPacket> packets{nack};
  small.handle_egress_rtcp(at(200), leg, packets);
  ASSERT_EQ(leg_sink.rtp.size(), 2u);
  EXPECT_EQ(leg_sink.rtp[0], sent[8]) << "resent byte-identical";
  EXPECT_EQ(leg_sink.rtp[1], sent[9]);
  const auto stats = small.egress_stats(leg);
  EXPECT_EQ(stats->nacks_received, 1u);
  EXPECT_EQ(stats->packets_retransmitted, 2u);
  EXPECT_EQ(stats->retransmissions_missed, 1u);
}

// The leg keeps no bytes, only how it rewrote each packet; the ingest bytes are shared. So a
// NACK for a packet sent before a publisher switch must be rebuilt with the configuration of
// then (other ingest extension ids), the abs-send-time of then and the offsets of then, and a
// packet whose shared ingest slot a newer packet took is a counted miss, never other bytes.
TEST_F(RelayFeedbackTest, NackAcrossPublisherSwitchIsByteIdenticalOrCountedMissed) {
  RelayConfig config;
  config.video_history_packets = 16;
  Relay small(config);
  RelayEgressFormat leg_format = egress_format();
  leg_format.video.extensions.abs_send_time = 10;  // restamped per send: must be remembered
  small.start_publisher(at(0), ingest_format(), feedback);
  const EgressId leg = small.add_egress(at(0), leg_format, leg_sink);

  // Publisher A: ingest sequence numbers 100..111 (keyframe of 5 packets, 7 deltas).
  TestPublisher a(0x1000, 100);
  feed(small, at(0), a.keyframe());
  for (int i = 1; i <= 7; ++i) {
    feed(small, at(33 * i), a.delta());
  }
  // Publisher B negotiates other extension ids and starts at 1012: its 5 keyframe packets take
  // the ingest slots (mod 16) of A's 100..104.
  RelaySourceFormat b_format = ingest_format();
  b_format.video.extensions.mid = 6;
  b_format.video.extensions.abs_send_time = 7;
  b_format.video.extensions.transport_cc = 8;
  TestPublisher b(0x3000, 1012);
  b.mid_id = 6;
  b.abs_send_time_id = 7;
  b.transport_cc_id = 8;
  small.start_publisher(at(400), b_format, feedback);
  feed(small, at(433), b.keyframe());

  const auto sent = leg_sink.rtp;
  const auto views = leg_sink.views();
  ASSERT_EQ(sent.size(), 17u);
  for (std::size_t i = 1; i < views.size(); ++i) {
    ASSERT_EQ(views[i].sequence_number, static_cast<std::uint16_t>(views[0].sequence_number + i));
  }
  std::vector<std::uint16_t> asked;
  for (const auto& view : views) {
    asked.push_back(view.sequence_number);
  }
  leg_sink.clear();
  const std::vector<proto::RtcpPacket> packets{
      proto::RtcpNack::from_sequence_numbers(0x99, 0x51000001, asked)};
  small.handle_egress_rtcp(at(1000), leg, packets);

  // Leg history 16 of 17 sent: A's first is gone from the leg; A's 2nd..5th are still in the
  // leg's history but their ingest slots hold B's packets now; A's 6th..12th and B's 5 answer.
  ASSERT_EQ(leg_sink.rtp.size(), 12u);
  for (std::size_t i = 0; i < 12; ++i) {
    const std::size_t original = i < 7 ? 5 + i : 12 + (i - 7);
    EXPECT_EQ(leg_sink.rtp[i], sent[original]) << "resend " << i << " is not byte-identical";
  }
  const auto stats = small.egress_stats(leg);
  EXPECT_EQ(stats->packets_retransmitted, 12u);
  EXPECT_EQ(stats->retransmissions_missed, 5u);
}

TEST_F(RelayFeedbackTest, PliFromManyLegsIsRateLimitedUpstream) {
  start();
  RecordingSink sinks[3];
  EgressId legs[3];
  feed(relay, at(0), publisher.keyframe());
  for (int i = 0; i < 3; ++i) {
    legs[i] = relay.add_egress(at(0), egress_format(0x100 + i, 0x200 + i), sinks[i]);
  }
  EXPECT_TRUE(feedback.rtcp.empty()) << "legs started from the cache";
  for (int i = 0; i < 3; ++i) {
    const std::vector<proto::RtcpPacket> pli{proto::RtcpPli{0x99, 0x100u + i}};
    relay.handle_egress_rtcp(at(100 + i), legs[i], pli);
  }
  EXPECT_EQ(feedback.rtcp_of<proto::RtcpPli>().size(), 1u) << "one request for three PLIs";
  const std::vector<proto::RtcpPacket> fir{proto::RtcpFir{0x99, 0, {{0x100, 1}}}};
  relay.handle_egress_rtcp(at(300), legs[0], fir);
  EXPECT_EQ(feedback.rtcp_of<proto::RtcpPli>().size(), 1u);
  ASSERT_EQ(relay.poll_timeout().value_or(at(99999)), at(600))
      << "the held-back request is due one interval after the first";
  run_until(relay, at(600));
  const auto plis = feedback.rtcp_of<proto::RtcpPli>();
  ASSERT_EQ(plis.size(), 2u);
  EXPECT_EQ(plis[1].media_ssrc, publisher.video_ssrc);
  EXPECT_EQ(plis[1].sender_ssrc, RelayConfig{}.receiver_ssrc);
  run_until(relay, at(2000));
  EXPECT_EQ(feedback.rtcp_of<proto::RtcpPli>().size(), 2u) << "nothing pending: no more";
  EXPECT_EQ(relay.egress_stats(legs[0])->plis_received, 1u);
  EXPECT_EQ(relay.egress_stats(legs[0])->firs_received, 1u);
  EXPECT_EQ(relay.source_stats().keyframe_requests_sent, 2u);
}

TEST_F(RelayFeedbackTest, FirIsUsedWhenThePublisherDidNotNegotiatePli) {
  RelaySourceFormat format = ingest_format();
  format.video.feedback.pli = false;
  relay.start_publisher(at(0), format, feedback);
  feed(relay, at(0), publisher.delta());
  relay.add_egress(at(10), egress_format(), leg_sink);
  const auto firs = feedback.rtcp_of<proto::RtcpFir>();
  ASSERT_EQ(firs.size(), 1u);
  ASSERT_EQ(firs[0].entries.size(), 1u);
  EXPECT_EQ(firs[0].entries[0].ssrc, publisher.video_ssrc);
  EXPECT_TRUE(feedback.rtcp_of<proto::RtcpPli>().empty());
}

TEST_F(RelayFeedbackTest, SenderReportsFollowTheCadenceWithProjectedTimestamps) {
  RelayConfig config;
  config.reference_instant = at(0);
  config.wall_at_reference = WallTime{1'700'000'000'000'000};
  Relay timed(config);
  timed.start_publisher(at(0), ingest_format(), feedback);
  timed.add_egress(at(0), egress_format(), leg_sink);
  const auto keyframe = publisher.keyframe();
  feed(timed, at(100), keyframe);
  timed.handle_publisher_rtp(at(100), MediaKind::kAudio, publisher.audio());
  const auto views = leg_sink.views();
  std::uint64_t video_octets = 0;
  for (std::size_t i = 0; i + 1 < views.size(); ++i) {
    video_octets += views[i].payload_size;
  }
  const std::uint32_t video_ts = views.front().timestamp;
  const std::uint32_t audio_ts = views.back().timestamp;

  run_until(timed, at(999));
  EXPECT_TRUE(leg_sink.rtcp.empty());
  run_until(timed, at(1000));
  ASSERT_EQ(leg_sink.rtcp.size(), 1u);
  const auto reports = leg_sink.rtcp_of<proto::RtcpSenderReport>();
  ASSERT_EQ(reports.size(), 2u);
  EXPECT_EQ(reports[0].sender_ssrc, 0x51000001u);
  EXPECT_EQ(reports[0].packet_count, keyframe.size());
  EXPECT_EQ(reports[0].octet_count, video_octets);
  EXPECT_EQ(reports[0].rtp_timestamp, video_ts + 900u * 90) << "projected 900 ms past arrival";
  EXPECT_EQ(reports[0].ntp_timestamp, to_ntp(WallTime{1'700'000'001'000'000}));
  EXPECT_EQ(reports[1].sender_ssrc, 0x51000002u);
  EXPECT_EQ(reports[1].packet_count, 1u);
  EXPECT_EQ(reports[1].rtp_timestamp, audio_ts + 900u * 48);
  const auto sdes = leg_sink.rtcp_of<proto::RtcpSdes>();
  ASSERT_EQ(sdes.size(), 1u);
  ASSERT_NE(sdes[0].cname(0x51000001), nullptr);
  EXPECT_EQ(*sdes[0].cname(0x51000001), "leg-cname");
  EXPECT_NE(sdes[0].cname(0x51000002), nullptr);

  run_until(timed, at(1999));
  EXPECT_EQ(leg_sink.rtcp.size(), 1u);
  run_until(timed, at(2000));
  EXPECT_EQ(leg_sink.rtcp.size(), 2u);
}

TEST_F(RelayFeedbackTest, ReceiverReportFromLegGivesRttAndLoss) {
  RelayConfig config;
  config.reference_instant = at(0);
  config.wall_at_reference = WallTime{1'700'000'000'000'000};
  Relay timed(config);
  timed.start_publisher(at(0), ingest_format(), feedback);
  const EgressId leg = timed.add_egress(at(0), egress_format(), leg_sink);
  feed(timed, at(10), publisher.keyframe());
  run_until(timed, at(1000));
  const auto sr = leg_sink.rtcp_of<proto::RtcpSenderReport>().at(0);

  // The stage held the SR for 100 ms; its RR arrives 180 ms after we sent the SR: RTT 80 ms.
  proto::RtcpReportBlock block;
  block.ssrc = 0x51000001;
  block.fraction_lost = 64;
  block.cumulative_lost = 12;
  block.last_sender_report = static_cast<std::uint32_t>(sr.ntp_timestamp >> 16);
  block.delay_since_last_sender_report = 65536 / 10;
  const std::vector<proto::RtcpPacket> rr{proto::RtcpReceiverReport{0x99, {block}, {}}};
  timed.handle_egress_rtcp(at(1180), leg, rr);
  const auto stats = timed.egress_stats(leg);
  ASSERT_TRUE(stats->rtt_ms);
  EXPECT_NEAR(*stats->rtt_ms, 80.0, 0.1);
  EXPECT_DOUBLE_EQ(stats->fraction_lost.value_or(-1), 0.25);
  EXPECT_EQ(stats->cumulative_lost.value_or(-1), 12);

  // A block about somebody else's SSRC changes nothing.
  block.ssrc = 0xDEAD;
  block.fraction_lost = 255;
  const std::vector<proto::RtcpPacket> other{proto::RtcpReceiverReport{0x99, {block}, {}}};
  timed.handle_egress_rtcp(at(1200), leg, other);
  EXPECT_DOUBLE_EQ(timed.egress_stats(leg)->fraction_lost.value_or(-1), 0.25);
}

TEST_F(RelayFeedbackTest, GapIsNackedUpstreamUntilFilled) {
  start();
  relay.handle_publisher_rtp(at(0), MediaKind::kVideo, video_packet(10));
  relay.handle_publisher_rtp(at(1), MediaKind::kVideo, video_packet(11));
  relay.handle_publisher_rtp(at(2), MediaKind::kVideo, video_packet(14));
  auto nacks = feedback.rtcp_of<proto::RtcpNack>();
  ASSERT_EQ(nacks.size(), 1u) << "NACKed as soon as the gap shows";
  EXPECT_EQ(nacks[0].media_ssrc, 0x1000u);
  EXPECT_EQ(nacks[0].sender_ssrc, RelayConfig{}.receiver_ssrc);
  EXPECT_EQ(nacks[0].sequence_numbers(), (std::vector<std::uint16_t>{12, 13}));

  relay.handle_publisher_rtp(at(30), MediaKind::kVideo, video_packet(12));
  run_until(relay, at(200));
  nacks = feedback.rtcp_of<proto::RtcpNack>();
  ASSERT_EQ(nacks.size(), 2u) << "one retry, for the packet still missing";
  EXPECT_EQ(nacks[1].sequence_numbers(), (std::vector<std::uint16_t>{13}));
  relay.handle_publisher_rtp(at(210), MediaKind::kVideo, video_packet(13));
  run_until(relay, at(3000));
  EXPECT_EQ(feedback.rtcp_of<proto::RtcpNack>().size(), 2u) << "no NACK after the gap filled";
  EXPECT_EQ(relay.source_stats().packets_lost, 0u);
  EXPECT_EQ(relay.source_stats().nacks_sent, 2u);
}

TEST_F(RelayFeedbackTest, NeverFilledGapIsRetriedThenGivenUpAndCountedLost) {
  start();
  relay.handle_publisher_rtp(at(0), MediaKind::kVideo, video_packet(65534));
  relay.handle_publisher_rtp(at(0), MediaKind::kVideo, video_packet(1));  // 65535, 0 lost
  run_until(relay, at(5000));
  const auto nacks = feedback.rtcp_of<proto::RtcpNack>();
  EXPECT_GE(nacks.size(), 3u) << "retried";
  EXPECT_LE(nacks.size(), 8u) << "a few times, not forever";
  EXPECT_EQ(nacks[0].sequence_numbers(), (std::vector<std::uint16_t>{65535, 0}));
  EXPECT_EQ(relay.source_stats().packets_lost, 2u);
  const auto deadline = relay.poll_timeout();
  ASSERT_TRUE(deadline);
  EXPECT_GT(*deadline, at(5000)) << "only the report timer is left";
}

TEST_F(RelayFeedbackTest, ReceiverReportUpstreamCarriesLossFractionAndLastSr) {
  start();
  for (int i = 0; i < 100; ++i) {
    if (i % 10 != 5) {
      relay.handle_publisher_rtp(at(i), MediaKind::kVideo, video_packet(1000 + i));
    }
  }
  relay.handle_publisher_rtp(at(100), MediaKind::kVideo, video_packet(1100));
  const proto::RtcpSenderReport publisher_sr{0x1000, 0x1111222233334444ULL, 0, 0, 0, {}, {}};
  const std::vector<proto::RtcpPacket> sr{publisher_sr};
  relay.handle_publisher_rtcp(at(500), sr);
  feedback.clear();
  run_until(relay, at(1000));
  const auto reports = feedback.rtcp_of<proto::RtcpReceiverReport>();
  ASSERT_EQ(reports.size(), 1u);
  ASSERT_EQ(reports[0].report_blocks.size(), 1u);
  const auto& block = reports[0].report_blocks[0];
  EXPECT_EQ(block.ssrc, 0x1000u);
  EXPECT_EQ(block.extended_highest_sequence, 1100u);
  EXPECT_EQ(block.cumulative_lost, 10);
  EXPECT_EQ(block.fraction_lost, 10 * 256 / 101);
  EXPECT_EQ(block.last_sender_report, 0x22223333u);
  EXPECT_EQ(block.delay_since_last_sender_report, 65536u / 2);
  EXPECT_FALSE(feedback.rtcp_of<proto::RtcpSdes>().empty()) << "compound with CNAME";
}

TEST_F(RelayFeedbackTest, SpsChangesRaiseEventsWithIvsViolations) {
  start();
  relay.poll_event();  // the publisher switch
  feed(relay, at(0), publisher.keyframe("base720.sps"));
  auto event = relay.poll_event();
  ASSERT_TRUE(event);
  const auto& ok = std::get<RelaySpsChanged>(*event);
  EXPECT_EQ(ok.sps.width, 1280u);
  EXPECT_TRUE(ok.ivs_violations.empty());
  feed(relay, at(33), publisher.keyframe("base720.sps"));
  EXPECT_FALSE(relay.poll_event()) << "the same SPS again is no change";

  feed(relay, at(66), publisher.keyframe("high1080.sps"));
  event = relay.poll_event();
  ASSERT_TRUE(event);
  const auto& bad = std::get<RelaySpsChanged>(*event);
  EXPECT_EQ(bad.sps.height, 1080u);
  EXPECT_EQ(bad.ivs_violations.size(), 2u) << "High profile and beyond 720p";
  const auto stats = relay.source_stats();
  EXPECT_EQ(stats.ivs_violations, bad.ivs_violations);
  EXPECT_EQ(stats.keyframes, 3u);
  ASSERT_TRUE(stats.sps);
  EXPECT_EQ(stats.sps->profile_idc, 100);
}

TEST_F(RelayFeedbackTest, MalformedInputIsCountedAndNotRelayed) {
  start();
  relay.add_egress(at(0), egress_format(), leg_sink);
  feed(relay, at(0), publisher.keyframe());
  leg_sink.clear();
  relay.handle_publisher_rtp(at(1), MediaKind::kVideo, Bytes{0x80, 0x60, 0x00});
  relay.handle_publisher_rtp(at(1), MediaKind::kVideo, Bytes(40, 0xFF));
  proto::RtpPacket bad_h264;
  bad_h264.payload_type = kIngestVideoPt;
  bad_h264.sequence_number = publisher.video_sequence;
  bad_h264.ssrc = publisher.video_ssrc;
  bad_h264.payload = {0x1D, 0x00};  // FU-B: not allowed in packetization-mode 1
  relay.handle_publisher_rtp(at(1), MediaKind::kVideo, *bad_h264.serialize());
  EXPECT_EQ(relay.source_stats().malformed_dropped, 3u);
  EXPECT_TRUE(leg_sink.rtp.empty());
}

}  // namespace
}  // namespace ivs::engine
