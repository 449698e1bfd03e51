// PeerSession end to end on the simulated clock: a client session (full controlling IceAgent)
// against a server session behind a PeerSessionRouter (shared IceLite), through SimNetwork.
// ICE + DTLS + SRTP complete in both DTLS role pairings, also with loss, reordering and
// duplication; RTP and RTCP (PLI, NACK) cross decrypted; consent expiry and a wrong fingerprint
// fail the session.
#include <gtest/gtest.h>

#include "engine/peer_session.hpp"
#include "engine/peer_session_router.hpp"
#include "engine/sdp_negotiation.hpp"
#include "proto/rtcp_compound.hpp"
#include "proto/rtp_builder.hpp"
#include "support/sim_network.hpp"

namespace ivs::engine {
namespace {

using test::earliest;
using test::SimNetwork;

constexpr WallTime kWallNow{1'700'000'000'000'000};
const SocketAddress kClientHost = *SocketAddress::from_string("10.0.0.1:5000");
const SocketAddress kServerHost = *SocketAddress::from_string("10.0.0.2:6000");
const IceCredentials kClientIce{"cliU", "client-password-abcdefghij"};
const IceCredentials kServerIce{"srvU", "server-password-abcdefghij"};
const SocketAddress kClient2Host = *SocketAddress::from_string("10.0.0.3:5002");
const IceCredentials kClient2Ice{"cli2", "client2-password-abcdefghij"};
const IceCredentials kServer2Ice{"srv2", "server2-password-abcdefghij"};

std::shared_ptr<const DtlsCertificate> certificate(int which) {
  static const auto first = *DtlsCertificate::generate(kWallNow);
  static const auto second = *DtlsCertificate::generate(kWallNow);
  static const auto third = *DtlsCertificate::generate(kWallNow);
  return which == 0 ? first : which == 1 ? second : third;
}

SessionMediaMap media_map() {
  SessionMediaMap media;
  media.audio_payload_type = 111;
  media.video_payload_type = 96;
  return media;
}

struct Pair {
  Pair(std::uint64_t seed, DtlsRole client_role, int server_fingerprint_of = 1)
      : network(seed), random(seed) {
    PeerSessionConfig server_config;
    server_config.dtls_role =
        client_role == DtlsRole::kClient ? DtlsRole::kServer : DtlsRole::kClient;
    server_config.certificate = certificate(1);
    server_config.remote_fingerprint = certificate(0)->fingerprint();
    server_config.media = media_map();
    server_id = *router.add_session(now, server_config, kServerIce, kClientIce);

    client = make_client(client_role, server_fingerprint_of, kClientIce, kServerIce, kClientHost);
    client->start(now);
  }

  // A second publisher on the same router (same server UDP address, its own ICE ufrag).
  void add_second_client() {
    PeerSessionConfig server_config;
    server_config.dtls_role = DtlsRole::kServer;
    server_config.certificate = certificate(1);
    server_config.remote_fingerprint = certificate(0)->fingerprint();
    server_config.media = media_map();
    server2_id = *router.add_session(now, server_config, kServer2Ice, kClient2Ice);
    client2 = make_client(DtlsRole::kClient, 1, kClient2Ice, kServer2Ice, kClient2Host);
    client2->start(now);
  }

  std::unique_ptr<PeerSession> make_client(DtlsRole client_role, int server_fingerprint_of,
                                           const IceCredentials& local,
                                           const IceCredentials& remote,
                                           const SocketAddress& host) {
    PeerSessionConfig client_config;
    client_config.dtls_role = client_role;
    client_config.certificate = certificate(0);
    client_config.remote_fingerprint = certificate(server_fingerprint_of)->fingerprint();
    client_config.media = media_map();
    PeerSessionIceClient ice;
    ice.agent.local = local;
    ice.agent.host_addresses = {host};
    ice.remote = remote;
    IceCandidate candidate;
    candidate.foundation = "1";
    candidate.priority = ice_candidate_priority(IceCandidateType::kHost, 65535);
    candidate.address = kServerHost;
    candidate.base = kServerHost;
    ice.candidates = {candidate};
    auto created = PeerSession::create_client(client_config, ice, random);
    return std::move(*created);
  }

  void flush() {
    while (auto transmit = client->poll_transmit()) {
      network.send(now, kClientHost, transmit->destination, transmit->payload);
    }
    while (auto event = client->poll_event()) {
      client_events.push_back(std::move(*event));
    }
    while (client2) {
      auto transmit = client2->poll_transmit();
      if (!transmit) {
        break;
      }
      network.send(now, kClient2Host, transmit->destination, transmit->payload);
    }
    while (auto transmit = router.poll_transmit()) {
      network.send(now, kServerHost, transmit->destination, transmit->payload);
    }
    while (auto event = router.poll_event()) {
      if (event->session == server_id) {
        server_events.push_back(std::move(event->event));
      } else {
        server2_events.push_back(std::move(event->event));
      }
    }
    while (auto transmit = router.poll_transmit()) {
      network.send(now, kServerHost, transmit->destination, transmit->payload);
    }
  }

  void run_for(Duration duration) {
    const Instant limit = now + duration;
    for (int guard = 0; guard < 1000000; ++guard) {
      flush();
      auto next = earliest(earliest(network.next_delivery(), client->poll_timeout()),
                           router.poll_timeout());
      if (client2) {
        next = earliest(next, client2->poll_timeout());
      }
      if (!next || *next > limit) {
        now = limit;
        return;
      }
      now = std::max(now, *next);
      while (auto datagram = network.poll_delivery(now)) {
        if (datagram->to == kServerHost) {
          router.handle_packet(now, datagram->from, datagram->payload);
        } else if (datagram->to == kClient2Host) {
          client2->handle_packet(now, datagram->from, datagram->payload);
        } else {
          client->handle_packet(now, datagram->from, datagram->payload);
        }
      }
      if (client->poll_timeout() && *client->poll_timeout() <= now) {
        client->handle_timeout(now);
      }
      if (client2 && client2->poll_timeout() && *client2->poll_timeout() <= now) {
        client2->handle_timeout(now);
      }
      if (router.poll_timeout() && *router.poll_timeout() <= now) {
        router.handle_timeout(now);
      }
    }
    FAIL() << "simulation did not settle";
  }

  PeerSession& server() { return *router.session(server_id); }

  template <class T>
  static int count(const std::vector<PeerSessionEvent>& events) {
    int n = 0;
    for (const auto& event : events) {
      n += std::holds_alternative<T>(event) ? 1 : 0;
    }
    return n;
  }

  Instant now{};
  SimNetwork network;
  SeededRandom random;
  PeerSessionRouter router;
  IceSessionId server_id = 0;
  std::unique_ptr<PeerSession> client;
  std::vector<PeerSessionEvent> client_events;
  std::vector<PeerSessionEvent> server_events;
  IceSessionId server2_id = 0;
  std::unique_ptr<PeerSession> client2;
  std::vector<PeerSessionEvent> server2_events;
};

Bytes rtp_packet(std::uint8_t payload_type, std::uint16_t sequence, std::uint32_t ssrc) {
  proto::RtpPacket packet;
  packet.payload_type = payload_type;
  packet.sequence_number = sequence;
  packet.timestamp = 1000u * sequence;
  packet.ssrc = ssrc;
  packet.payload = Bytes(100, static_cast<std::uint8_t>(sequence));
  return *packet.serialize();
}

class PeerSessionRoles : public testing::TestWithParam<DtlsRole> {};

TEST_P(PeerSessionRoles, ConnectsAndCarriesRtpBothWays) {
  Pair pair(1, GetParam());
  pair.run_for(seconds(5));
  ASSERT_EQ(pair.client->state(), PeerSessionState::kConnected);
  ASSERT_EQ(pair.server().state(), PeerSessionState::kConnected);
  EXPECT_EQ(Pair::count<SessionConnected>(pair.client_events), 1);
  EXPECT_EQ(Pair::count<SessionConnected>(pair.server_events), 1);

  for (std::uint16_t sequence = 1; sequence <= 10; ++sequence) {
    ASSERT_TRUE(pair.client->send_rtp(rtp_packet(96, sequence, 0x1111)));
  }
  ASSERT_TRUE(pair.router.send_rtp(pair.server_id, rtp_packet(111, 7, 0x2222)));
  pair.run_for(milliseconds(100));

  int video = 0;
  for (const auto& event : pair.server_events) {
    if (const auto* media = std::get_if<SessionMediaPacket>(&event)) {
      EXPECT_EQ(media->kind, MediaKind::kVideo);
      const auto view = proto::parse_rtp(media->packet);
      ASSERT_TRUE(view.ok());
      EXPECT_EQ(view->payload().size(), 100u);
      EXPECT_EQ(view->payload()[0], view->sequence_number);
      ++video;
    }
  }
  EXPECT_EQ(video, 10);
  ASSERT_EQ(Pair::count<SessionMediaPacket>(pair.client_events), 1);
  EXPECT_EQ(std::get<SessionMediaPacket>(pair.client_events.back()).kind, MediaKind::kAudio);
  EXPECT_EQ(pair.server().counters().decrypt_auth_failures, 0u);
}

INSTANTIATE_TEST_SUITE_P(BothDtlsPairings, PeerSessionRoles,
                         testing::Values(DtlsRole::kClient, DtlsRole::kServer));

TEST(PeerSessionTest, CompletesUnderLossReorderingAndDuplication) {
  for (std::uint64_t seed = 1; seed <= 5; ++seed) {
    Pair pair(seed, seed % 2 ? DtlsRole::kClient : DtlsRole::kServer);
    test::SimLinkModel model;
    model.loss = 0.2;
    model.reorder = 0.2;
    model.duplicate = 0.2;
    model.jitter = milliseconds(20);
    pair.network.set_model(model);
    pair.run_for(seconds(25));
    EXPECT_EQ(pair.client->state(), PeerSessionState::kConnected) << "seed " << seed;
    EXPECT_EQ(pair.server().state(), PeerSessionState::kConnected) << "seed " << seed;
    EXPECT_GT(pair.network.counters().lost, 0u);
  }
}

TEST(PeerSessionTest, RtcpPliAndNackRoundTrip) {
  Pair pair(3, DtlsRole::kClient);
  pair.run_for(seconds(5));
  ASSERT_EQ(pair.client->state(), PeerSessionState::kConnected);

  // The server (a receiver) asks the client (the sender) for a keyframe and two lost packets.
  const std::uint16_t lost[] = {100, 102};
  Bytes compound;
  proto::RtcpPli{0x2222, 0x1111}.append_to(compound);
  proto::RtcpNack::from_sequence_numbers(0x2222, 0x1111, lost).append_to(compound);
  ASSERT_TRUE(pair.router.send_rtcp(pair.server_id, compound));
  pair.run_for(milliseconds(100));

  ASSERT_EQ(Pair::count<SessionRtcpPacket>(pair.client_events), 1);
  const auto& rtcp = std::get<SessionRtcpPacket>(pair.client_events.back());
  ASSERT_EQ(rtcp.packets.size(), 2u);
  EXPECT_EQ(std::get<proto::RtcpPli>(rtcp.packets[0]).media_ssrc, 0x1111u);
  EXPECT_EQ(std::get<proto::RtcpNack>(rtcp.packets[1]).sequence_numbers(),
            (std::vector<std::uint16_t>{100, 102}));

  // And back: the client answers with a receiver report.
  proto::RtcpReceiverReport report;
  report.sender_ssrc = 0x1111;
  ASSERT_TRUE(pair.client->send_rtcp(report.serialize()));
  pair.run_for(milliseconds(100));
  ASSERT_EQ(Pair::count<SessionRtcpPacket>(pair.server_events), 1);
}

TEST(PeerSessionTest, TamperedAndReplayedSrtpIsCountedNotDelivered) {
  Pair pair(4, DtlsRole::kClient);
  pair.run_for(seconds(5));
  ASSERT_TRUE(pair.client->send_rtp(rtp_packet(96, 1, 0x1111)));
  auto transmit = pair.client->poll_transmit();
  ASSERT_TRUE(transmit);
  pair.router.handle_packet(pair.now, kClientHost, transmit->payload);
  pair.router.handle_packet(pair.now, kClientHost, transmit->payload);  // replay
  // libsrtp checks the replay window before the tag, so the tampered packet is a fresh one.
  ASSERT_TRUE(pair.client->send_rtp(rtp_packet(96, 2, 0x1111)));
  auto second = pair.client->poll_transmit();
  ASSERT_TRUE(second);
  second->payload[20] ^= 1;
  pair.router.handle_packet(pair.now, kClientHost, second->payload);  // tampered
  pair.flush();
  EXPECT_EQ(Pair::count<SessionMediaPacket>(pair.server_events), 1);
  EXPECT_EQ(pair.server().counters().decrypt_replay_failures, 1u);
  EXPECT_EQ(pair.server().counters().decrypt_auth_failures, 1u);
}

TEST(PeerSessionTest, ConsentExpiryFailsBothSides) {
  Pair pair(5, DtlsRole::kClient);
  pair.run_for(seconds(5));
  ASSERT_EQ(pair.server().state(), PeerSessionState::kConnected);
  pair.network.set_blocked(kClientHost, true);
  pair.run_for(seconds(40));
  EXPECT_EQ(pair.server().state(), PeerSessionState::kFailed);
  EXPECT_EQ(pair.client->state(), PeerSessionState::kFailed);
  ASSERT_EQ(Pair::count<SessionFailed>(pair.server_events), 1);
  ASSERT_EQ(Pair::count<SessionFailed>(pair.client_events), 1);
  EXPECT_NE(std::get<SessionFailed>(pair.server_events.back()).reason.find("consent"),
            std::string::npos);
}

TEST(PeerSessionTest, WrongFingerprintFailsWithoutKeys) {
  Pair pair(6, DtlsRole::kClient, /*server_fingerprint_of=*/2);
  pair.run_for(seconds(5));
  EXPECT_EQ(pair.client->state(), PeerSessionState::kFailed);
  EXPECT_EQ(Pair::count<SessionConnected>(pair.client_events), 0);
  EXPECT_FALSE(pair.client->send_rtp(rtp_packet(96, 1, 0x1111)));
}

TEST(PeerSessionTest, CloseSendsCloseNotifyAndThePeerReportsClosed) {
  Pair pair(7, DtlsRole::kClient);
  pair.run_for(seconds(5));
  pair.client->close(pair.now);
  pair.run_for(milliseconds(100));
  EXPECT_EQ(pair.client->state(), PeerSessionState::kClosed);
  EXPECT_EQ(pair.server().state(), PeerSessionState::kClosed);
  EXPECT_EQ(Pair::count<SessionClosed>(pair.server_events), 1);
}

// Memory (issue 12): OpenSSL keeps ~38 KiB per DTLS session for as long as it lives, one per
// stage. The session is freed once the peer proves it has the SRTP keys, and close_notify must
// still reach the peer afterwards, which must still see it as a close.
TEST_P(PeerSessionRoles, RetiresDtlsOnceThePeerHasTheKeysAndStillClosesBothWays) {
  Pair pair(11, GetParam());
  pair.run_for(seconds(5));
  ASSERT_EQ(pair.client->state(), PeerSessionState::kConnected);
  // Connected, but no authenticated packet from the peer yet: the handshake may still be asked
  // for again (the peer may not have our last flight), so nothing is freed.
  EXPECT_FALSE(pair.client->dtls().retired());
  EXPECT_FALSE(pair.server().dtls().retired());

  ASSERT_TRUE(pair.client->send_rtp(rtp_packet(96, 1, 0x1111)));
  pair.run_for(milliseconds(100));
  EXPECT_TRUE(pair.server().dtls().retired());
  EXPECT_FALSE(pair.client->dtls().retired());  // nothing came from the server yet
  ASSERT_TRUE(pair.router.send_rtcp(pair.server_id, proto::RtcpPli{0x2222, 0x1111}.serialize()));
  pair.run_for(milliseconds(100));
  EXPECT_TRUE(pair.client->dtls().retired());

  // Media goes on both ways once retired.
  ASSERT_TRUE(pair.client->send_rtp(rtp_packet(96, 2, 0x1111)));
  ASSERT_TRUE(pair.router.send_rtp(pair.server_id, rtp_packet(111, 3, 0x2222)));
  pair.run_for(milliseconds(100));
  EXPECT_EQ(Pair::count<SessionMediaPacket>(pair.server_events), 2);
  EXPECT_EQ(Pair::count<SessionMediaPacket>(pair.client_events), 1);

  // A DTLS record other than an alert (here a handshake record) is dropped and counted.
  Bytes handshake(40, 0);
  handshake[0] = 22;
  handshake[1] = 0xfe;
  handshake[2] = 0xfd;
  pair.router.handle_packet(pair.now, kClientHost, handshake);
  pair.flush();
  EXPECT_EQ(pair.server().state(), PeerSessionState::kConnected);
  EXPECT_EQ(pair.server().dtls().stats().dropped_after_retire, 1u);

  pair.client->close(pair.now);
  pair.run_for(milliseconds(100));
  EXPECT_EQ(pair.client->state(), PeerSessionState::kClosed);
  EXPECT_EQ(pair.server().state(), PeerSessionState::kClosed);
  EXPECT_EQ(Pair::count<SessionClosed>(pair.server_events), 1);
}

TEST(PeerSessionTest, ARetiredServerSessionStillSendsCloseNotify) {
  Pair pair(12, DtlsRole::kClient);
  pair.run_for(seconds(5));
  ASSERT_TRUE(pair.client->send_rtp(rtp_packet(96, 1, 0x1111)));
  ASSERT_TRUE(pair.router.send_rtp(pair.server_id, rtp_packet(111, 1, 0x2222)));
  pair.run_for(milliseconds(100));
  ASSERT_TRUE(pair.server().dtls().retired());
  ASSERT_TRUE(pair.client->dtls().retired());

  // As MediaPlane::close_session does: close, then send what the session queued.
  pair.server().close(pair.now);
  while (auto transmit = pair.server().poll_transmit()) {
    pair.network.send(pair.now, kServerHost, transmit->destination, transmit->payload);
  }
  pair.run_for(milliseconds(100));
  EXPECT_EQ(pair.client->state(), PeerSessionState::kClosed);
  EXPECT_EQ(Pair::count<SessionClosed>(pair.client_events), 1);
}

TEST(PeerSessionTest, OneRouterServesTwoSessionsAndRoutesEachBySourceAddress) {
  Pair pair(8, DtlsRole::kClient);
  pair.add_second_client();
  pair.run_for(seconds(5));
  ASSERT_EQ(pair.server().state(), PeerSessionState::kConnected);
  ASSERT_EQ(pair.router.session(pair.server2_id)->state(), PeerSessionState::kConnected);
  for (std::uint16_t sequence = 1; sequence <= 3; ++sequence) {
    ASSERT_TRUE(pair.client->send_rtp(rtp_packet(96, sequence, 0x1111)));
  }
  ASSERT_TRUE(pair.client2->send_rtp(rtp_packet(111, 1, 0x3333)));
  pair.run_for(milliseconds(100));
  EXPECT_EQ(Pair::count<SessionMediaPacket>(pair.server_events), 3);
  EXPECT_EQ(Pair::count<SessionMediaPacket>(pair.server2_events), 1);

  // Media from an address ICE never validated reaches no session.
  const auto before = pair.router.ice().counters().dropped_unknown_address;
  pair.router.handle_packet(pair.now, *SocketAddress::from_string("10.9.9.9:9"),
                            rtp_packet(96, 9, 0x1111));
  pair.flush();
  EXPECT_EQ(pair.router.ice().counters().dropped_unknown_address, before + 1);
  EXPECT_EQ(Pair::count<SessionMediaPacket>(pair.server_events), 3);
}

// Regression: sdp_negotiation.hpp declared its own `enum class DtlsRole` in ivs::engine next to
// the one in dtls_srtp_keys.hpp, so no file could include both the SDP negotiation and the DTLS
// transport: the first file that had to (this session, taking its DTLS role from the egress
// answer) failed to compile with "multiple definition of enum DtlsRole". There is one DtlsRole
// now; the answer's role goes straight into the DTLS configuration.
TEST(PeerSessionTest, EgressAnswerRoleIsTheDtlsTransportRole) {
  EgressAnswer answer;
  answer.dtls_role = DtlsRole::kServer;
  PeerSessionConfig config;
  config.dtls_role = answer.dtls_role;
  EXPECT_EQ(config.dtls_role, DtlsRole::kServer);
}

}  // namespace
}  // namespace ivs::engine

namespace ivs::engine {
namespace {

// The fan-out send path (issue 6): protect into the caller's buffer, no queued Transmit. The
// datagram must be exactly what send_rtp would have queued, so the peer decrypts it.
TEST(PeerSessionTest, ProtectRtpIntoWritesADatagramThePeerDecrypts) {
  Pair pair(7, DtlsRole::kClient);
  Bytes out(2048 + kMaxSrtpOverhead);
  EXPECT_FALSE(pair.client->protect_rtp_into(rtp_packet(96, 1, 0x1111), out));  // not connected
  EXPECT_EQ(pair.client->counters().send_dropped_not_ready, 1u);
  pair.run_for(std::chrono::seconds(5));
  ASSERT_EQ(pair.client->state(), PeerSessionState::kConnected);
  const Bytes packet = rtp_packet(96, 2, 0x1111);
  const auto size = pair.client->protect_rtp_into(packet, out);
  ASSERT_TRUE(size);
  EXPECT_GT(*size, packet.size());             // the tag was added
  EXPECT_FALSE(pair.client->poll_transmit());  // nothing queued
  pair.router.handle_packet(pair.now, kClientHost, ByteSpan(out.data(), *size));
  pair.flush();
  ASSERT_EQ(Pair::count<SessionMediaPacket>(pair.server_events), 1);
  EXPECT_EQ(std::get<SessionMediaPacket>(pair.server_events.back()).packet, packet);
  Bytes tiny(4);
  EXPECT_FALSE(pair.client->protect_rtp_into(packet, tiny));
  EXPECT_EQ(pair.client->counters().send_protect_failures, 1u);
}

// A WHEP viewer on a media worker: the server session hands its outbound SRTP context to the
// worker, which protects the viewer's media there. What the taken context protects, the peer
// decrypts; the session itself no longer protects (two owners would reuse packet indices), and
// it still receives the peer's RTCP.
TEST(PeerSessionTest, TheTakenOutboundSrtpProtectsForThePeerAndTheSessionStopsProtecting) {
  Pair pair(9, DtlsRole::kClient);
  EXPECT_EQ(pair.server().take_outbound_srtp(), nullptr);  // not connected
  pair.run_for(std::chrono::seconds(5));
  ASSERT_EQ(pair.server().state(), PeerSessionState::kConnected);
  auto outbound = pair.server().take_outbound_srtp();
  ASSERT_NE(outbound, nullptr);
  EXPECT_EQ(pair.server().take_outbound_srtp(), nullptr);  // once

  const Bytes packet = rtp_packet(96, 5, 0x3333);
  Bytes datagram = packet;
  datagram.resize(packet.size() + kMaxSrtpOverhead);
  std::size_t size = packet.size();
  ASSERT_EQ(outbound->protect_rtp(datagram, size), SrtpStatus::kOk);
  pair.client->handle_packet(pair.now, kServerHost, ByteSpan(datagram.data(), size));
  pair.flush();
  ASSERT_EQ(Pair::count<SessionMediaPacket>(pair.client_events), 1);
  EXPECT_EQ(std::get<SessionMediaPacket>(pair.client_events.back()).packet, packet);

  Bytes out(2048);
  EXPECT_FALSE(pair.server().protect_rtp_into(packet, out));
  EXPECT_FALSE(pair.router.send_rtcp(pair.server_id, Bytes{0x80, 201, 0, 1, 0, 0, 0, 1}));
  proto::RtcpReceiverReport report;
  report.sender_ssrc = 0x1111;
  ASSERT_TRUE(pair.client->send_rtcp(report.serialize()));
  pair.run_for(std::chrono::milliseconds(100));
  EXPECT_EQ(Pair::count<SessionRtcpPacket>(pair.server_events), 1);
}

}  // namespace
}  // namespace ivs::engine
