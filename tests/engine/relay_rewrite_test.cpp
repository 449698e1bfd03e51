// Relay egress rewriting (DESIGN.md §5): SSRC, payload type, extension ids, and sequence
// numbers and timestamps by offsets; GOP-cache starts; publisher switches.
#include <gtest/gtest.h>

#include "engine/relay.hpp"
#include "proto/rtcp_pli.hpp"
#include "relay_test_util.hpp"

namespace ivs::engine {
namespace {

using namespace relay_test;

class RelayRewriteTest : public ::testing::Test {
 protected:
  void start(Instant now = at(0)) { relay.start_publisher(now, ingest_format(), feedback); }

  Relay relay;
  RecordingSink feedback;
  RecordingSink leg_sink;
  TestPublisher publisher;
};

TEST_F(RelayRewriteTest, RewritesSsrcPayloadTypeSequenceAndTimestampByOffset) {
  start();
  const EgressId leg = relay.add_egress(at(0), egress_format(), leg_sink);
  const auto keyframe = publisher.keyframe();
  const auto delta = publisher.delta();
  feed(relay, at(10), keyframe);
  feed(relay, at(43), delta);

  const auto out = leg_sink.views();
  ASSERT_EQ(out.size(), keyframe.size() + delta.size());
  std::vector<Bytes> in = keyframe;
  in.insert(in.end(), delta.begin(), delta.end());
  auto first_in = *proto::parse_rtp(in[0]);
  const auto sequence_offset =
      static_cast<std::uint16_t>(out[0].sequence_number - first_in.sequence_number);
  const std::uint32_t timestamp_offset = out[0].timestamp - first_in.timestamp;
  for (std::size_t i = 0; i < out.size(); ++i) {
    auto original = *proto::parse_rtp(in[i]);
    EXPECT_EQ(out[i].ssrc, 0x51000001u);
    EXPECT_EQ(out[i].payload_type, 102);
    EXPECT_EQ(out[i].marker, original.marker);
    EXPECT_EQ(static_cast<std::uint16_t>(out[i].sequence_number - original.sequence_number),
              sequence_offset);
    EXPECT_EQ(out[i].timestamp - original.timestamp, timestamp_offset);
    EXPECT_EQ(payload_of(leg_sink.rtp[i]), payload_of(in[i]));
    EXPECT_EQ(leg_sink.rtp[i].size(), in[i].size()) << "rewriting never changes the length";
  }
  const auto stats = relay.egress_stats(leg);
  ASSERT_TRUE(stats);
  EXPECT_EQ(stats->packets_sent, out.size());
  EXPECT_FALSE(stats->started_from_gop_cache);
  EXPECT_EQ(stats->first_keyframe_sent_at, at(10));
}

TEST_F(RelayRewriteTest, ReorderedIngestPacketKeepsItsPlaceInTheLegSequence) {
  start();
  relay.add_egress(at(0), egress_format(), leg_sink);
  feed(relay, at(0), publisher.keyframe());
  auto delta1 = publisher.delta();
  auto delta2 = publisher.delta();
  feed(relay, at(40), delta2);
  feed(relay, at(41), delta1);  // arrives late
  const auto out = leg_sink.views();
  const auto& late = out.back();
  const auto& before = out[out.size() - 2];
  EXPECT_EQ(static_cast<std::uint16_t>(before.sequence_number - late.sequence_number), 1)
      << "offsets, not arrival order: the late packet fills the hole before its successor";
}

TEST_F(RelayRewriteTest, ExtensionIdsAreRemappedAndUnnegotiatedOnesDropped) {
  start();
  RelayEgressFormat with_abs = egress_format(0x51000011, 0x51000012);
  with_abs.video.extensions.abs_send_time = 2;
  RelayEgressFormat long_mid = egress_format(0x51000021, 0x51000022);
  long_mid.video.mid = "video";
  RecordingSink abs_sink;
  RecordingSink long_mid_sink;
  relay.add_egress(at(0), egress_format(), leg_sink);
  relay.add_egress(at(0), with_abs, abs_sink);
  relay.add_egress(at(0), long_mid, long_mid_sink);
  feed(relay, at(1234), publisher.keyframe());

  const auto plain = leg_sink.views().front();
  ASSERT_TRUE(plain.extension(9));
  EXPECT_EQ(as_text(*plain.extension(9)), "v") << "mid rewritten in place to the leg's mid";
  EXPECT_FALSE(plain.extension(kIngestMidId)) << "the ingest id must not leak";
  EXPECT_FALSE(plain.extension(kIngestAbsSendTimeId)) << "abs-send-time not negotiated";
  EXPECT_FALSE(plain.extension(kIngestTransportCcId)) << "transport-cc not negotiated";
  int elements = 0;
  for (auto it = plain.extensions(); it.next();) {
    ++elements;
  }
  EXPECT_EQ(elements, 1);

  const auto stamped = abs_sink.views().front();
  ASSERT_TRUE(stamped.extension(2));
  const ByteSpan abs = *stamped.extension(2);
  // 1.234 s in 6.18 fixed point.
  const std::uint32_t expected =
      (1u << 18) | static_cast<std::uint32_t>((234000ull << 18) / 1000000);
  EXPECT_EQ(read_u24(abs.data()), expected);

  const auto dropped = long_mid_sink.views().front();
  EXPECT_FALSE(dropped.extension(9)) << "a mid of another length cannot be written in place";
  EXPECT_FALSE(dropped.extension(kIngestMidId));
}

TEST_F(RelayRewriteTest, NewLegMidGopStartsAtKeyframeAccessUnitWithContiguousSequence) {
  start();
  feed(relay, at(0), publisher.delta());  // before any keyframe: not cached
  const auto keyframe = publisher.keyframe();
  feed(relay, at(33), keyframe);
  const auto delta1 = publisher.delta();
  const auto delta2 = publisher.delta();
  feed(relay, at(66), delta1);
  feed(relay, at(100), delta2);
  EXPECT_EQ(relay.source_stats().gop_cache_packets, keyframe.size() + 2);
  // The delta before any keyframe asked for one (RelayConfig::gop_refresh_age); what matters
  // below is that the new leg asks for nothing.
  feedback.clear();

  const EgressId leg = relay.add_egress(at(120), egress_format(), leg_sink);
  const auto out = leg_sink.views();
  ASSERT_EQ(out.size(), keyframe.size() + 2);
  EXPECT_EQ(payload_of(leg_sink.rtp[0]), fixture("base720.sps"))
      << "the first packet a new leg sees is the SPS of the latest keyframe";
  for (std::size_t i = 1; i < out.size(); ++i) {
    EXPECT_EQ(out[i].sequence_number, static_cast<std::uint16_t>(out[0].sequence_number + i));
  }
  EXPECT_EQ(out.back().timestamp - out[0].timestamp, 6000u) << "relative timestamps kept";
  EXPECT_TRUE(relay.egress_stats(leg)->started_from_gop_cache);
  EXPECT_TRUE(feedback.rtcp.empty()) << "a cached keyframe needs no upstream request";

  leg_sink.clear();
  feed(relay, at(133), publisher.delta());
  ASSERT_EQ(leg_sink.views().size(), 1u);
  EXPECT_EQ(leg_sink.views()[0].sequence_number,
            static_cast<std::uint16_t>(out.back().sequence_number + 1))
      << "live packets continue with the same offsets";
}

TEST_F(RelayRewriteTest, LegWithoutCacheWaitsForKeyframeAndAsksUpstream) {
  start();
  feed(relay, at(0), publisher.delta());
  const EgressId leg = relay.add_egress(at(10), egress_format(), leg_sink);
  const auto plis = feedback.rtcp_of<proto::RtcpPli>();
  ASSERT_EQ(plis.size(), 1u);
  EXPECT_EQ(plis[0].media_ssrc, publisher.video_ssrc);
  EXPECT_EQ(relay.source_stats().keyframe_requests_sent, 1u);

  feed(relay, at(20), publisher.delta());
  relay.handle_publisher_rtp(at(21), MediaKind::kAudio, publisher.audio());
  auto out = leg_sink.views();
  ASSERT_EQ(out.size(), 1u) << "no video before a keyframe, audio at once";
  EXPECT_EQ(out[0].ssrc, 0x51000002u);

  leg_sink.clear();
  const auto keyframe = publisher.keyframe();
  feed(relay, at(40), keyframe);
  ASSERT_EQ(leg_sink.rtp.size(), keyframe.size());
  EXPECT_EQ(payload_of(leg_sink.rtp[0]), fixture("base720.sps"));
  EXPECT_FALSE(relay.egress_stats(leg)->started_from_gop_cache);
}

TEST_F(RelayRewriteTest, PublisherSwitchContinuesSequenceAndProjectsTimestamp) {
  start();
  relay.add_egress(at(0), egress_format(), leg_sink);
  feed(relay, at(0), publisher.keyframe());
  feed(relay, at(33), publisher.delta());
  relay.handle_publisher_rtp(at(33), MediaKind::kAudio, publisher.audio());
  const auto before = leg_sink.views();
  proto::RtpView last_video;
  proto::RtpView last_audio;
  for (const auto& view : before) {
    (view.ssrc == 0x51000001u ? last_video : last_audio) = view;
  }
  leg_sink.clear();

  // A new publisher: new SSRCs and a sequence base that wraps within the next access unit.
  TestPublisher next(0x7777, 65534, 0x90000000, 0x8888);
  next.audio_sequence = 40000;
  while (relay.poll_event()) {
  }
  relay.start_publisher(at(533), ingest_format(), feedback);
  auto event = relay.poll_event();
  ASSERT_TRUE(event);
  EXPECT_EQ(std::get<RelayPublisherSwitched>(*event).epoch, 2u);

  feed(relay, at(540), next.delta());
  EXPECT_TRUE(leg_sink.rtp.empty()) << "video waits for the new publisher's keyframe";
  const auto keyframe = next.keyframe();
  feed(relay, at(633), keyframe);
  feed(relay, at(666), next.delta());
  relay.handle_publisher_rtp(at(633), MediaKind::kAudio, next.audio());
  const auto after = leg_sink.views();
  std::vector<proto::RtpView> video;
  std::vector<proto::RtpView> audio;
  for (const auto& view : after) {
    (view.ssrc == 0x51000001u ? video : audio).push_back(view);
  }
  ASSERT_EQ(video.size(), keyframe.size() + 1);
  for (std::size_t i = 0; i < video.size(); ++i) {
    EXPECT_EQ(video[i].sequence_number,
              static_cast<std::uint16_t>(last_video.sequence_number + 1 + i))
        << "contiguous across the switch and across the ingest wrap, packet " << i;
  }
  EXPECT_EQ(video[0].timestamp - last_video.timestamp, 600u * 90)
      << "timestamp projected by the 600 ms between the last old and first new packet";
  EXPECT_EQ(video.back().timestamp - video[0].timestamp, 3000u);
  ASSERT_EQ(audio.size(), 1u);
  EXPECT_EQ(audio[0].sequence_number, static_cast<std::uint16_t>(last_audio.sequence_number + 1));
  EXPECT_EQ(audio[0].timestamp - last_audio.timestamp, 600u * 48);
}

TEST_F(RelayRewriteTest, SwitchWithinMillisecondStillAdvancesTimestamp) {
  start();
  relay.add_egress(at(0), egress_format(), leg_sink);
  relay.handle_publisher_rtp(at(10), MediaKind::kAudio, publisher.audio());
  const auto first = leg_sink.views().back();
  TestPublisher next(0x7777, 1, 1, 0x8888);
  relay.start_publisher(at(10), ingest_format(), feedback);
  relay.handle_publisher_rtp(at(10), MediaKind::kAudio, next.audio());
  const auto second = leg_sink.views().back();
  EXPECT_EQ(second.timestamp - first.timestamp, 1u) << "at least +1, never equal or backwards";
}

TEST_F(RelayRewriteTest, NewVideoSsrcWithinEpochIsTreatedAsSwitch) {
  start();
  relay.add_egress(at(0), egress_format(), leg_sink);
  feed(relay, at(0), publisher.keyframe());
  const auto last = leg_sink.views().back();
  leg_sink.clear();
  TestPublisher restarted(0x4242, 30000, 77);
  feed(relay, at(100), restarted.delta());
  EXPECT_TRUE(leg_sink.rtp.empty());
  feed(relay, at(200), restarted.keyframe());
  ASSERT_FALSE(leg_sink.rtp.empty());
  EXPECT_EQ(leg_sink.views()[0].sequence_number,
            static_cast<std::uint16_t>(last.sequence_number + 1));
  // A straggler from the replaced SSRC must not flip the stream back.
  leg_sink.clear();
  feed(relay, at(210), publisher.delta());
  EXPECT_TRUE(leg_sink.rtp.empty());
}

TEST_F(RelayRewriteTest, RemoveEgressStopsOutput) {
  start();
  RecordingSink other;
  const EgressId leg = relay.add_egress(at(0), egress_format(), leg_sink);
  relay.add_egress(at(0), egress_format(0x61, 0x62), other);
  feed(relay, at(0), publisher.keyframe());
  const std::size_t sent = leg_sink.rtp.size();
  EXPECT_EQ(relay.egress_count(), 2u);
  relay.remove_egress(leg);
  EXPECT_EQ(relay.egress_count(), 1u);
  EXPECT_FALSE(relay.egress_stats(leg));
  feed(relay, at(33), publisher.delta());
  relay.handle_timeout(at(5000));
  EXPECT_EQ(leg_sink.rtp.size(), sent);
  EXPECT_TRUE(leg_sink.rtcp.empty());
  EXPECT_GT(other.rtp.size(), sent);
}

TEST_F(RelayRewriteTest, OversizedGopIsDroppedAndNewLegWaits) {
  RelayConfig config;
  config.gop_cache_max_packets = 6;
  Relay small(config);
  small.start_publisher(at(0), ingest_format(), feedback);
  feed(small, at(0), publisher.keyframe());
  EXPECT_GT(small.source_stats().gop_cache_packets, 0u);
  feed(small, at(33), publisher.delta());
  feed(small, at(66), publisher.delta());
  feed(small, at(99), publisher.delta());
  EXPECT_EQ(small.source_stats().gop_cache_packets, 0u) << "dropped, not trimmed";
  small.add_egress(at(100), egress_format(), leg_sink);
  EXPECT_TRUE(leg_sink.rtp.empty());
  EXPECT_EQ(feedback.rtcp_of<proto::RtcpPli>().size(), 1u);
}

}  // namespace
}  // namespace ivs::engine
