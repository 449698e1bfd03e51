// RelayChannel over real loopback sockets with in-process WebRTC peers (webrtc_test_peer.hpp):
// a publisher's H.264 reaches a WHEP viewer with the viewer's own SSRC; the publisher and viewer
// policies (409 before a publisher, viewer limit, refuse/replace a second publisher, connect
// timeout, DELETE, VIDEO_LIMITS_POLICY=reject); external egress legs through
// EgressMediaSource; and every captured publisher offer (testdata/sdp) answered with candidates.
// No sleeps: the loop runs until a condition holds, with a deadline.
#include "app/relay/relay_channel.hpp"
#include "app/relay/media_plane.hpp"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>

#include <cstring>
#include <functional>

#include "h264_feed.hpp"
#include "io/clock.hpp"
#include "proto/h264_packetizer.hpp"
#include "proto/h264_payload.hpp"
#include "proto/h264_sps.hpp"
#include "proto/rtp_builder.hpp"
#include "proto/rtp_packet.hpp"
#include "support/testdata.hpp"
#include "webrtc_test_peer.hpp"

namespace ivs::app {
namespace {

using test::TestPeer;

using test::H264Feed;
using test::nal;
using test::run_until;

struct Fixture {
  Fixture(RelayChannelOptions options = {}) {
    MediaPlaneOptions plane_options;
    plane_options.bind_ip = "127.0.0.1";
    auto started = MediaPlane::start(io, plane_options);
    plane = std::move(*started);
    channel = std::make_unique<RelayChannel>(io, *plane, options);
  }

  // POSTs the peer's offer to the channel and starts the peer on the answer.
  std::string connect(TestPeer& peer, SessionRole role) {
    auto outcome = role == SessionRole::publisher ? channel->accept_publisher(peer.offer())
                                                  : channel->accept_viewer(peer.offer());
    if (auto* refused = std::get_if<SessionRefused>(&outcome)) {
      ADD_FAILURE() << refused->http_status << " " << refused->message;
      return {};
    }
    const auto& accepted = std::get<SessionAccepted>(outcome);
    EXPECT_TRUE(peer.accept(accepted.answer_sdp));
    EXPECT_TRUE(run_until(io, [&] { return peer.connected; }));
    return accepted.id;
  }

  boost::asio::io_context io;
  std::unique_ptr<MediaPlane> plane;
  std::unique_ptr<RelayChannel> channel;
};

int refusal_status(const AcceptOutcome& outcome) {
  const auto* refused = std::get_if<SessionRefused>(&outcome);
  return refused ? refused->http_status : 201;
}

// Both ends must be connected before the peer sends media. Regression: the simulcast test waited
// for the channel's side only; the server can finish DTLS a moment before the peer does, the
// peer silently dropped the first layer's packets, and the exact packet counts the test waits for
// were never reached (1 run in ~10 under a parallel ctest).
bool wait_until_live(Fixture& f, const TestPeer& peer) {
  return run_until(f.io, [&] { return f.channel->publisher_live() && peer.connected; });
}

std::size_t video_packets_with_ssrc(const TestPeer& peer, std::uint32_t ssrc) {
  std::size_t count = 0;
  for (const auto& media : peer.media) {
    auto view = proto::parse_rtp(media.packet);
    count += view && view->ssrc == ssrc && media.kind == engine::MediaKind::kVideo ? 1 : 0;
  }
  return count;
}

TEST(RelayChannel, ViewersWaitForAPublisherThenGetItsVideoUnderTheirOwnSsrc) {
  Fixture f;
  TestPeer early(f.io, TestPeer::Mode::viewer, 11);
  const auto refused = f.channel->accept_viewer(early.offer());
  ASSERT_EQ(refusal_status(refused), 409);
  EXPECT_EQ(std::get<SessionRefused>(refused).retry_after_seconds, 1);
  EXPECT_EQ(f.plane->session_count(), 0u);

  TestPeer publisher(f.io, TestPeer::Mode::publisher, 1);
  f.connect(publisher, SessionRole::publisher);
  ASSERT_TRUE(wait_until_live(f, publisher));
  H264Feed feed;
  feed.send_frame(publisher, true);
  feed.send_frame(publisher, false);

  TestPeer viewer(f.io, TestPeer::Mode::viewer, 12);
  f.connect(viewer, SessionRole::viewer);
  ASSERT_TRUE(run_until(f.io, [&] { return f.channel->viewer_count() == 1; }));
  feed.send_frame(publisher, false);
  ASSERT_TRUE(run_until(f.io, [&] { return viewer.media.size() >= 4; }));
  auto first = proto::parse_rtp(viewer.media.front().packet);
  ASSERT_TRUE(first);
  EXPECT_NE(first->ssrc, TestPeer::kVideoSsrc);  // rewritten to the viewer's SSRC
  EXPECT_EQ(first->payload_type, viewer.video_payload_type);
  EXPECT_EQ(video_packets_with_ssrc(viewer, first->ssrc), viewer.media.size());

  const ChannelStatus status = f.channel->status();
  EXPECT_TRUE(status.publisher.live);
  EXPECT_EQ(status.viewers, 1u);
  EXPECT_EQ(status.viewers_connecting, 0u);
  EXPECT_EQ(status.publishes, 1u);
  EXPECT_EQ(status.publisher.width, 1280);
  EXPECT_EQ(status.publisher.height, 720);
  EXPECT_EQ(status.publisher.profile, "Constrained Baseline");
  EXPECT_GE(status.publisher.keyframes, 1u);
  EXPECT_TRUE(status.publisher.since.has_value());
  EXPECT_EQ(f.channel->h264_profile_level_id(), "42c01f");
}

TEST(RelayChannel, DeleteEndsThePublisherWithACloseNotify) {
  Fixture f;
  TestPeer publisher(f.io, TestPeer::Mode::publisher, 1);
  const std::string id = f.connect(publisher, SessionRole::publisher);
  ASSERT_TRUE(wait_until_live(f, publisher));
  EXPECT_FALSE(f.channel->end_session(id, SessionRole::viewer));  // wrong collection
  EXPECT_FALSE(f.channel->end_session("nope", SessionRole::publisher));
  EXPECT_TRUE(f.channel->end_session(id, SessionRole::publisher));
  EXPECT_FALSE(f.channel->publisher_live());
  EXPECT_EQ(f.plane->session_count(), 0u);
  EXPECT_EQ(f.channel->status().deletes, 1u);
  ASSERT_TRUE(run_until(f.io, [&] { return publisher.closed; }));
}

// Browsers close the PeerConnection before they send the DELETE: it must still succeed once.
TEST(RelayChannel, DeleteAfterThePeerClosedStillSucceedsOnce) {
  Fixture f;
  TestPeer publisher(f.io, TestPeer::Mode::publisher, 1);
  const std::string id = f.connect(publisher, SessionRole::publisher);
  ASSERT_TRUE(wait_until_live(f, publisher));
  publisher.close();
  ASSERT_TRUE(run_until(f.io, [&] { return f.plane->session_count() == 0; }));
  EXPECT_FALSE(f.channel->publisher_live());
  EXPECT_FALSE(f.channel->end_session(id, SessionRole::viewer));
  EXPECT_TRUE(f.channel->end_session(id, SessionRole::publisher));
  EXPECT_FALSE(f.channel->end_session(id, SessionRole::publisher));
  EXPECT_EQ(f.channel->status().deletes, 1u);
}

TEST(RelayChannel, ASecondPublisherReplacesTheFirstOnceConnected) {
  Fixture f;
  TestPeer first(f.io, TestPeer::Mode::publisher, 1);
  f.connect(first, SessionRole::publisher);
  ASSERT_TRUE(run_until(f.io, [&] { return f.channel->publisher_live(); }));
  TestPeer second(f.io, TestPeer::Mode::publisher, 2);
  f.connect(second, SessionRole::publisher);
  ASSERT_TRUE(run_until(f.io, [&] { return first.closed; }));
  EXPECT_TRUE(f.channel->publisher_live());
  EXPECT_EQ(f.plane->session_count(), 1u);
  EXPECT_EQ(f.channel->status().publishes, 2u);
}

TEST(RelayChannel, RefusePolicyAnswers409WhileAPublisherExists) {
  RelayChannelOptions options;
  options.refuse_second_publisher = true;
  Fixture f(options);
  TestPeer first(f.io, TestPeer::Mode::publisher, 1);
  f.connect(first, SessionRole::publisher);
  TestPeer second(f.io, TestPeer::Mode::publisher, 2);
  EXPECT_EQ(refusal_status(f.channel->accept_publisher(second.offer())), 409);
  EXPECT_EQ(f.plane->session_count(), 1u);
}

TEST(RelayChannel, SessionsThatNeverConnectAreRemoved) {
  RelayChannelOptions options;
  options.connect_timeout = std::chrono::seconds(1);
  Fixture f(options);
  TestPeer silent(f.io, TestPeer::Mode::publisher, 1);
  ASSERT_EQ(refusal_status(f.channel->accept_publisher(silent.offer())), 201);
  EXPECT_EQ(f.plane->session_count(), 1u);
  EXPECT_TRUE(f.channel->status().publisher.connecting);
  ASSERT_TRUE(run_until(f.io, [&] { return f.plane->session_count() == 0; }));
  EXPECT_FALSE(f.channel->status().publisher.connecting);
}

TEST(RelayChannel, ViewerLimitAnswers503) {
  RelayChannelOptions options;
  options.max_viewers = 1;
  Fixture f(options);
  TestPeer publisher(f.io, TestPeer::Mode::publisher, 1);
  f.connect(publisher, SessionRole::publisher);
  TestPeer a(f.io, TestPeer::Mode::viewer, 2);
  TestPeer b(f.io, TestPeer::Mode::viewer, 3);
  EXPECT_EQ(refusal_status(f.channel->accept_viewer(a.offer())), 201);
  EXPECT_EQ(refusal_status(f.channel->accept_viewer(b.offer())), 503);
  EXPECT_EQ(f.plane->session_count(), 2u);
  // The accepted viewer has not done ICE yet: the channel counts it as connecting, which is
  // what the serve role's admission control reads (SessionAdmission).
  EXPECT_EQ(f.channel->status().viewers, 0u);
  EXPECT_EQ(f.channel->status().viewers_connecting, 1u);
}

TEST(RelayChannel, RejectPolicyEndsAPublisherOutsideIvsLimits) {
  RelayChannelOptions options;
  options.reject_video_over_ivs_limits = true;
  Fixture f(options);
  TestPeer publisher(f.io, TestPeer::Mode::publisher, 1);
  f.connect(publisher, SessionRole::publisher);
  ASSERT_TRUE(wait_until_live(f, publisher));
  H264Feed feed("high1080.sps", "high1080.pps");
  feed.send_frame(publisher, true);
  ASSERT_TRUE(run_until(f.io, [&] { return !f.channel->publisher_live(); }));
  EXPECT_FALSE(f.channel->status().publisher.warnings.empty());
  ASSERT_TRUE(run_until(f.io, [&] { return publisher.closed; }));
}

struct RecordingSink : engine::RelaySink {
  void send_rtp(ByteSpan packet) override { rtp.emplace_back(packet.begin(), packet.end()); }
  void send_rtcp(ByteSpan packet) override { rtcp.emplace_back(packet.begin(), packet.end()); }
  std::vector<Bytes> rtp;
  std::vector<Bytes> rtcp;
};

TEST(RelayChannel, ExternalLegsAttachThroughEgressMediaSource) {
  Fixture f;
  EgressMediaSource& source = *f.channel;
  EXPECT_EQ(source.h264_profile_level_id(), "42e01f");
  TestPeer publisher(f.io, TestPeer::Mode::publisher, 1);
  f.connect(publisher, SessionRole::publisher);
  ASSERT_TRUE(wait_until_live(f, publisher));

  RecordingSink sink;
  engine::RelayEgressFormat format;
  format.video.ssrc = 0xabcdef01;
  format.video.payload_type = 102;
  format.cname = "leg";
  const engine::EgressId leg = source.attach(io::monotonic_now(), format, sink);
  EXPECT_EQ(f.channel->status().egress_legs, 1u);
  H264Feed feed;
  feed.send_frame(publisher, true);
  ASSERT_TRUE(run_until(f.io, [&] { return !sink.rtp.empty(); }));
  auto view = proto::parse_rtp(sink.rtp.front());
  ASSERT_TRUE(view);
  EXPECT_EQ(view->ssrc, 0xabcdef01u);
  EXPECT_EQ(view->payload_type, 102);
  ASSERT_TRUE(source.stats(leg));
  EXPECT_GT(source.stats(leg)->packets_sent, 0u);
  source.detach(leg);
  EXPECT_EQ(f.channel->status().egress_legs, 0u);
  const std::size_t before = sink.rtp.size();
  feed.send_frame(publisher, false);
  run_until(
      f.io, [] { return false; }, std::chrono::seconds(0));
  EXPECT_EQ(sink.rtp.size(), before);
}

// Simulcast: every layer is accepted; the legs get the largest layer within IVS limits, read from
// each layer's SPS (here the second rid, sent after the smaller one), recognised by its rid
// header extension and then by its SSRC once learnt. Status lists the layers and the choice.
TEST(RelayChannel, SimulcastForwardsTheLargestLayerWithinIvsLimits) {
  Fixture f;
  TestPeer publisher(f.io, TestPeer::Mode::publisher, 1);
  std::string offer = publisher.offer();
  const auto video = offer.find("m=video");
  ASSERT_NE(video, std::string::npos);
  const auto mid = offer.find("a=mid:", video);
  const auto line_end = offer.find("\r\n", mid) + 2;
  offer.insert(line_end,
               "a=extmap:9 urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id\r\n"
               "a=rid:hi send\r\na=rid:lo send\r\na=simulcast:send hi;lo\r\n");
  publisher.set_offer(offer);
  const auto outcome = f.channel->accept_publisher(publisher.offer());
  ASSERT_EQ(refusal_status(outcome), 201) << std::get<SessionRefused>(outcome).message;
  const std::string& answer = std::get<SessionAccepted>(outcome).answer_sdp;
  EXPECT_NE(answer.find("a=simulcast:recv hi;lo"), std::string::npos) << answer;
  ASSERT_TRUE(publisher.accept(answer));
  ASSERT_TRUE(wait_until_live(f, publisher));

  RecordingSink sink;
  engine::RelayEgressFormat format;
  format.video.ssrc = 0x0badcafe;
  format.video.payload_type = 96;
  f.channel->attach(io::monotonic_now(), format, sink);
  const Bytes sps360 = nal("base360.sps"), pps = nal("base360.pps");
  const Bytes sps720 = nal("base720.sps"), idr = nal("base720_idr_head.nal");
  // Each layer has its own sequence space, as every encoding of a real publisher does.
  std::uint16_t hi_sequence = 1;
  std::uint16_t lo_sequence = 5000;
  std::size_t hi_packets = 0;
  std::size_t lo_packets = 0;
  auto send_layer = [&](std::uint32_t ssrc, const char* rid, bool with_rid) {
    const bool hi = std::strcmp(rid, "hi") == 0;
    std::uint16_t& sequence = hi ? hi_sequence : lo_sequence;
    const std::vector<ByteSpan> units{hi ? sps720 : sps360, pps, idr};
    for (const Bytes& payload : proto::packetize_h264(units, 1000)) {
      proto::RtpPacket packet;
      packet.payload_type = publisher.video_payload_type;
      packet.sequence_number = sequence++;
      packet.timestamp = 1000;
      packet.ssrc = ssrc;
      if (with_rid) {
        packet.extensions.push_back({9, Bytes(rid, rid + std::strlen(rid))});
      }
      packet.payload = payload;
      publisher.send_rtp(*packet.serialize());
      (hi ? hi_packets : lo_packets) += 1;
    }
  };
  send_layer(0x1000, "lo", true);
  send_layer(0x2000, "hi", true);
  send_layer(0x2000, "hi", false);  // the SSRC is known now
  send_layer(0x1000, "lo", false);
  ASSERT_TRUE(run_until(f.io, [&] {
    const auto status = f.channel->status().publisher;
    return status.layers.size() == 2 && status.layers[0].packets == hi_packets &&
           status.layers[1].packets == lo_packets;
  }));
  const auto status = f.channel->status().publisher;
  EXPECT_EQ(status.video_packets, hi_packets);  // the relay got the 720p layer only
  EXPECT_EQ(status.width, 1280);
  ASSERT_TRUE(status.chosen_layer);
  EXPECT_EQ(*status.chosen_layer, "hi");
  EXPECT_EQ(status.layers[0].rid, "hi");  // offer order
  EXPECT_EQ(status.layers[0].height, 720);
  EXPECT_EQ(status.layers[1].height, 360);
  EXPECT_TRUE(status.layers[0].chosen);
  EXPECT_FALSE(status.layers[1].chosen);
  EXPECT_EQ(status.simulcast_dropped, 0u);
  EXPECT_EQ(sink.rtp.size(), hi_packets);

  // WHEP ?layer=: an unknown rid is refused; a viewer of "lo" starts from lo's cached GOP.
  TestPeer unknown(f.io, TestPeer::Mode::viewer, 21);
  EXPECT_EQ(refusal_status(f.channel->accept_viewer(unknown.offer(), "xx")), 400);
  TestPeer low(f.io, TestPeer::Mode::viewer, 22);
  const auto low_outcome = f.channel->accept_viewer(low.offer(), "lo");
  ASSERT_EQ(refusal_status(low_outcome), 201);
  ASSERT_TRUE(low.accept(std::get<SessionAccepted>(low_outcome).answer_sdp));
  ASSERT_TRUE(run_until(f.io, [&] { return !low.media.empty(); }));
  auto first = proto::parse_rtp(low.media.front().packet);
  ASSERT_TRUE(first);
  auto info = proto::inspect_h264_payload(first->payload());
  ASSERT_TRUE(info && info->sps);
  auto layer_sps = proto::parse_h264_sps(info->sps->in(first->payload()));
  ASSERT_TRUE(layer_sps);
  EXPECT_EQ(layer_sps->height, 360u);
  // Live packets of the layer follow the cached ones without a gap.
  ASSERT_TRUE(run_until(f.io, [&] { return low.media.size() == lo_packets; }));  // the cache
  send_layer(0x1000, "lo", false);
  ASSERT_TRUE(run_until(f.io, [&] { return low.media.size() == lo_packets; }));
  for (std::size_t i = 1; i < low.media.size(); ++i) {
    const auto previous = proto::parse_rtp(low.media[i - 1].packet);
    const auto current = proto::parse_rtp(low.media[i].packet);
    EXPECT_EQ(static_cast<std::uint16_t>(previous->sequence_number + 1), current->sequence_number)
        << i;
  }
}

// Every captured publisher offer gets a 201-worthy answer with our candidate; OBS puts its ICE
// and DTLS attributes at session level only.
TEST(RelayChannel, AnswersEveryCapturedPublisherOffer) {
  Fixture f;
  const std::string port = std::to_string(f.plane->local_address().port());
  for (const char* name :
       {"obs-offer.sdp", "chromium-offer.sdp", "chromium-offer-maxbundle.sdp",
        "aiortc-offer-h264.sdp", "aiortc-offer-h264-extfix.sdp", "gst-webrtcbin-offer-h264.sdp",
        "whip-client-offer.sdp", "whip-client-offer-trickle.sdp", "werift-offer-h264.sdp"}) {
    SCOPED_TRACE(name);
    const std::string offer = test::read_testdata(std::string("sdp/") + name);
    const auto outcome = f.channel->accept_publisher(offer);
    ASSERT_EQ(refusal_status(outcome), 201) << std::get<SessionRefused>(outcome).message;
    const auto& accepted = std::get<SessionAccepted>(outcome);
    EXPECT_EQ(accepted.id.size(), 32u);
    EXPECT_NE(accepted.answer_sdp.find("a=candidate:"), std::string::npos);
    EXPECT_NE(accepted.answer_sdp.find("127.0.0.1 " + port + " typ host"), std::string::npos);
    // We send transport-cc feedback and a REMB cap, so whatever of them is offered is agreed.
    for (const char* feedback : {"transport-cc", "goog-remb"}) {
      EXPECT_EQ(accepted.answer_sdp.find(feedback) != std::string::npos,
                offer.find(feedback) != std::string::npos)
          << feedback;
    }
    EXPECT_NE(accepted.answer_sdp.find("a=setup:passive"), std::string::npos);
  }
  // The replace policy keeps one pending publisher: each offer superseded the previous one.
  EXPECT_EQ(f.plane->session_count(), 1u);
  EXPECT_EQ(f.channel->status().publishes, 9u);
}

TEST(RelayChannel, UnusableOffersAreRefusedWithTheNegotiationsReason) {
  Fixture f;
  const auto garbage = f.channel->accept_publisher("hello");
  EXPECT_EQ(refusal_status(garbage), 400);
  std::string vp8_only = test::read_testdata("sdp/obs-offer.sdp");
  const auto at = vp8_only.find("H264/90000");
  ASSERT_NE(at, std::string::npos);
  vp8_only.replace(at, 10, "VP8/90000");
  const auto vp8 = f.channel->accept_publisher(vp8_only);
  EXPECT_EQ(refusal_status(vp8), 422);
  EXPECT_FALSE(std::get<SessionRefused>(vp8).message.empty());
  EXPECT_EQ(f.plane->session_count(), 0u);
  EXPECT_EQ(refusal_status(f.channel->accept_publisher(std::string(70 * 1024, 'v'))), 413);
}

}  // namespace
}  // namespace ivs::app

namespace ivs::app {
namespace {

// The RTP packets of one H.264 frame as an origin's WHEP leg would send them to an edge.
std::vector<Bytes> upstream_frame(std::uint16_t& sequence, std::uint32_t timestamp, bool key) {
  const Bytes sps = test::nal("base720.sps");
  const Bytes pps = test::nal("base720.pps");
  const Bytes body = test::nal(key ? "base720_idr_head.nal" : "base720_p_head.nal");
  std::vector<ByteSpan> units{body};
  if (key) {
    units = {sps, pps, body};
  }
  std::vector<Bytes> packets;
  const auto payloads = proto::packetize_h264(units, 1100);
  for (std::size_t i = 0; i < payloads.size(); ++i) {
    proto::RtpPacket packet;
    packet.payload_type = 96;
    packet.sequence_number = sequence++;
    packet.timestamp = timestamp;
    packet.ssrc = 0x0a0a0a0a;
    packet.marker = i + 1 == payloads.size();
    packet.payload = payloads[i];
    packets.push_back(*packet.serialize());
  }
  return packets;
}

// INGEST_PULL_URL: the pulled upstream feeds the relay like a publisher; a WHIP publisher that
// connects takes over, and when it leaves the upstream feeds again without the stage legs
// noticing more than a publisher switch; losing the upstream ends the broadcast.
TEST(RelayChannel, UpstreamFeedsLikeAPublisherAndAWhipPublisherTakesOverUntilItLeaves) {
  std::vector<bool> live_changes;
  RelayChannelOptions options;
  options.on_publisher_live_changed = [&](bool live) { live_changes.push_back(live); };
  Fixture f(options);
  engine::NegotiatedMedia media;
  media.video.mid = "1";
  media.video.payload_type = 96;
  media.video.clock_rate = 90000;
  media.video.feedback.nack = true;
  media.video.feedback.pli = true;
  RecordingSink origin;
  f.channel->upstream_connected(io::monotonic_now(), media, origin, "192.0.2.1:5000");
  EXPECT_TRUE(f.channel->publisher_live());
  EXPECT_EQ(f.channel->status().publisher.source, "pull");
  EXPECT_EQ(f.channel->status().publisher.remote_address, "192.0.2.1:5000");

  RecordingSink leg;
  engine::RelayEgressFormat format;
  format.video.ssrc = 0x1e91e9;
  format.video.payload_type = 102;
  f.channel->attach(io::monotonic_now(), format, leg);
  std::uint16_t sequence = 100;
  auto feed_upstream = [&](bool key, std::uint32_t timestamp) {
    for (const Bytes& packet : upstream_frame(sequence, timestamp, key)) {
      f.channel->upstream_media(io::monotonic_now(), engine::MediaKind::kVideo, packet);
    }
  };
  feed_upstream(true, 9000);
  ASSERT_FALSE(leg.rtp.empty());
  EXPECT_EQ(f.channel->status().publisher.width, 1280);

  TestPeer publisher(f.io, TestPeer::Mode::publisher, 1);
  const std::string id = f.connect(publisher, SessionRole::publisher);
  ASSERT_TRUE(run_until(f.io, [&] { return f.channel->status().publisher.source == "whip"; }));
  const std::size_t while_whip = leg.rtp.size();
  feed_upstream(false, 12000);  // the upstream is connected but no longer feeds
  EXPECT_EQ(leg.rtp.size(), while_whip);

  ASSERT_TRUE(f.channel->end_session(id, SessionRole::publisher));
  EXPECT_TRUE(f.channel->publisher_live());
  EXPECT_EQ(f.channel->status().publisher.source, "pull");
  const auto last = proto::parse_rtp(leg.rtp.back());
  feed_upstream(true, 15000);
  ASSERT_GT(leg.rtp.size(), while_whip);
  const auto next = proto::parse_rtp(leg.rtp[while_whip]);
  ASSERT_TRUE(last && next);
  EXPECT_EQ(next->ssrc, 0x1e91e9u);  // the leg's own stream continues
  EXPECT_EQ(static_cast<std::uint16_t>(next->sequence_number - last->sequence_number), 1);

  f.channel->upstream_lost(io::monotonic_now(), "test");
  EXPECT_FALSE(f.channel->publisher_live());
  EXPECT_EQ(f.channel->status().publisher.source, "");
  EXPECT_EQ(live_changes, (std::vector<bool>{true, false}));
}

}  // namespace
}  // namespace ivs::app
