// SimulcastSelector (simulcast_selector.hpp) on a simulated clock: the layer choice from each
// layer's SPS, switching only at a keyframe of the new layer, the fallback after the chosen layer
// is silent for longer than the layer timeout, the upgrade when it returns, and (with a real
// engine::Relay behind it) that a switch gives a leg a decodable start with continuous sequence
// numbers, also when a layer that was switched away from comes back.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "engine/simulcast_selector.hpp"
#include "relay_test_util.hpp"

namespace ivs::engine {
namespace {

using namespace relay_test;

constexpr std::uint8_t kRidExt = 10;

// One simulcast encoding: its own SSRC and numbering, the rid extension on every packet.
class Layer {
 public:
  Layer(std::string rid, std::uint32_t ssrc, std::string sps)
      : rid_(std::move(rid)), ssrc_(ssrc), sps_(std::move(sps)) {}

  std::vector<Bytes> keyframe() {
    std::vector<Bytes> payloads{fixture(sps_), fixture("base720.pps")};
    for (auto& fragment : proto::fragment_fu_a(fixture("base720_idr_head.nal"), 1100)) {
      payloads.push_back(std::move(fragment));
    }
    return access_unit(payloads);
  }
  std::vector<Bytes> delta() { return access_unit({fixture("base720_p_head.nal")}); }
  // A padding-only packet (no payload), as Chromium sends to fill a layer's bitrate.
  Bytes padding() {
    proto::RtpPacket packet;
    packet.payload_type = payload_type;
    packet.sequence_number = sequence_++;
    packet.timestamp = timestamp_ - 3000;
    packet.ssrc = ssrc_;
    packet.padding_size = 200;
    return *packet.serialize();
  }
  std::uint32_t ssrc() const { return ssrc_; }
  std::uint8_t payload_type = kIngestVideoPt;

 private:
  std::vector<Bytes> access_unit(const std::vector<Bytes>& payloads) {
    std::vector<Bytes> packets;
    for (std::size_t i = 0; i < payloads.size(); ++i) {
      proto::RtpPacket packet;
      packet.marker = i + 1 == payloads.size();
      packet.payload_type = payload_type;
      packet.sequence_number = sequence_++;
      packet.timestamp = timestamp_;
      packet.ssrc = ssrc_;
      packet.extensions.push_back({kRidExt, Bytes(rid_.begin(), rid_.end())});
      packet.payload = payloads[i];
      packets.push_back(*packet.serialize());
    }
    timestamp_ += 3000;
    return packets;
  }

  std::string rid_;
  std::uint32_t ssrc_;
  std::string sps_;
  std::uint16_t sequence_ = 1000;
  std::uint32_t timestamp_ = 90000;
};

class Recorder final : public SimulcastOutput {
 public:
  void switched(std::size_t layer, std::uint32_t ssrc) override {
    switches.push_back(layer);
    ssrcs.push_back(ssrc);
  }
  void forward(ByteSpan packet) override { forwarded.emplace_back(packet.begin(), packet.end()); }
  void request_keyframe(std::uint32_t ssrc) override { keyframe_requests.push_back(ssrc); }

  std::vector<std::size_t> switches;
  std::vector<std::uint32_t> ssrcs;
  std::vector<Bytes> forwarded;
  std::vector<std::uint32_t> keyframe_requests;
};

SimulcastSelectorConfig config(std::vector<std::string> rids) {
  SimulcastSelectorConfig config;
  config.rids = std::move(rids);
  config.payload_type = kIngestVideoPt;
  config.rtp_stream_id_ext = kRidExt;
  return config;
}

void feed(SimulcastSelector& selector, Instant now, const std::vector<Bytes>& packets,
          SimulcastOutput& out) {
  for (const auto& packet : packets) {
    selector.handle_rtp(now, packet, out);
  }
}

std::uint32_t ssrc_of(const Bytes& packet) {
  return proto::parse_rtp(packet)->ssrc;
}

bool starts_with_sps(const Bytes& packet) {
  auto info = proto::inspect_h264_payload(proto::parse_rtp(packet)->payload());
  return info.ok() && info->has_sps;
}

TEST(SimulcastSelectorTest, A1080pAnd720pPublisherGivesThe720pLayer) {
  // OBS order: the full-resolution layer is the first rid.
  SimulcastSelector selector(config({"0", "1"}));
  Layer full("0", 0xF00, "high1080.sps");
  Layer half("1", 0x720, "base720.sps");
  Recorder out;
  feed(selector, at(0), full.keyframe(), out);
  feed(selector, at(5), half.keyframe(), out);
  ASSERT_EQ(selector.chosen(), 1u);
  for (int frame = 1; frame < 10; ++frame) {
    feed(selector, at(frame * 33), full.delta(), out);
    feed(selector, at(frame * 33 + 2), half.delta(), out);
  }
  ASSERT_FALSE(out.forwarded.empty());
  EXPECT_TRUE(starts_with_sps(out.forwarded.front()));
  for (const auto& packet : out.forwarded) {
    EXPECT_EQ(ssrc_of(packet), 0x720u);
  }
  const auto stats = selector.stats(at(330));
  ASSERT_EQ(stats.layers.size(), 2u);
  EXPECT_EQ(stats.layers[0].sps->width, 1920u);
  EXPECT_FALSE(stats.layers[0].fits);
  EXPECT_EQ(stats.layers[1].sps->height, 720u);
  EXPECT_TRUE(stats.layers[1].fits);
}

TEST(SimulcastSelectorTest, ThreeLayersGiveTheLargestEvenWhenASmallerKeyframeCameFirst) {
  SimulcastSelector selector(config({"h", "m", "l"}));
  Layer high("h", 1, "base720.sps");
  Layer mid("m", 2, "base360.sps");
  Layer low("l", 3, "high444_642x362.sps");
  Recorder out;
  feed(selector, at(0), mid.keyframe(), out);
  EXPECT_FALSE(selector.chosen()) << "the first choice waits for the other layers' SPS";
  feed(selector, at(1), low.keyframe(), out);
  feed(selector, at(40), high.keyframe(), out);
  EXPECT_EQ(selector.chosen(), 0u);
  ASSERT_EQ(out.switches.size(), 1u);
  EXPECT_EQ(out.ssrcs.front(), 1u);
}

TEST(SimulcastSelectorTest, TheFirstChoiceIsMadeAfterTheInitialWaitWithoutTheMissingLayers) {
  SimulcastSelector selector(config({"h", "m"}));
  Layer high("h", 1, "base720.sps");
  Layer mid("m", 2, "base360.sps");
  Recorder out;
  feed(selector, at(0), mid.keyframe(), out);
  feed(selector, at(1), {high.delta()}, out);  // h is sending, its SPS not seen yet
  EXPECT_FALSE(selector.chosen());
  ASSERT_TRUE(selector.poll_timeout());
  EXPECT_EQ(*selector.poll_timeout(), at(300));
  selector.handle_timeout(at(300), out);
  EXPECT_EQ(selector.chosen(), 1u);
  ASSERT_FALSE(out.forwarded.empty());
  EXPECT_TRUE(starts_with_sps(out.forwarded.front()));
}

TEST(SimulcastSelectorTest, FallsBackAfterOneSecondOfSilenceThenUpgradesAtTheReturningKeyframe) {
  SimulcastSelector selector(config({"h", "m"}));
  Layer high("h", 1, "base720.sps");
  Layer mid("m", 2, "base360.sps");
  Recorder out;
  feed(selector, at(0), high.keyframe(), out);
  feed(selector, at(0), mid.keyframe(), out);
  ASSERT_EQ(selector.chosen(), 0u);
  // h stops after 100 ms; m keeps going.
  int now = 0;
  for (; now <= 100; now += 33) {
    feed(selector, at(now), high.delta(), out);
    feed(selector, at(now), mid.delta(), out);
  }
  const int stopped = now - 33;
  for (; now <= stopped + 1000; now += 33) {
    feed(selector, at(now), mid.delta(), out);
    EXPECT_EQ(selector.chosen(), 0u) << "silent for only " << now - stopped << " ms";
  }
  out.forwarded.clear();
  feed(selector, at(now), mid.delta(), out);
  // m's cached GOP is over a second old: a fresh keyframe is asked for instead of replaying it.
  EXPECT_EQ(selector.chosen(), 0u);
  EXPECT_EQ(out.keyframe_requests, std::vector<std::uint32_t>{2u});
  now += 33;
  feed(selector, at(now), mid.keyframe(), out);
  ASSERT_EQ(selector.chosen(), 1u) << "silent for " << now - stopped << " ms";
  ASSERT_FALSE(out.forwarded.empty());
  EXPECT_TRUE(starts_with_sps(out.forwarded.front())) << "the switch starts at m's keyframe";
  EXPECT_EQ(ssrc_of(out.forwarded.front()), 2u);

  // h returns with delta frames: known and fitting again, but no switch before its keyframe.
  out.forwarded.clear();
  out.keyframe_requests.clear();
  now += 33;
  feed(selector, at(now), high.delta(), out);
  feed(selector, at(now), mid.delta(), out);
  EXPECT_EQ(selector.chosen(), 1u);
  EXPECT_EQ(out.keyframe_requests, std::vector<std::uint32_t>{1u});
  for (const auto& packet : out.forwarded) {
    EXPECT_EQ(ssrc_of(packet), 2u);
  }
  out.forwarded.clear();
  now += 33;
  feed(selector, at(now), high.keyframe(), out);
  EXPECT_EQ(selector.chosen(), 0u);
  ASSERT_FALSE(out.forwarded.empty());
  EXPECT_TRUE(starts_with_sps(out.forwarded.front()));
  EXPECT_EQ(ssrc_of(out.forwarded.front()), 1u);
  EXPECT_EQ(selector.stats(at(now)).switches, 3u);
}

TEST(SimulcastSelectorTest, AYoungCachedGopIsReplayedAtOnce) {
  SimulcastSelector selector(config({"h", "m"}));
  Layer high("h", 1, "base720.sps");
  Layer mid("m", 2, "base360.sps");
  Recorder out;
  feed(selector, at(0), high.keyframe(), out);
  feed(selector, at(0), mid.keyframe(), out);
  feed(selector, at(900), mid.keyframe(), out);  // h's last packet was at 0
  feed(selector, at(910), {mid.padding(), mid.padding()}, out);
  ASSERT_EQ(selector.chosen(), 0u);
  out.forwarded.clear();
  feed(selector, at(1001), mid.delta(), out);
  EXPECT_EQ(selector.chosen(), 1u);
  EXPECT_TRUE(out.keyframe_requests.empty());
  ASSERT_FALSE(out.forwarded.empty());
  EXPECT_TRUE(starts_with_sps(out.forwarded.front()));
  EXPECT_EQ(proto::parse_rtp(out.forwarded.front())->timestamp, 90000u + 3000u);
  // Padding is replayed too: the layer's sequence numbers have no holes.
  for (std::size_t i = 1; i < out.forwarded.size(); ++i) {
    EXPECT_EQ(
        static_cast<std::uint16_t>(proto::parse_rtp(out.forwarded[i - 1])->sequence_number + 1),
        proto::parse_rtp(out.forwarded[i])->sequence_number)
        << i;
  }
}

TEST(SimulcastSelectorTest, TheTimerFallsBackWhenNoPacketArrivesAndDoesNotSpin) {
  SimulcastSelector selector(config({"h", "m"}));
  Layer high("h", 1, "base720.sps");
  Layer mid("m", 2, "base360.sps");
  Recorder out;
  feed(selector, at(0), high.keyframe(), out);
  feed(selector, at(0), mid.keyframe(), out);
  feed(selector, at(500), mid.delta(), out);
  ASSERT_EQ(selector.chosen(), 0u);
  ASSERT_TRUE(selector.poll_timeout());
  EXPECT_EQ(*selector.poll_timeout(), at(1001));
  selector.handle_timeout(at(1001), out);
  // m's GOP is 1 s old: ask for a keyframe, and replay the old GOP only when none comes (OBS).
  EXPECT_EQ(selector.chosen(), 0u);
  EXPECT_EQ(out.keyframe_requests, std::vector<std::uint32_t>{2u});
  ASSERT_TRUE(selector.poll_timeout());
  EXPECT_EQ(*selector.poll_timeout(), at(1301));
  out.forwarded.clear();
  selector.handle_timeout(at(1301), out);
  EXPECT_EQ(selector.chosen(), 1u) << "m is still active (its last packet at 500 ms)";
  ASSERT_FALSE(out.forwarded.empty());
  EXPECT_EQ(proto::parse_rtp(out.forwarded.front())->timestamp, 90000u) << "the cached GOP";
  // Both silent now: nothing to switch to, and no timer in the past.
  selector.handle_timeout(at(1501), out);
  selector.handle_timeout(at(1502), out);
  EXPECT_FALSE(selector.poll_timeout() && *selector.poll_timeout() <= at(1502));
}

TEST(SimulcastSelectorTest, RtxAndUnnamedSsrcsAreNoLayer) {
  SimulcastSelector selector(config({"h", "m"}));
  Layer rtx("h", 9, "base720.sps");
  rtx.payload_type = 97;
  Recorder out;
  feed(selector, at(0), rtx.keyframe(), out);
  proto::RtpPacket unnamed;
  unnamed.payload_type = kIngestVideoPt;
  unnamed.ssrc = 77;
  unnamed.payload = fixture("base720_p_head.nal");
  selector.handle_rtp(at(1), *unnamed.serialize(), out);
  const auto stats = selector.stats(at(1));
  EXPECT_GT(stats.other_payload_dropped, 0u);
  EXPECT_EQ(stats.unidentified_dropped, 1u);
  EXPECT_TRUE(out.forwarded.empty());
  EXPECT_FALSE(stats.layers[0].ssrc);
}

// The selector in front of a real relay, as RelayChannel wires them.
class RelayFeed final : public SimulcastOutput {
 public:
  RelayFeed(Relay& relay, Instant& now) : relay_(relay), now_(now) {}
  void switched(std::size_t /*layer*/, std::uint32_t ssrc) override {
    relay_.switch_video_ssrc(ssrc);
  }
  void forward(ByteSpan packet) override {
    relay_.handle_publisher_rtp(now_, MediaKind::kVideo, packet);
  }
  void request_keyframe(std::uint32_t /*ssrc*/) override {}

 private:
  Relay& relay_;
  Instant& now_;
};

TEST(SimulcastSelectorTest, SwitchesGiveALegADecodableStartAndContinuousSequenceNumbers) {
  Relay relay;
  RecordingSink publisher_feedback;
  RecordingSink leg;
  relay.start_publisher(at(0), ingest_format(false), publisher_feedback);
  relay.add_egress(at(0), egress_format(), leg);
  SimulcastSelector selector(config({"h", "m"}));
  Layer high("h", 1, "base720.sps");
  Layer mid("m", 2, "base360.sps");
  Instant now = at(0);
  RelayFeed feed_relay(relay, now);
  std::vector<std::size_t> sps_at;  // indexes in leg.rtp where a keyframe starts
  auto send = [&](const std::vector<Bytes>& packets) {
    for (const auto& packet : packets) {
      const std::size_t before = leg.rtp.size();
      selector.handle_rtp(now, packet, feed_relay);
      for (std::size_t i = before; i < leg.rtp.size(); ++i) {
        if (starts_with_sps(leg.rtp[i])) {
          sps_at.push_back(i);
        }
      }
    }
  };
  send(high.keyframe());
  send(mid.keyframe());
  // h for 200 ms, silence of h for > 1 s (m goes on), then h again from a keyframe.
  for (int ms = 33; ms < 2600; ms += 33) {
    now = at(ms);
    if (ms < 200 || ms > 1800) {
      send(ms > 1800 && ms < 1840 ? high.keyframe() : high.delta());
    }
    send(mid.delta());
  }
  EXPECT_EQ(selector.stats(now).switches, 3u);
  ASSERT_EQ(sps_at.size(), 3u) << "the first start, the fallback to m, the upgrade back to h";
  EXPECT_EQ(sps_at.front(), 0u) << "the leg starts at a keyframe";
  const auto views = leg.views();
  for (std::size_t i = 1; i < views.size(); ++i) {
    EXPECT_EQ(static_cast<std::uint16_t>(views[i - 1].sequence_number + 1),
              views[i].sequence_number)
        << "at " << i;
    EXPECT_EQ(views[i].ssrc, views[0].ssrc);
  }
  // After the return of h the leg carries h's packets again (its SSRC was retired by the relay).
  EXPECT_GT(views.size(), sps_at.back() + 20);
}

}  // namespace
}  // namespace ivs::engine
