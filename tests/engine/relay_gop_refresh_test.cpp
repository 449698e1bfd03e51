// The GOP cache kept short (RelayConfig::gop_refresh_age, DESIGN.md §5), on a simulated clock.
//
// The bug's story (issue 11): a Chromium publisher (OpenH264) sends a keyframe only when asked.
// Nobody asked, so the relay's cached GOP held every frame since the stream began, and a stage
// created 20 s in was sent 20 s of video as one burst; it decoded its first frame 4.3 s after it
// connected instead of within a round trip. The relay now asks for a fresh keyframe once the
// cached GOP is older than 2 s (or the cache is empty), under the usual rate limit, so the
// replay a joining leg gets stays short whatever the encoder; an encoder that ignores the
// request (OBS) is asked at most once per limiter interval.
#include <gtest/gtest.h>

#include "engine/relay.hpp"
#include "relay_test_util.hpp"

namespace ivs::engine {
namespace {

using namespace relay_test;

class RelayGopRefreshTest : public ::testing::Test {
 protected:
  void start(RelayConfig config = {}) {
    relay = std::make_unique<Relay>(config);
    relay->start_publisher(at(0), ingest_format(), feedback);
  }
  // One frame every 33 ms from `from_ms` up to `to_ms`, the timers run in between.
  void deltas(int from_ms, int to_ms) {
    for (int t = from_ms; t < to_ms; t += 33) {
      run_until(*relay, at(t));
      feed(*relay, at(t), publisher.delta());
    }
  }
  std::size_t keyframe_requests() const { return feedback.rtcp_of<proto::RtcpPli>().size(); }

  std::unique_ptr<Relay> relay;
  RecordingSink feedback;
  RecordingSink leg_sink;
  TestPublisher publisher;
};

TEST_F(RelayGopRefreshTest, AnOldGopAsksForAFreshKeyframeAndAJoinGetsOnlyTheNewOne) {
  start();
  feed(*relay, at(0), publisher.keyframe());
  deltas(33, 1990);
  EXPECT_EQ(keyframe_requests(), 0u) << "a GOP younger than 2 s is left alone";
  deltas(1990, 2100);
  ASSERT_EQ(keyframe_requests(), 1u) << "the 2 s old GOP asks for a keyframe";
  EXPECT_EQ(feedback.rtcp_of<proto::RtcpPli>()[0].media_ssrc, publisher.video_ssrc);

  // The encoder answers with a keyframe (as browsers and aiortc do); the requests stop.
  feed(*relay, at(2100), publisher.keyframe());
  deltas(2133, 3000);
  EXPECT_EQ(keyframe_requests(), 1u);

  // A leg joining now gets the fresh GOP (keyframe + ~27 deltas), not 3 s of frames.
  relay->add_egress(at(3000), egress_format(), leg_sink);
  const std::size_t keyframe_packets = publisher.keyframe().size();
  const std::size_t expected = keyframe_packets + (3000 - 2133 + 32) / 33;
  EXPECT_EQ(leg_sink.views().size(), expected);
  EXPECT_EQ(relay->source_stats().keyframes, 2u);
}

TEST_F(RelayGopRefreshTest, AnEncoderThatIgnoresTheRequestIsAskedOncePerInterval) {
  start();
  feed(*relay, at(0), publisher.keyframe());
  deltas(33, 4000);  // no keyframe comes (OBS ignores PLI)
  // Old from 2000 ms: requests at ~2000, 2500, 3000, 3500 (the 500 ms limiter).
  EXPECT_GE(keyframe_requests(), 3u);
  EXPECT_LE(keyframe_requests(), 4u);
  EXPECT_EQ(relay->source_stats().keyframe_requests_sent, keyframe_requests());
}

TEST_F(RelayGopRefreshTest, AnOverflowedCacheAsksForAKeyframeAtOnce) {
  RelayConfig config;
  config.gop_cache_max_packets = 20;
  start(config);
  feed(*relay, at(0), publisher.keyframe());
  deltas(33, 33 * 12);
  EXPECT_EQ(keyframe_requests(), 0u);
  EXPECT_GT(relay->source_stats().gop_cache_packets, 0u);
  deltas(33 * 12, 33 * 30);  // past 20 packets: the cache is dropped
  EXPECT_EQ(relay->source_stats().gop_cache_packets, 0u);
  EXPECT_GE(keyframe_requests(), 1u) << "an empty cache asks at once, not after 2 s";
}

TEST_F(RelayGopRefreshTest, RefreshAgeIsConfigurable) {
  RelayConfig config;
  config.gop_refresh_age = std::chrono::milliseconds(800);
  start(config);
  feed(*relay, at(0), publisher.keyframe());
  deltas(33, 780);
  EXPECT_EQ(keyframe_requests(), 0u);
  deltas(780, 900);
  EXPECT_EQ(keyframe_requests(), 1u);
}

// Found with Chromium simulcast (issue 11): Chromium sends padding-only packets (bandwidth
// probes) between frames. The GOP cache skipped them, so a leg that joined from it saw holes in
// the sequence numbers and NACKed 10–50 packets. The replay now holds them too.
TEST_F(RelayGopRefreshTest, PaddingInsideTheGopIsReplayedWithoutSequenceGaps) {
  start();
  feed(*relay, at(0), publisher.keyframe());
  proto::RtpPacket padding;
  padding.payload_type = kIngestVideoPt;
  padding.sequence_number = publisher.video_sequence++;
  padding.timestamp = publisher.video_timestamp - 3000;
  padding.ssrc = publisher.video_ssrc;
  padding.padding_size = 200;
  relay->handle_publisher_rtp(at(10), MediaKind::kVideo, *padding.serialize());
  feed(*relay, at(33), publisher.delta());

  relay->add_egress(at(50), egress_format(), leg_sink);
  const auto views = leg_sink.views();
  ASSERT_EQ(views.size(), publisher.keyframe().size() + 2);
  for (std::size_t i = 1; i < views.size(); ++i) {
    EXPECT_EQ(views[i].sequence_number, static_cast<std::uint16_t>(views[0].sequence_number + i))
        << "gap before replayed packet " << i;
  }
}

}  // namespace
}  // namespace ivs::engine
