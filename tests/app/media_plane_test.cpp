// MediaPlane over real loopback sockets: binding (ephemeral, busy, wildcard, announced IP), the
// local transports it makes, and one server session driven end to end by a client-mode peer
// (ICE, DTLS, SRTP both ways, DTLS close, consent loss) with events reaching the session's
// handler. No sleeps: the loop runs until a condition holds, with a deadline.
#include "app/relay/media_plane.hpp"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>

#include <algorithm>
#include <functional>

#include "io/clock.hpp"
#include "proto/rtcp_pli.hpp"
#include "proto/rtp_builder.hpp"
#include "webrtc_test_peer.hpp"

namespace ivs::app {
namespace {

using test::TestPeer;

bool run_until(boost::asio::io_context& io, const std::function<bool()>& done,
               std::chrono::seconds limit = std::chrono::seconds(10)) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) {
      return false;
    }
    io.restart();
    io.run_for(std::chrono::milliseconds(10));
  }
  return true;
}

MediaPlaneOptions loopback() {
  MediaPlaneOptions options;
  options.bind_ip = "127.0.0.1";
  options.udp_port = 0;
  return options;
}

struct RecordingHandler : MediaSessionHandler {
  void on_session_event(Instant, engine::IceSessionId id,
                        engine::PeerSessionEvent& event) override {
    ids.push_back(id);
    if (std::holds_alternative<engine::SessionConnected>(event)) {
      connected = true;
    } else if (auto* media = std::get_if<engine::SessionMediaPacket>(&event)) {
      packets.push_back(media->packet);
    } else if (auto* failed = std::get_if<engine::SessionFailed>(&event)) {
      failure = failed->reason;
      if (plane) {
        plane->remove_session(id);  // handlers may command the plane from inside the drain
      }
    } else if (std::holds_alternative<engine::SessionClosed>(event)) {
      closed = true;
    }
  }
  MediaPlane* plane = nullptr;
  std::vector<engine::IceSessionId> ids;
  bool connected = false;
  bool closed = false;
  std::optional<std::string> failure;
  std::vector<Bytes> packets;
};

// Negotiates the peer's offer on the plane and registers the session under `handler`.
Result<engine::IceSessionId> open(MediaPlane& plane, TestPeer& peer, MediaSessionHandler& handler) {
  engine::LocalTransport local = plane.make_local_transport();
  auto answer = engine::negotiate_ingest(peer.offer(), local);
  if (!answer) {
    return answer.error();
  }
  engine::PeerSessionConfig config;
  config.certificate = plane.certificate();
  config.remote_fingerprint = {answer->media.remote.fingerprint.algorithm,
                               answer->media.remote.fingerprint.digest};
  config.media.video_payload_type = answer->media.video.payload_type;
  if (answer->media.audio) {
    config.media.audio_payload_type = answer->media.audio->payload_type;
  }
  auto id =
      plane.add_session(io::monotonic_now(), config, local.ice, answer->media.remote.ice, handler);
  if (!id) {
    return id.error();
  }
  plane.drain(io::monotonic_now());
  if (auto accepted = peer.accept(answer->sdp); !accepted) {
    return accepted.error();
  }
  return *id;
}

Bytes video_packet(std::uint8_t payload_type, std::uint16_t sequence) {
  proto::RtpPacket packet;
  packet.payload_type = payload_type;
  packet.sequence_number = sequence;
  packet.timestamp = 90000;
  packet.ssrc = TestPeer::kVideoSsrc;
  packet.marker = true;
  packet.payload = {0x41, 0x9a, 0x00, 0x01};  // a non-IDR slice NAL header and a few bytes
  return *packet.serialize();
}

TEST(MediaPlane, BindsAnEphemeralPortAndAdvertisesTheBoundAddress) {
  boost::asio::io_context io;
  auto plane = MediaPlane::start(io, loopback());
  ASSERT_TRUE(plane) << plane.error().message;
  const SocketAddress local = (*plane)->local_address();
  EXPECT_NE(local.port(), 0);
  ASSERT_EQ((*plane)->host_addresses().size(), 1u);
  EXPECT_EQ((*plane)->host_addresses()[0], local);

  const auto a = (*plane)->make_local_transport();
  const auto b = (*plane)->make_local_transport();
  EXPECT_EQ(a.ice.ufrag.size(), 8u);
  EXPECT_EQ(a.ice.pwd.size(), 24u);
  EXPECT_NE(a.ice.ufrag, b.ice.ufrag);
  EXPECT_NE(a.ice.pwd, b.ice.pwd);
  EXPECT_EQ(a.fingerprint.digest, (*plane)->certificate()->fingerprint().digest);
  EXPECT_EQ(a.host_addresses, std::vector{local});
  EXPECT_FALSE(a.announced_ip);
}

TEST(MediaPlane, WildcardBindAdvertisesEveryInterfaceAddressIncludingLoopback) {
  boost::asio::io_context io;
  MediaPlaneOptions options;
  options.bind_ip = "0.0.0.0";
  auto plane = MediaPlane::start(io, options);
  ASSERT_TRUE(plane) << plane.error().message;
  const auto& hosts = (*plane)->host_addresses();
  ASSERT_FALSE(hosts.empty());
  const std::uint16_t port = (*plane)->local_address().port();
  for (const auto& host : hosts) {
    EXPECT_NE(host.ip_string(), "0.0.0.0");
    EXPECT_EQ(host.port(), port);
  }
  EXPECT_NE(std::find(hosts.begin(), hosts.end(), SocketAddress::ipv4({127, 0, 0, 1}, port)),
            hosts.end());
}

TEST(MediaPlane, AnnouncedIpIsWhatTheAnswerAdvertises) {
  boost::asio::io_context io;
  auto options = loopback();
  options.announced_ip = "203.0.113.7";
  auto plane = MediaPlane::start(io, options);
  ASSERT_TRUE(plane) << plane.error().message;
  TestPeer peer(io, TestPeer::Mode::publisher);
  auto answer = engine::negotiate_ingest(peer.offer(), (*plane)->make_local_transport());
  ASSERT_TRUE(answer) << answer.error().message;
  const std::string port = std::to_string((*plane)->local_address().port());
  EXPECT_NE(answer->sdp.find("203.0.113.7 " + port + " typ host"), std::string::npos)
      << answer->sdp;
  EXPECT_EQ(answer->sdp.find("127.0.0.1"), std::string::npos);
}

TEST(MediaPlane, ABusyPortFailsWithAnErrorNamingTheAddress) {
  boost::asio::io_context io;
  auto first = MediaPlane::start(io, loopback());
  ASSERT_TRUE(first);
  auto options = loopback();
  options.udp_port = (*first)->local_address().port();
  auto second = MediaPlane::start(io, options);
  ASSERT_FALSE(second);
  EXPECT_NE(second.error().message.find((*first)->local_address().to_string()), std::string::npos)
      << second.error().message;

  options.bind_ip = "not-an-address";
  auto bad = MediaPlane::start(io, options);
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("RTC_BIND_IP=not-an-address"), std::string::npos);
}

TEST(MediaPlane, ASessionConnectsExchangesSrtpAndClosesWithCloseNotify) {
  boost::asio::io_context io;
  auto plane = MediaPlane::start(io, loopback());
  ASSERT_TRUE(plane);
  RecordingHandler handler;
  TestPeer peer(io, TestPeer::Mode::publisher);
  auto id = open(**plane, peer, handler);
  ASSERT_TRUE(id) << id.error().message;
  EXPECT_EQ(peer.candidates, 1u);
  ASSERT_TRUE(run_until(io, [&] { return handler.connected && peer.connected; }));

  for (std::uint16_t sequence = 1; sequence <= 3; ++sequence) {
    peer.send_rtp(video_packet(peer.video_payload_type, sequence));
  }
  ASSERT_TRUE(run_until(io, [&] { return handler.packets.size() == 3; }));
  EXPECT_EQ(handler.packets[0], video_packet(peer.video_payload_type, 1));

  (*plane)->send_rtcp(*id, proto::RtcpPli{1, TestPeer::kVideoSsrc}.serialize());
  (*plane)->drain(io::monotonic_now());
  ASSERT_TRUE(run_until(io, [&] { return !peer.rtcp.empty(); }));
  EXPECT_TRUE(std::holds_alternative<proto::RtcpPli>(peer.rtcp[0].packets.at(0)));

  (*plane)->close_session(io::monotonic_now(), *id);
  EXPECT_EQ((*plane)->session_count(), 0u);
  ASSERT_TRUE(run_until(io, [&] { return peer.closed; }));
  for (engine::IceSessionId seen : handler.ids) {
    EXPECT_EQ(seen, *id);
  }
}

// The plane's sessions share one DTLS context (one SSL_CTX), as the egress legs do; each still
// checks its own peer's fingerprint. Two peers with certificates of their own both connect and
// get their media through.
TEST(MediaPlane, SessionsShareOneDtlsContextAndEachConnectsToItsOwnPeer) {
  boost::asio::io_context io;
  auto plane = MediaPlane::start(io, loopback());
  ASSERT_TRUE(plane);
  ASSERT_NE((*plane)->dtls_context(), nullptr);
  EXPECT_EQ((*plane)->dtls_context().use_count(), 1);
  RecordingHandler first_handler;
  RecordingHandler second_handler;
  TestPeer first(io, TestPeer::Mode::publisher, 1);
  TestPeer second(io, TestPeer::Mode::publisher, 2);
  ASSERT_TRUE(open(**plane, first, first_handler));
  // Each session holds the plane's context (a few references: its config, its transport).
  const long per_session = (*plane)->dtls_context().use_count() - 1;
  EXPECT_GE(per_session, 1);
  ASSERT_TRUE(open(**plane, second, second_handler));
  EXPECT_EQ((*plane)->dtls_context().use_count(), 1 + 2 * per_session);
  ASSERT_TRUE(run_until(io, [&] {
    return first_handler.connected && second_handler.connected && first.connected &&
           second.connected;
  }));
  first.send_rtp(video_packet(first.video_payload_type, 7));
  second.send_rtp(video_packet(second.video_payload_type, 9));
  ASSERT_TRUE(run_until(
      io, [&] { return first_handler.packets.size() == 1 && second_handler.packets.size() == 1; }));
  EXPECT_EQ(first_handler.packets[0], video_packet(first.video_payload_type, 7));
  EXPECT_EQ(second_handler.packets[0], video_packet(second.video_payload_type, 9));
}

// A viewer's media is protected straight into the plane's send ring (no Transmit per packet). A
// burst larger than the ring, as when a GOP is replayed to a new viewer, is flushed on the way
// rather than dropped, and arrives in order.
TEST(MediaPlane, AViewerBurstLargerThanTheSendRingArrivesWhole) {
  boost::asio::io_context io;
  auto options = loopback();
  options.send_queue_capacity = 16;
  auto plane = MediaPlane::start(io, options);
  ASSERT_TRUE(plane);
  RecordingHandler handler;
  TestPeer peer(io, TestPeer::Mode::publisher);  // ingest negotiation; it receives as well
  auto id = open(**plane, peer, handler);
  ASSERT_TRUE(id) << id.error().message;
  ASSERT_TRUE(run_until(io, [&] { return handler.connected && peer.connected; }));

  constexpr std::uint16_t kBurst = 100;
  for (std::uint16_t sequence = 1; sequence <= kBurst; ++sequence) {
    EXPECT_TRUE((*plane)->send_rtp(*id, video_packet(peer.video_payload_type, sequence)));
  }
  (*plane)->drain(io::monotonic_now());
  ASSERT_TRUE(run_until(io, [&] { return peer.media.size() == kBurst; }));
  EXPECT_EQ(peer.media.front().packet, video_packet(peer.video_payload_type, 1));
  EXPECT_EQ(peer.media.back().packet, video_packet(peer.video_payload_type, kBurst));
}

TEST(MediaPlane, ConsentLossReachesTheHandlerWhichMayRemoveTheSession) {
  boost::asio::io_context io;
  auto options = loopback();
  options.ice.consent_timeout = std::chrono::seconds(1);
  auto plane = MediaPlane::start(io, options);
  ASSERT_TRUE(plane);
  RecordingHandler handler;
  handler.plane = plane->get();
  TestPeer peer(io, TestPeer::Mode::publisher);
  ASSERT_TRUE(open(**plane, peer, handler));
  ASSERT_TRUE(run_until(io, [&] { return handler.connected; }));
  peer.vanish();
  ASSERT_TRUE(run_until(io, [&] { return handler.failure.has_value(); }));
  EXPECT_EQ((*plane)->session_count(), 0u);
}

TEST(MediaPlane, RefusesSessionsBeyondItsLimitAndAfterClose) {
  boost::asio::io_context io;
  auto options = loopback();
  options.max_sessions = 1;
  auto plane = MediaPlane::start(io, options);
  ASSERT_TRUE(plane);
  RecordingHandler handler;
  TestPeer first(io, TestPeer::Mode::publisher, 1);
  TestPeer second(io, TestPeer::Mode::publisher, 2);
  ASSERT_TRUE(open(**plane, first, handler));
  auto refused = open(**plane, second, handler);
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().message.find("limit of 1"), std::string::npos);

  (*plane)->close();
  EXPECT_EQ((*plane)->session_count(), 0u);
  TestPeer third(io, TestPeer::Mode::publisher, 3);
  EXPECT_FALSE(open(**plane, third, handler));
}

}  // namespace
}  // namespace ivs::app
