// The relay split across shards (relay_ingest.hpp, relay_fanout.hpp): one ingest side and two
// fan-out shards, connected only by the messages the media workers carry between threads (a
// shared RelayPacket per ingest packet, the start of a publisher epoch, "keyframe wanted" back).
// Each test checks that a behaviour of the single-threaded relay holds with the legs spread over
// two shards: a stage join from a shard's own GOP cache, a publisher switch, a NACK answer, and
// PLI aggregation upstream. Simulated time; the messages are delivered in order, as a worker's
// event loop does.
#include <gtest/gtest.h>

#include <array>

#include "engine/relay_fanout.hpp"
#include "engine/relay_ingest.hpp"
#include "relay_test_util.hpp"

namespace ivs::engine {
namespace {

using namespace relay_test;

// What the app's RelayChannel and media workers do, minus the threads.
struct ShardedRelay {
  ShardedRelay() : ingest(RelayConfig{}), shards{RelayFanout({}, 1), RelayFanout({}, 1'000'001)} {}

  void start(Instant now, const RelaySourceFormat& format) {
    ingest.start_publisher(now, format, feedback);
    for (auto& shard : shards) {
      shard.start_source(format);
    }
  }
  void feed(Instant now, const std::vector<Bytes>& packets) {
    for (const auto& bytes : packets) {
      const RelayPacketPtr packet = ingest.handle_rtp(now, MediaKind::kVideo, bytes);
      ASSERT_TRUE(packet);
      for (auto& shard : shards) {
        shard.handle_packet(now, packet);
      }
      forward_keyframe_wanted(now);
    }
  }
  void forward_keyframe_wanted(Instant now) {
    for (auto& shard : shards) {
      if (shard.take_keyframe_wanted()) {
        ingest.request_keyframe(now);
      }
    }
  }
  void run_until(Instant until) {
    while (auto next = ingest.poll_timeout()) {
      if (*next > until) {
        break;
      }
      ingest.handle_timeout(*next);
    }
  }

  RelayIngest ingest;
  std::array<RelayFanout, 2> shards;
  RecordingSink feedback;
};

TEST(RelayShards, LegIdsOfTwoShardsNeverCollide) {
  ShardedRelay relay;
  RecordingSink a, b;
  EXPECT_NE(relay.shards[0].add_egress(at(0), egress_format(), a),
            relay.shards[1].add_egress(at(0), egress_format(), b));
}

TEST(RelayShards, ALegJoiningTheSecondShardStartsFromThatShardsGopCache) {
  ShardedRelay relay;
  TestPublisher publisher;
  relay.start(at(0), ingest_format(false));
  RecordingSink early, late;
  relay.shards[0].add_egress(at(0), egress_format(0x100, 0x101), early);
  relay.feed(at(0), publisher.keyframe());
  relay.feed(at(33), publisher.delta());
  ASSERT_EQ(early.rtp.size(), 6u) << "SPS, PPS, 3 IDR fragments, 1 delta";
  const std::size_t requests_before = relay.feedback.rtcp_of<proto::RtcpPli>().size();

  const EgressId joined = relay.shards[1].add_egress(at(50), egress_format(0x200, 0x201), late);
  EXPECT_FALSE(relay.shards[1].take_keyframe_wanted()) << "the shard had a GOP: no request";
  ASSERT_EQ(late.rtp.size(), early.rtp.size()) << "the whole cached GOP at once";
  for (std::size_t i = 0; i < late.rtp.size(); ++i) {
    EXPECT_EQ(payload_of(late.rtp[i]), payload_of(early.rtp[i])) << i;
  }
  EXPECT_TRUE(relay.shards[1].egress_stats(joined)->started_from_gop_cache);
  relay.feed(at(66), publisher.delta());
  EXPECT_EQ(late.rtp.size(), 7u) << "and the live stream after it";
  EXPECT_EQ(relay.feedback.rtcp_of<proto::RtcpPli>().size(), requests_before)
      << "the join asked the publisher for nothing";
}

TEST(RelayShards, APublisherSwitchContinuesEveryLegsNumberingOnBothShards) {
  ShardedRelay relay;
  TestPublisher first(0x1000, 100, 5000);
  relay.start(at(0), ingest_format(false));
  std::array<RecordingSink, 2> sinks;
  relay.shards[0].add_egress(at(0), egress_format(0x100, 0x101), sinks[0]);
  relay.shards[1].add_egress(at(0), egress_format(0x200, 0x201), sinks[1]);
  relay.feed(at(0), first.keyframe());
  relay.feed(at(33), first.delta());

  TestPublisher second(0x3000, 40000, 900000);  // new SSRC, sequence and timestamp bases
  relay.start(at(1000), ingest_format(false));
  relay.feed(at(1000), second.delta());
  for (const auto& sink : sinks) {
    EXPECT_EQ(sink.rtp.size(), 6u) << "a delta frame before the new keyframe is held back";
  }
  relay.feed(at(1010), second.keyframe());
  for (const auto& sink : sinks) {
    const auto views = sink.views();
    ASSERT_EQ(views.size(), 11u);
    EXPECT_EQ(views[6].sequence_number, static_cast<std::uint16_t>(views[5].sequence_number + 1));
    EXPECT_TRUE(proto::is_newer_timestamp(views[6].timestamp, views[5].timestamp));
  }
}

TEST(RelayShards, ANackOnTheSecondShardIsAnsweredByteIdenticalFromItsHistory) {
  ShardedRelay relay;
  TestPublisher publisher;
  relay.start(at(0), ingest_format(false));
  RecordingSink sink;
  const EgressId leg = relay.shards[1].add_egress(at(0), egress_format(0x200, 0x201), sink);
  relay.feed(at(0), publisher.keyframe());
  relay.feed(at(33), publisher.delta());
  const auto sent = sink.rtp;
  const auto views = sink.views();
  sink.clear();
  const std::vector<proto::RtcpPacket> nack{proto::RtcpNack::from_sequence_numbers(
      0x99, 0x200, std::vector<std::uint16_t>{views[2].sequence_number})};
  relay.shards[1].handle_egress_rtcp(at(100), leg, nack);
  ASSERT_EQ(sink.rtp.size(), 1u);
  EXPECT_EQ(sink.rtp[0], sent[2]);
  EXPECT_EQ(relay.shards[1].egress_stats(leg)->packets_retransmitted, 1u);
}

TEST(RelayShards, PlisFromLegsOnBothShardsBecomeOneRequestPerInterval) {
  ShardedRelay relay;
  TestPublisher publisher;
  relay.start(at(0), ingest_format(false));
  relay.feed(at(0), publisher.keyframe());
  std::array<RecordingSink, 2> sinks;
  std::array<EgressId, 2> legs{};
  for (std::size_t i = 0; i < 2; ++i) {
    legs[i] = relay.shards[i].add_egress(at(0), egress_format(0x100 + i, 0x200 + i), sinks[i]);
  }
  for (std::size_t i = 0; i < 2; ++i) {
    const std::vector<proto::RtcpPacket> pli{
        proto::RtcpPli{0x99, 0x100u + static_cast<std::uint32_t>(i)}};
    relay.shards[i].handle_egress_rtcp(at(100 + static_cast<int>(i)), legs[i], pli);
    relay.forward_keyframe_wanted(at(100 + static_cast<int>(i)));
  }
  EXPECT_EQ(relay.feedback.rtcp_of<proto::RtcpPli>().size(), 1u) << "one request for two";
  relay.run_until(at(600));
  EXPECT_EQ(relay.feedback.rtcp_of<proto::RtcpPli>().size(), 2u)
      << "the held-back one, an interval after the first";
  relay.run_until(at(3000));
  EXPECT_EQ(relay.feedback.rtcp_of<proto::RtcpPli>().size(), 2u);
}

}  // namespace
}  // namespace ivs::engine
