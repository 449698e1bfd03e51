// Full ICE agent against another full agent (role conflict, peer-reflexive learning from
// requests), answering a peer's checks, and candidate conversion. Simulated clock, no sockets.
#include <gtest/gtest.h>

#include <algorithm>

#include "engine/ice_agent.hpp"
#include "support/sim_network.hpp"

namespace ivs::engine {
namespace {

using test::earliest;
using test::SimNetwork;

const SocketAddress kAgentHost = *SocketAddress::from_string("10.0.0.1:5000");
const SocketAddress kLiteHost = *SocketAddress::from_string("10.0.0.2:6000");
const SocketAddress kNatOutside = *SocketAddress::from_string("203.0.113.7:7000");
const IceCredentials kClient{"cliU", "client-password-abcdefghij"};
const IceCredentials kServer{"srvU", "server-password-abcdefghij"};

IceCandidate host_candidate(const SocketAddress& address) {
  IceCandidate candidate;
  candidate.foundation = "1";
  candidate.priority = ice_candidate_priority(IceCandidateType::kHost, 65535);
  candidate.address = address;
  candidate.base = address;
  return candidate;
}

IceAgentConfig agent_config() {
  IceAgentConfig config;
  config.local = kClient;
  config.host_addresses = {kAgentHost};
  return config;
}

// Two full agents. The offerer knows the answerer's candidate; the answerer knows none of the
// offerer's (like OBS, which puts no candidates in its offer) and must learn it as peer
// reflexive from the incoming check. Both start controlling, so the role conflict has to be
// resolved by tie-breaker (RFC 8445 §7.3.1.1 / §7.2.5.1).
struct AgentVsAgent {
  explicit AgentVsAgent(std::uint64_t seed)
      : network(seed),
        random_a(seed * 2 + 1),
        random_b(seed * 2 + 2),
        a(config_for(kClient, kAgentHost), random_a),
        b(config_for(kServer, kLiteHost), random_b) {}

  static IceAgentConfig config_for(const IceCredentials& local, const SocketAddress& host) {
    IceAgentConfig config;
    config.local = local;
    config.host_addresses = {host};
    return config;
  }

  void start() {
    a.set_remote_credentials(kServer);
    a.add_remote_candidate(host_candidate(kLiteHost));
    b.set_remote_credentials(kClient);
    a.start(now);
    b.start(now);
  }

  void flush(IceAgent& agent, std::vector<IceAgentEvent>& events) {
    while (auto transmit = agent.poll_transmit()) {
      network.send(now, transmit->source, transmit->destination, transmit->payload);
    }
    while (auto event = agent.poll_event()) {
      events.push_back(*event);
    }
  }

  void run_for(Duration duration) {
    const Instant limit = now + duration;
    for (int guard = 0; guard < 1000000; ++guard) {
      flush(a, events_a);
      flush(b, events_b);
      const auto next =
          earliest(earliest(network.next_delivery(), a.poll_timeout()), b.poll_timeout());
      if (!next || *next > limit) {
        break;
      }
      now = std::max(now, *next);
      a.handle_timeout(now);
      b.handle_timeout(now);
      while (auto datagram = network.poll_delivery(now)) {
        IceAgent& target = datagram->to == kAgentHost ? a : b;
        target.handle_packet(now, datagram->to, datagram->from, datagram->payload);
      }
    }
    now = limit;
  }

  SimNetwork network;
  SeededRandom random_a;
  SeededRandom random_b;
  IceAgent a;
  IceAgent b;
  Instant now{};
  std::vector<IceAgentEvent> events_a;
  std::vector<IceAgentEvent> events_b;
};

TEST(IceAgentVsAgent, ResolvesRoleConflictAndLearnsPeerReflexiveCandidate) {
  int a_kept_control = 0;
  for (std::uint64_t seed = 1; seed <= 8; ++seed) {
    AgentVsAgent peers(seed);
    peers.start();
    peers.run_for(seconds(5));
    ASSERT_EQ(peers.a.state(), IceAgentState::kConnected) << "seed " << seed;
    ASSERT_EQ(peers.b.state(), IceAgentState::kConnected) << "seed " << seed;
    EXPECT_NE(peers.a.controlling(), peers.b.controlling()) << "seed " << seed;
    EXPECT_EQ(peers.a.controlling(), peers.a.tie_breaker() > peers.b.tie_breaker());
    EXPECT_GT(peers.a.counters().role_conflicts + peers.b.counters().role_conflicts, 0u);
    EXPECT_EQ(*peers.a.selected_pair(), std::make_pair(kAgentHost, kLiteHost));
    // B was never told A's address: it learned it from A's check.
    EXPECT_EQ(*peers.b.selected_pair(), std::make_pair(kLiteHost, kAgentHost));
    ASSERT_EQ(peers.b.remote_candidates().size(), 1u);
    EXPECT_EQ(peers.b.remote_candidates()[0].type, IceCandidateType::kPeerReflexive);
    a_kept_control += peers.a.controlling() ? 1 : 0;
  }
  // Both outcomes of the tie-break occur over these seeds.
  EXPECT_GT(a_kept_control, 0);
  EXPECT_LT(a_kept_control, 8);
}

TEST(IceAgent, AnswersPeerChecksAndRejectsBadOnes) {
  SeededRandom random(11);
  IceAgent agent(agent_config(), random);
  agent.set_remote_credentials(kServer);
  auto request = [&](std::string_view username, std::string_view pwd, std::uint64_t controlling) {
    proto::StunBuilder builder(proto::kStunBindingMethod, proto::StunClass::kRequest,
                               {7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7});
    builder.add_username(username);
    builder.add_priority(1234);
    builder.add_ice_controlling(controlling);
    StunIntegrity integrity;
    integrity.sign_with_fingerprint(builder, as_bytes(pwd));
    agent.handle_packet(Instant{}, kAgentHost, kLiteHost, builder.bytes());
    auto reply = agent.poll_transmit();
    EXPECT_TRUE(reply);
    EXPECT_EQ(reply->source, kAgentHost);
    EXPECT_EQ(reply->destination, kLiteHost);
    auto parsed = proto::StunMessage::parse(reply->payload);
    if (!parsed || !parsed->error_code()) {
      return 0;
    }
    return parsed->error_code()->code;
  };
  EXPECT_EQ(request("cliU:wrong", kClient.pwd, 0), 401);
  EXPECT_EQ(request("cliU:srvU", "bad-password", 0), 401);
  // Peer claims controlling with a smaller tie-breaker: we keep control and answer 487.
  EXPECT_EQ(request("cliU:srvU", kClient.pwd, 0), 487);
  EXPECT_TRUE(agent.controlling());
  // With a larger one we yield, answer with success and learn the source as a candidate.
  EXPECT_EQ(request("cliU:srvU", kClient.pwd, UINT64_MAX), 0);
  EXPECT_FALSE(agent.controlling());
  EXPECT_EQ(agent.counters().requests_answered, 1u);
  EXPECT_EQ(agent.counters().requests_rejected, 3u);
}

TEST(IceCandidate, FormatsAndParsesCandidateAttributes) {
  IceCandidate srflx;
  srflx.type = IceCandidateType::kServerReflexive;
  srflx.foundation = "s1";
  srflx.priority = ice_candidate_priority(IceCandidateType::kServerReflexive, 65535);
  srflx.address = kNatOutside;
  srflx.base = kAgentHost;
  const std::string line = to_candidate_attribute(srflx);
  EXPECT_EQ(line,
            "candidate:s1 1 udp 1694498815 203.0.113.7 7000 typ srflx raddr 10.0.0.1 rport 5000");
  auto parsed = parse_candidate_attribute("a=" + line);
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->type, IceCandidateType::kServerReflexive);
  EXPECT_EQ(parsed->priority, srflx.priority);
  EXPECT_EQ(parsed->address, kNatOutside);
  EXPECT_EQ(parsed->base, kAgentHost);
  auto ivs = parse_candidate_attribute("candidate:1 1 UDP 2130706431 192.0.2.9 4443 typ host");
  ASSERT_TRUE(ivs);
  EXPECT_EQ(ivs->address, SocketAddress::from_string("192.0.2.9:4443"));
  EXPECT_FALSE(
      parse_candidate_attribute("candidate:1 1 tcp 1 192.0.2.9 9 typ host tcptype active"));
  EXPECT_FALSE(parse_candidate_attribute("candidate:1 1 udp 1 abcd.local 9 typ host"));
  EXPECT_FALSE(parse_candidate_attribute("candidate:1 1 udp"));
  // A Chromium-style line with extensions converts; the extensions are not needed by ICE.
  auto chromium = parse_candidate_attribute(
      "candidate:842163049 1 udp 1677729535 198.51.100.4 61665 typ srflx raddr 10.0.0.9 rport "
      "61665 generation 0 network-cost 999");
  ASSERT_TRUE(chromium);
  EXPECT_EQ(chromium->base, SocketAddress::from_string("10.0.0.9:61665"));
  // RFC 8445 §5.1.2.1 / §6.1.2.3 arithmetic.
  EXPECT_EQ(ice_candidate_priority(IceCandidateType::kHost, 65535), 2130706431u);
  EXPECT_EQ(ice_pair_priority(10, 20), (std::uint64_t{10} << 32) + 40);
  EXPECT_EQ(ice_pair_priority(20, 10), (std::uint64_t{10} << 32) + 41);
}

}  // namespace
}  // namespace ivs::engine
