// RelayChannel's rules on simulated time (issue 12, item 5): the channel runs on a
// SimulatedControlClock over a FakeSessionHost (fake_session_host.hpp), which records what the
// channel sends on each session while the test plays the sessions' side (connected, decrypted
// media, RTCP). Every deadline the channel keeps is then asserted to the millisecond and a test
// runs in milliseconds: the connect timeout, make-before-break between two publishers, the NACK
// retries toward the publisher, the upstream keyframe-request limit, the refresh of a stale GOP,
// receiver reports and the bitrate window. What this cannot show (SRTP, ICE, DTLS, sockets) is
// relay_channel_test.cpp's, over loopback with real WebRTC peers.
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>

#include <algorithm>
#include <chrono>
#include <functional>
#include <map>
#include <vector>

#include "app/relay/relay_channel.hpp"
#include "fake_session_host.hpp"
#include "proto/h264_packetizer.hpp"
#include "proto/rtp_builder.hpp"
#include "proto/rtp_packet.hpp"
#include "support/simulated_control_clock.hpp"
#include "support/testdata.hpp"

namespace ivs::app {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using test::FakeSessionHost;

// testdata/sdp/obs-offer.sdp: OBS's shape (H.264 PT 96 with NACK and PLI, Opus PT 111, a=ssrc).
constexpr std::uint8_t kVideoPt = 96;
constexpr std::uint32_t kVideoSsrc = 3047752410;
constexpr Duration kFrameInterval = milliseconds(40);  // 25 fps: every instant a whole ms

Bytes fixture(const std::string& name) {
  const std::string text = test::read_testdata("h264/" + name);
  return Bytes(text.begin(), text.end());
}

class SimulatedChannel {
 public:
  explicit SimulatedChannel(RelayChannelOptions options = {})
      : host(clock), channel(io, host, std::move(options), &clock) {}

  // A publisher with OBS's offer, accepted; its host session id.
  engine::IceSessionId offer_publisher() {
    const auto outcome = channel.accept_publisher(test::read_testdata("sdp/obs-offer.sdp"));
    const auto* accepted = std::get_if<SessionAccepted>(&outcome);
    EXPECT_NE(accepted, nullptr);
    resource_ids.push_back(accepted ? accepted->id : "");
    return host.last_id();
  }

  // Sends one H.264 access unit from `publisher`: SPS, PPS and an IDR, or a P slice. `skip`
  // leaves the packet with that sequence number out (a loss on the way).
  std::vector<std::uint16_t> send_frame(engine::IceSessionId publisher, bool keyframe,
                                        std::optional<std::uint16_t> skip = std::nullopt) {
    std::vector<ByteSpan> units;
    if (keyframe) {
      units = {sps_, pps_, idr_};
    } else {
      units = {p_};
    }
    std::vector<std::uint16_t> sent;
    const auto payloads = proto::packetize_h264(units, 1100);
    for (std::size_t i = 0; i < payloads.size(); ++i) {
      const std::uint16_t sequence = sequence_++;
      Bytes rtp = packet(sequence, payloads[i]);
      if (sequence == skip) {
        held_back_[sequence] = std::move(rtp);
        continue;
      }
      host.media(publisher, engine::MediaKind::kVideo, std::move(rtp));
      sent.push_back(sequence);
    }
    timestamp_ += 3600;
    return sent;
  }

  // Plays 25 fps video from `publisher` for `length`, a keyframe first and then every
  // `keyframe_interval`; time moves one frame interval after each frame (firing the channel's
  // timers on the way) and `each_frame` runs before every frame.
  void play(
      engine::IceSessionId publisher, Duration length, Duration keyframe_interval = seconds(1),
      const std::function<void()>& each_frame = [] {}) {
    const Instant end = clock.now() + length;
    std::optional<Instant> last_keyframe;
    while (clock.now() < end) {
      each_frame();
      const bool keyframe = !last_keyframe || clock.now() - *last_keyframe >= keyframe_interval;
      if (keyframe) {
        last_keyframe = clock.now();
      }
      send_frame(publisher, keyframe);
      advance(kFrameInterval);
    }
  }

  // The publisher answers a NACK: a packet left out by send_frame arrives now.
  void send_late(engine::IceSessionId publisher, std::uint16_t sequence) {
    host.media(publisher, engine::MediaKind::kVideo, held_back_.at(sequence));
  }

  void advance(Duration step) {
    clock.advance(step);
    io.restart();
    io.poll();
  }

  test::SimulatedControlClock clock;
  boost::asio::io_context io;
  FakeSessionHost host;
  RelayChannel channel;
  std::vector<std::string> resource_ids;

 private:
  Bytes packet(std::uint16_t sequence, const Bytes& payload) {
    proto::RtpPacket rtp;
    rtp.payload_type = kVideoPt;
    rtp.sequence_number = sequence;
    rtp.timestamp = timestamp_;
    rtp.ssrc = kVideoSsrc;
    rtp.marker = false;
    rtp.payload = payload;
    return *rtp.serialize();
  }

  Bytes sps_ = fixture("base720.sps");
  Bytes pps_ = fixture("base720.pps");
  Bytes idr_ = fixture("base720_idr_head.nal");
  Bytes p_ = fixture("base720_p_head.nal");
  std::uint16_t sequence_ = 1000;
  std::uint32_t timestamp_ = 90000;
  std::map<std::uint16_t, Bytes> held_back_;
};

// Feedback packets of one kind that the channel sent on a session, with when.
template <class Packet>
std::vector<std::pair<Instant, Packet>> sent_feedback(const FakeSessionHost::Session& session) {
  std::vector<std::pair<Instant, Packet>> found;
  for (const auto& sent : session.rtcp) {
    auto packets = proto::parse_rtcp_compound(sent.packet);
    if (!packets) {
      ADD_FAILURE() << "the channel sent RTCP that does not parse";
      continue;
    }
    for (const auto& packet : *packets) {
      if (const auto* wanted = std::get_if<Packet>(&packet)) {
        found.emplace_back(sent.at, *wanted);
      }
    }
  }
  return found;
}

template <class Packet>
std::vector<Duration> feedback_times(const FakeSessionHost::Session& session, Instant since) {
  std::vector<Duration> times;
  for (const auto& [at, packet] : sent_feedback<Packet>(session)) {
    if (at >= since) {
      times.push_back(at - since);
    }
  }
  return times;
}

// A WHIP egress leg as the channel sees one: it records what the relay sends it.
struct RecordingLeg final : engine::RelaySink {
  void send_rtp(ByteSpan packet) override { rtp.emplace_back(packet.begin(), packet.end()); }
  void send_rtcp(ByteSpan) override {}
  std::vector<Bytes> rtp;
};

engine::RelayEgressFormat leg_format() {
  engine::RelayEgressFormat format;
  format.video.ssrc = 0x5eed0001;
  format.video.payload_type = 102;
  format.cname = "stage";
  return format;
}

TEST(RelayChannelSimulated, AnUnconnectedPublisherIsRemovedExactlyAtTheConnectTimeout) {
  SimulatedChannel s;  // connect_timeout: 15 s (the default)
  const Instant offered = s.clock.now();
  const engine::IceSessionId id = s.offer_publisher();
  s.advance(seconds(15) - milliseconds(1));
  EXPECT_TRUE(s.host.session(id).live);
  EXPECT_TRUE(s.channel.status().publisher.connecting);

  s.advance(milliseconds(1));
  ASSERT_FALSE(s.host.session(id).live);
  EXPECT_EQ(*s.host.session(id).ended_at - offered, seconds(15));
  EXPECT_FALSE(s.host.session(id).closed_notify);  // nothing to close: DTLS never ran
  EXPECT_FALSE(s.channel.status().publisher.connecting);
  // The client's DELETE afterwards still answers 200, once.
  EXPECT_TRUE(s.channel.end_session(s.resource_ids.front(), SessionRole::publisher));
  EXPECT_FALSE(s.channel.end_session(s.resource_ids.front(), SessionRole::publisher));
}

TEST(RelayChannelSimulated, ASecondPublisherTakesOverWhenConnectedAndTheLegSeesOneStream) {
  SimulatedChannel s;
  const engine::IceSessionId first = s.offer_publisher();
  s.host.connect(first);
  RecordingLeg leg;
  s.channel.attach(s.clock.now(), leg_format(), leg);
  s.play(first, milliseconds(400));
  ASSERT_FALSE(leg.rtp.empty());

  // Make-before-break: the new publisher is accepted but the first keeps feeding the stage.
  const engine::IceSessionId second = s.offer_publisher();
  const std::size_t before = leg.rtp.size();
  s.send_frame(first, false);
  EXPECT_GT(leg.rtp.size(), before);
  EXPECT_TRUE(s.host.session(first).live);
  EXPECT_TRUE(s.channel.status().publisher.live);

  s.advance(milliseconds(100));
  s.host.connect(second);
  ASSERT_FALSE(s.host.session(first).live);
  EXPECT_TRUE(s.host.session(first).closed_notify);  // a close_notify, not a silent drop
  EXPECT_EQ(*s.host.session(first).ended_at, s.clock.now());

  const auto last_of_first = proto::parse_rtp(leg.rtp.back());
  ASSERT_TRUE(last_of_first);
  const std::size_t switched_at = leg.rtp.size();
  s.play(second, milliseconds(200));
  ASSERT_GT(leg.rtp.size(), switched_at);
  const auto first_of_second = proto::parse_rtp(leg.rtp[switched_at]);
  ASSERT_TRUE(first_of_second);
  // The stage sees one stream: same SSRC, the sequence goes on without a gap or a jump back.
  EXPECT_EQ(first_of_second->ssrc, last_of_first->ssrc);
  EXPECT_EQ(static_cast<std::uint16_t>(last_of_first->sequence_number + 1),
            first_of_second->sequence_number);
  EXPECT_EQ(s.channel.status().publishes, 2u);
}

// A live publisher whose P frame after a keyframe loses its first packet on the way; the next
// frame shows the gap to the relay.
struct OneLoss {
  engine::IceSessionId publisher = 0;
  std::uint16_t missing = 0;
  Instant seen{};  // when the gap became visible
};

OneLoss lose_one_packet(SimulatedChannel& s) {
  OneLoss loss;
  loss.publisher = s.offer_publisher();
  s.host.connect(loss.publisher);
  s.play(loss.publisher, milliseconds(200));
  const auto sent = s.send_frame(loss.publisher, true);
  loss.missing = static_cast<std::uint16_t>(sent.back() + 1);
  s.send_frame(loss.publisher, false, loss.missing);
  loss.seen = s.clock.now();
  s.send_frame(loss.publisher, false);
  return loss;
}

TEST(RelayChannelSimulated, ALostPacketIsNackedAtOnceThenEvery150MsSixTimesAndThenCountedLost) {
  SimulatedChannel s;
  const auto [publisher, missing, gap_seen] = lose_one_packet(s);
  for (int i = 0; i < 30; ++i) {
    s.advance(kFrameInterval);
  }

  std::vector<Duration> asked;
  for (const auto& [at, nack] : sent_feedback<proto::RtcpNack>(s.host.session(publisher))) {
    const auto numbers = nack.sequence_numbers();
    if (std::find(numbers.begin(), numbers.end(), missing) != numbers.end()) {
      asked.push_back(at - gap_seen);
    }
  }
  const std::vector<Duration> expected = {milliseconds(0),   milliseconds(150), milliseconds(300),
                                          milliseconds(450), milliseconds(600), milliseconds(750)};
  EXPECT_EQ(asked, expected);
  EXPECT_EQ(s.channel.status().publisher.packets_lost, 1u);
}

TEST(RelayChannelSimulated, ARetransmissionStopsTheNacks) {
  SimulatedChannel s;
  const OneLoss loss = lose_one_packet(s);
  s.advance(milliseconds(200));  // NACKed at once and 150 ms later
  const auto& session = s.host.session(loss.publisher);
  EXPECT_EQ(sent_feedback<proto::RtcpNack>(session).size(), 2u);

  s.send_late(loss.publisher, loss.missing);
  s.advance(seconds(2));
  EXPECT_EQ(sent_feedback<proto::RtcpNack>(session).size(), 2u);
  EXPECT_EQ(s.channel.status().publisher.packets_lost, 0u);
}

TEST(RelayChannelSimulated, UpstreamKeyframeRequestsAreLimitedToOneEvery500Ms) {
  SimulatedChannel s;
  const engine::IceSessionId publisher = s.offer_publisher();
  s.host.connect(publisher);
  RecordingLeg leg;
  const engine::EgressId id = s.channel.attach(s.clock.now(), leg_format(), leg);
  s.play(publisher, milliseconds(1200), seconds(10));

  // The stage asks for a keyframe with every frame (a decoder that lost its reference).
  const Instant asking = s.clock.now();
  s.play(publisher, milliseconds(1800), seconds(10), [&] {
    const proto::RtcpPacket pli = proto::RtcpPli{0x11, leg_format().video.ssrc};
    s.channel.feedback(s.clock.now(), id, std::span(&pli, 1));
  });
  const std::vector<Duration> expected = {milliseconds(0), milliseconds(500), milliseconds(1000),
                                          milliseconds(1500)};
  EXPECT_EQ(feedback_times<proto::RtcpPli>(s.host.session(publisher), asking), expected);
}

TEST(RelayChannelSimulated, AGopOlderThanTwoSecondsAsksThePublisherForAKeyframe) {
  SimulatedChannel s;
  const engine::IceSessionId publisher = s.offer_publisher();
  s.host.connect(publisher);
  s.play(publisher, milliseconds(800));  // keyframes every second: the cache stays young
  // A browser-like publisher: one keyframe, then only when asked.
  const Instant keyframe_at = s.clock.now();
  s.play(publisher, seconds(3), seconds(100));
  const auto asked = feedback_times<proto::RtcpPli>(s.host.session(publisher), keyframe_at);
  ASSERT_FALSE(asked.empty());
  // Asked with the first packet that finds the GOP 2 s old: the frame at exactly +2 s.
  EXPECT_EQ(asked.front(), seconds(2));
}

TEST(RelayChannelSimulated, ReceiverReportsGoToThePublisherEverySecond) {
  SimulatedChannel s;
  const engine::IceSessionId publisher = s.offer_publisher();
  s.host.connect(publisher);
  const Instant connected = s.clock.now();
  s.play(publisher, milliseconds(5000));
  const auto reports =
      feedback_times<proto::RtcpReceiverReport>(s.host.session(publisher), connected);
  ASSERT_GE(reports.size(), 4u);
  for (std::size_t i = 1; i < reports.size(); ++i) {
    EXPECT_EQ(reports[i] - reports[i - 1], seconds(1)) << "report " << i;
  }
}

TEST(RelayChannelSimulated, TheBitrateIsMeasuredOverTheLastFiveSeconds) {
  SimulatedChannel s;
  const engine::IceSessionId publisher = s.offer_publisher();
  s.host.connect(publisher);
  // 100 packets of 1,012 bytes a second (12 header + 1,000 payload): 809.6 kbit/s.
  const Bytes payload(1000, 0x41);
  for (int i = 0; i < 800; ++i) {
    proto::RtpPacket rtp;
    rtp.payload_type = kVideoPt;
    rtp.sequence_number = static_cast<std::uint16_t>(i);
    rtp.timestamp = 90000 + static_cast<std::uint32_t>(i) * 900;
    rtp.ssrc = kVideoSsrc;
    rtp.payload = payload;
    s.host.media(publisher, engine::MediaKind::kVideo, *rtp.serialize());
    s.advance(milliseconds(10));
  }
  EXPECT_DOUBLE_EQ(s.channel.status().publisher.video_bitrate_kbps, 809.6);
  EXPECT_EQ(s.channel.status().publisher.audio_bitrate_kbps, 0.0);
}

TEST(RelayChannelSimulated, ABrowserPublisherGetsTransportFeedbackEvery50MsAndTheRembCap) {
  RelayChannelOptions options;
  options.ingest_max_bitrate_bps = 3'000'000;
  SimulatedChannel s(options);
  // testdata/sdp/chromium-offer.sdp: transport-cc (extension id 3), goog-remb, a=ssrc 3279502183.
  const auto outcome = s.channel.accept_publisher(test::read_testdata("sdp/chromium-offer.sdp"));
  ASSERT_TRUE(std::holds_alternative<SessionAccepted>(outcome));
  const engine::IceSessionId publisher = s.host.last_id();
  const std::uint8_t payload_type = *s.host.session(publisher).config.media.video_payload_type;
  s.host.connect(publisher);
  const Instant connected = s.clock.now();
  for (std::uint16_t i = 0; i < 100; ++i) {  // a packet every 10 ms for a second
    proto::RtpPacket rtp;
    rtp.payload_type = payload_type;
    rtp.sequence_number = i;
    rtp.timestamp = 90000 + i * 900U;
    rtp.ssrc = 3279502183;
    rtp.extensions.push_back(
        {3, Bytes{static_cast<std::uint8_t>(i >> 8), static_cast<std::uint8_t>(i & 0xff)}});
    rtp.payload = Bytes(500, 0x41);
    s.host.media(publisher, engine::MediaKind::kVideo, *rtp.serialize());
    s.advance(milliseconds(10));
  }
  const auto& session = s.host.session(publisher);
  const auto feedback = feedback_times<proto::RtcpTransportFeedback>(session, connected);
  ASSERT_GE(feedback.size(), 18u);
  for (std::size_t i = 1; i < feedback.size(); ++i) {
    EXPECT_EQ(feedback[i] - feedback[i - 1], milliseconds(50)) << "feedback " << i;
  }
  const auto rembs = sent_feedback<proto::RtcpRemb>(session);
  ASSERT_FALSE(rembs.empty());
  const proto::RtcpRemb& remb = rembs.back().second;
  EXPECT_EQ(std::uint64_t{remb.mantissa} << remb.exponent, 3'000'000u);
}

TEST(RelayChannelSimulated, AnObsPublisherGetsNoTransportFeedback) {
  SimulatedChannel s;
  const engine::IceSessionId publisher = s.offer_publisher();
  s.host.connect(publisher);
  s.play(publisher, seconds(1));
  EXPECT_TRUE(sent_feedback<proto::RtcpTransportFeedback>(s.host.session(publisher)).empty());
  EXPECT_TRUE(sent_feedback<proto::RtcpRemb>(s.host.session(publisher)).empty());
  EXPECT_FALSE(sent_feedback<proto::RtcpReceiverReport>(s.host.session(publisher)).empty());
}

}  // namespace
}  // namespace ivs::app
