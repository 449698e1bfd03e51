// GopCache (gop_cache.hpp) and the publisher-side helpers (relay_source.hpp) on their own:
// keyframe access-unit detection with separately sent or aggregated parameter sets, repeated
// parameter sets without an IDR, and the NACK retry schedule.
#include <gtest/gtest.h>

#include "engine/gop_cache.hpp"
#include "engine/relay_packet.hpp"
#include "engine/relay_source.hpp"
#include "proto/h264_packetizer.hpp"
#include "proto/h264_payload.hpp"
#include "relay_test_util.hpp"

namespace ivs::engine {
namespace {

using namespace relay_test;

struct Packet {
  Bytes bytes;
  proto::RtpView view;
  proto::H264PayloadInfo info;
};

Packet make(std::uint16_t sequence, std::uint32_t timestamp, const Bytes& payload) {
  proto::RtpPacket packet;
  packet.payload_type = kIngestVideoPt;
  packet.sequence_number = sequence;
  packet.timestamp = timestamp;
  packet.ssrc = 1;
  packet.payload = payload;
  Packet out;
  out.bytes = *packet.serialize();
  out.view = *proto::parse_rtp(out.bytes);
  out.info = *proto::inspect_h264_payload(out.view.payload());
  return out;
}

GopCache::Added add(GopCache& cache, const Packet& packet) {
  return cache.add(at(0), packet.view, packet.info);
}

TEST(GopCacheTest, KeyframeWithSeparateParameterSetsStartsAtTheSps) {
  GopCache cache(100, 1 << 20);
  EXPECT_EQ(add(cache, make(1, 0, fixture("base720_p_head.nal"))), GopCache::Added::kNotCached);
  EXPECT_EQ(add(cache, make(2, 3000, fixture("base720.sps"))), GopCache::Added::kNotCached);
  EXPECT_EQ(add(cache, make(3, 3000, fixture("base720.pps"))), GopCache::Added::kNotCached);
  EXPECT_EQ(add(cache, make(4, 3000, fixture("base720_idr_head.nal"))),
            GopCache::Added::kNewKeyframe);
  EXPECT_EQ(add(cache, make(5, 6000, fixture("base720_p_head.nal"))), GopCache::Added::kCached);
  ASSERT_EQ(cache.packets(), 4u);
  EXPECT_EQ(proto::parse_rtp(cache.entries().front().bytes())->sequence_number, 2);
}

// The relay's ingest side and every shard cache the same shared packets: the cache must keep the
// packet itself (no copy: a GOP is ~0.4 MB per holder) and decide exactly as for copied packets.
TEST(GopCacheTest, SharedPacketsAreHeldNotCopiedAndCachedTheSameWay) {
  GopCache cache(100, 1 << 20);
  auto shared = [](const Packet& packet) {
    return make_relay_packet(MediaKind::kVideo, {1, packet.view.sequence_number}, at(0),
                             packet.info, packet.view);
  };
  EXPECT_EQ(cache.add(shared(make(1, 0, fixture("base720_p_head.nal")))),
            GopCache::Added::kNotCached);
  EXPECT_EQ(cache.add(shared(make(2, 3000, fixture("base720.sps")))), GopCache::Added::kNotCached);
  EXPECT_EQ(cache.add(shared(make(3, 3000, fixture("base720.pps")))), GopCache::Added::kNotCached);
  const auto idr = shared(make(4, 3000, fixture("base720_idr_head.nal")));
  EXPECT_EQ(cache.add(idr), GopCache::Added::kNewKeyframe);
  EXPECT_EQ(cache.add(shared(make(5, 6000, fixture("base720_p_head.nal")))),
            GopCache::Added::kCached);
  ASSERT_EQ(cache.packets(), 4u);
  EXPECT_EQ(proto::parse_rtp(cache.entries().front().bytes())->sequence_number, 2);
  EXPECT_EQ(cache.entries()[2].bytes().data(), idr->bytes.data());
  EXPECT_EQ(cache.bytes(), [&] {
    std::size_t total = 0;
    for (const auto& entry : cache.entries()) {
      total += entry.bytes().size();
    }
    return total;
  }());
}

TEST(GopCacheTest, StapAKeyframeAndRepeatedParameterSetsWithoutIdr) {
  GopCache cache(100, 1 << 20);
  const Bytes sps = fixture("base720.sps");
  const Bytes pps = fixture("base720.pps");
  const std::vector<ByteSpan> units{sps, pps};
  const Bytes stap = proto::build_stap_a(units);
  add(cache, make(10, 0, stap));
  EXPECT_EQ(add(cache, make(11, 0, fixture("base720_idr_head.nal"))),
            GopCache::Added::kNewKeyframe);
  add(cache, make(12, 3000, fixture("base720_p_head.nal")));
  // An encoder repeating SPS/PPS before a P frame: no new keyframe, the old GOP stays.
  EXPECT_EQ(add(cache, make(13, 6000, stap)), GopCache::Added::kCached);
  EXPECT_EQ(add(cache, make(14, 6000, fixture("base720_p_head.nal"))), GopCache::Added::kCached);
  EXPECT_EQ(proto::parse_rtp(cache.entries().front().bytes())->sequence_number, 10);
  EXPECT_EQ(cache.packets(), 5u);
  // The next real keyframe replaces the whole cache.
  EXPECT_EQ(add(cache, make(15, 9000, stap)), GopCache::Added::kCached);
  EXPECT_EQ(add(cache, make(16, 9000, fixture("base720_idr_head.nal"))),
            GopCache::Added::kNewKeyframe);
  EXPECT_EQ(cache.packets(), 2u);
  EXPECT_EQ(proto::parse_rtp(cache.entries().front().bytes())->sequence_number, 15);
}

TEST(GopCacheTest, ByteLimitDropsTheCacheUntilTheNextKeyframe) {
  GopCache cache(100, 4000);
  add(cache, make(1, 0, fixture("base720_idr_head.nal")));
  EXPECT_TRUE(cache.valid());
  add(cache, make(2, 3000, fixture("base720_p_head.nal")));
  EXPECT_EQ(add(cache, make(3, 6000, fixture("base720_p_head.nal"))), GopCache::Added::kNotCached);
  EXPECT_FALSE(cache.valid());
  EXPECT_EQ(cache.bytes(), 0u);
  EXPECT_EQ(add(cache, make(4, 9000, fixture("base720_p_head.nal"))), GopCache::Added::kNotCached);
  EXPECT_EQ(add(cache, make(5, 12000, fixture("base720_idr_head.nal"))),
            GopCache::Added::kNewKeyframe);
  EXPECT_TRUE(cache.valid());
}

TEST(NackTrackerTest, RetriesSpacedThenGivesUp) {
  NackTracker tracker;
  tracker.add_gap(at(0), 100, 1);
  std::vector<std::uint16_t> due;
  EXPECT_EQ(tracker.collect_due(at(0), due), 0u);
  EXPECT_EQ(due, std::vector<std::uint16_t>{100});
  due.clear();
  tracker.collect_due(at(100), due);
  EXPECT_TRUE(due.empty()) << "spaced, not on every timeout";
  EXPECT_EQ(tracker.next_deadline(), at(0) + kNackRetryInterval);
  std::uint64_t given_up = 0;
  int attempts = 1;
  for (int ms = 150; ms <= 1200; ms += 10) {
    due.clear();
    given_up += tracker.collect_due(at(ms), due);
    attempts += static_cast<int>(due.size());
  }
  EXPECT_EQ(attempts, kNackMaxAttempts);
  EXPECT_EQ(given_up, 1u);
  EXPECT_EQ(tracker.pending(), 0u);
  EXPECT_FALSE(tracker.next_deadline());
}

TEST(NackTrackerTest, HugeGapIsLostWithoutNacks) {
  NackTracker tracker;
  EXPECT_EQ(tracker.add_gap(at(0), 0, kMaxNackGap + 1),
            static_cast<std::uint64_t>(kMaxNackGap + 1));
  EXPECT_EQ(tracker.pending(), 0u);
}

TEST(RelayInboundStreamTest, JitterGrowsWithIrregularArrival) {
  RelayInboundStream steady;
  RelayInboundStream irregular;
  steady.reset(1, 90000);
  irregular.reset(1, 90000);
  for (int i = 0; i < 50; ++i) {
    steady.on_packet(at(i * 33), static_cast<std::uint16_t>(i), i * 2970u);
    irregular.on_packet(at(i * 33 + (i % 2) * 20), static_cast<std::uint16_t>(i), i * 2970u);
  }
  EXPECT_LT(steady.make_report_block(at(2000)).jitter, 10u);
  EXPECT_GT(irregular.make_report_block(at(2000)).jitter, 1000u);
}

}  // namespace
}  // namespace ivs::engine
