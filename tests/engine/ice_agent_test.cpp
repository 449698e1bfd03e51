// Full ICE agent (controlling, WHIP-client role) against our ICE-lite responder and against
// another agent, on a simulated clock through tests/support/sim_network. No sockets, no sleeps.
#include "engine/ice_agent.hpp"

#include <gtest/gtest.h>

#include <algorithm>

#include "engine/ice_lite.hpp"
#include "support/sim_network.hpp"

namespace ivs::engine {
namespace {

using test::earliest;
using test::SimLinkModel;
using test::SimNetwork;

const SocketAddress kAgentHost = *SocketAddress::from_string("10.0.0.1:5000");
const SocketAddress kLiteHost = *SocketAddress::from_string("10.0.0.2:6000");
const SocketAddress kNatOutside = *SocketAddress::from_string("203.0.113.7:7000");
const IceCredentials kClient{"cliU", "client-password-abcdefghij"};
const IceCredentials kServer{"srvU", "server-password-abcdefghij"};
const Bytes kRtp = {0x80, 0x60, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1};

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

template <class Event, class Kind>
std::size_t count_kind(const std::vector<std::pair<Instant, Event>>& events, Kind kind) {
  return static_cast<std::size_t>(std::count_if(
      events.begin(), events.end(), [&](const auto& e) { return e.second.kind == kind; }));
}

// The WHIP client (agent) and a server (lite) joined by the simulated network.
struct AgentVsLite {
  explicit AgentVsLite(std::uint64_t seed, IceAgentConfig config = agent_config(),
                       IceCredentials server_remote = kClient)
      : network(seed), random(seed ^ 0x5eed5eed5eedULL), agent(std::move(config), random) {
    session = *lite.add_session(kServer, server_remote);
  }

  void start(IceCredentials remote = kServer) {
    agent.set_remote_credentials(std::move(remote));
    agent.add_remote_candidate(host_candidate(kLiteHost));
    agent.start(now);
    flush();
  }

  void flush() {
    while (auto transmit = agent.poll_transmit()) {
      agent_sent.emplace_back(now, *transmit);
      network.send(now, transmit->source, transmit->destination, transmit->payload);
    }
    while (auto event = agent.poll_event()) {
      agent_events.emplace_back(now, *event);
    }
    while (auto event = lite.poll_event()) {
      lite_events.emplace_back(now, *event);
    }
  }

  void deliver() {
    while (auto datagram = network.poll_delivery(now)) {
      if (datagram->to == kLiteHost) {
        auto decision = lite.handle_packet(now, datagram->from, datagram->payload);
        if (decision.action == IceLiteDecision::Action::kSendReply) {
          network.send(now, kLiteHost, decision.reply.destination, decision.reply.payload);
        }
      } else {
        agent.handle_packet(now, datagram->to, datagram->from, datagram->payload);
      }
      flush();
    }
  }

  void run_for(Duration duration) {
    const Instant limit = now + duration;
    int stalled = 0;
    for (int guard = 0; guard < 1000000; ++guard) {
      flush();
      const auto next =
          earliest(earliest(network.next_delivery(), agent.poll_timeout()), lite.poll_timeout());
      if (!next || *next > limit) {
        break;
      }
      // An engine that keeps asking for a time already handled would spin a real event loop.
      stalled = *next <= now ? stalled + 1 : 0;
      ASSERT_LT(stalled, 100) << "poll_timeout() does not advance";
      now = std::max(now, *next);
      agent.handle_timeout(now);
      lite.handle_timeout(now);
      flush();
      deliver();
    }
    now = limit;
  }

  std::optional<Instant> first_event_time(IceAgentEvent::Kind kind) const {
    for (const auto& [at, event] : agent_events) {
      if (event.kind == kind) {
        return at;
      }
    }
    return std::nullopt;
  }

  SimNetwork network;
  SeededRandom random;
  IceAgent agent;
  IceLite lite;
  IceSessionId session = 0;
  Instant now{};
  std::vector<std::pair<Instant, IceTransmit>> agent_sent;
  std::vector<std::pair<Instant, IceAgentEvent>> agent_events;
  std::vector<std::pair<Instant, IceLiteEvent>> lite_events;
};

TEST(IceAgentVsLite, CompletesAndNominatesTheHostPair) {
  AgentVsLite peers(1);
  peers.start();
  peers.run_for(seconds(3));
  EXPECT_EQ(peers.agent.state(), IceAgentState::kConnected);
  ASSERT_TRUE(peers.agent.selected_pair());
  EXPECT_EQ(peers.agent.selected_pair()->first, kAgentHost);
  EXPECT_EQ(peers.agent.selected_pair()->second, kLiteHost);
  EXPECT_EQ(peers.lite.selected_address(peers.session), kAgentHost);
  EXPECT_EQ(count_kind(peers.agent_events, IceAgentEvent::Kind::kSelectedPair), 1u);
  EXPECT_EQ(count_kind(peers.lite_events, IceLiteEvent::Kind::kSelected), 1u);
  // Connected within a few round trips (10 ms each way), not after a timeout.
  EXPECT_LT(*peers.first_event_time(IceAgentEvent::Kind::kSelectedPair) - Instant{},
            milliseconds(200));
  // Media from the validated address now reaches the session.
  EXPECT_EQ(peers.lite.handle_packet(peers.now, kAgentHost, kRtp).session, peers.session);
}

TEST(IceAgentVsLite, AggressiveNominationAlsoCompletes) {
  IceAgentConfig config = agent_config();
  config.aggressive_nomination = true;
  AgentVsLite peers(2, config);
  peers.start();
  peers.run_for(seconds(2));
  EXPECT_EQ(peers.agent.state(), IceAgentState::kConnected);
  EXPECT_EQ(peers.lite.selected_address(peers.session), kAgentHost);
}

TEST(IceAgentVsLite, CompletesDespiteLossReorderingAndDuplication) {
  // With 20% loss each way one check round trip fails 36% of the time. With one pair, RFC 8489
  // timing gives 7 transmissions over 31.5 s, so a run fails only when all 7 round trips are
  // lost (0.36^7, about 0.08%). Over 100 seeded runs we require at least 98 to connect and
  // stay connected (consent requests are retransmitted too), and the runs are deterministic.
  IceAgentConfig config = agent_config();
  config.checking_timeout = seconds(45);
  std::uint64_t lost = 0;
  std::uint64_t duplicated = 0;
  int connected = 0;
  for (std::uint64_t seed = 100; seed < 200; ++seed) {
    AgentVsLite peers(seed, config);
    peers.network.set_model(SimLinkModel{.delay = milliseconds(20),
                                         .jitter = milliseconds(30),
                                         .loss = 0.2,
                                         .duplicate = 0.2,
                                         .reorder = 0.2});
    peers.start();
    peers.run_for(seconds(60));
    if (peers.agent.state() == IceAgentState::kConnected &&
        peers.lite.selected_address(peers.session) == kAgentHost &&
        count_kind(peers.lite_events, IceLiteEvent::Kind::kConsentExpired) == 0) {
      ++connected;
    }
    lost += peers.network.counters().lost;
    duplicated += peers.network.counters().duplicated;
  }
  EXPECT_GE(connected, 98);
  EXPECT_GT(lost, 300u);
  EXPECT_GT(duplicated, 300u);
}

TEST(IceAgentVsLite, WrongUfragIsCountedByTheLiteAndTheAgentFails) {
  IceAgentConfig config = agent_config();
  config.checking_timeout = seconds(10);
  AgentVsLite peers(3, config);
  peers.start(IceCredentials{"nope", kServer.pwd});
  peers.run_for(seconds(12));
  EXPECT_GT(peers.lite.counters().rejected_unknown_ufrag, 0u);
  EXPECT_EQ(peers.lite.counters().binding_requests, 0u);
  EXPECT_EQ(peers.agent.state(), IceAgentState::kFailed);
  // The 401 carries no integrity (we could not authenticate), so the agent discards it.
  EXPECT_GT(peers.agent.counters().dropped, 0u);
}

TEST(IceAgentVsLite, WrongPasswordIsCountedAsBadIntegrity) {
  AgentVsLite peers(4);
  peers.start(IceCredentials{kServer.ufrag, "not-the-password"});
  peers.run_for(seconds(2));
  EXPECT_GT(peers.lite.counters().rejected_bad_integrity, 0u);
  EXPECT_FALSE(peers.lite.selected_address(peers.session));
  EXPECT_NE(peers.agent.state(), IceAgentState::kConnected);
}

TEST(IceAgentVsLite, LearnsPeerReflexiveAddressesThroughANat) {
  // The client sits behind a NAT: the lite side only learns the outside address from the
  // request, and the agent learns that address as a local peer-reflexive candidate.
  AgentVsLite peers(5);
  peers.network.add_nat(kAgentHost, kNatOutside);
  peers.start();
  peers.run_for(seconds(3));
  EXPECT_EQ(peers.agent.state(), IceAgentState::kConnected);
  EXPECT_EQ(peers.lite.selected_address(peers.session), kNatOutside);
  EXPECT_EQ(peers.lite.handle_packet(peers.now, kNatOutside, kRtp).session, peers.session);
  EXPECT_EQ(peers.lite.handle_packet(peers.now, kAgentHost, kRtp).reason,
            IceLiteDropReason::kUnknownAddress);
  const auto& locals = peers.agent.local_candidates();
  EXPECT_TRUE(std::any_of(locals.begin(), locals.end(), [](const IceCandidate& c) {
    return c.type == IceCandidateType::kPeerReflexive && c.address == kNatOutside &&
           c.base == kAgentHost;
  }));
  EXPECT_EQ(peers.agent.selected_pair()->first, kAgentHost);  // Still sent from the base.
}

TEST(IceAgentVsLite, FallsBackToASecondHostWhenTheBestOneIsUnreachable) {
  // Two host sockets (say wired and Wi-Fi) plus an IPv6 one the IPv4-only server cannot pair
  // with. The preferred socket's network is down, so after the nomination delay the agent
  // nominates the pair on the second socket.
  const SocketAddress second_host = *SocketAddress::from_string("10.0.0.5:5000");
  IceAgentConfig config = agent_config();
  config.host_addresses = {kAgentHost, second_host, *SocketAddress::from_string("[fd00::1]:5000")};
  AgentVsLite peers(12, config);
  peers.network.set_blocked(kAgentHost, true);
  peers.start();
  peers.run_for(seconds(3));
  EXPECT_EQ(peers.agent.state(), IceAgentState::kConnected);
  ASSERT_TRUE(peers.agent.selected_pair());
  EXPECT_EQ(peers.agent.selected_pair()->first, second_host);
  EXPECT_EQ(peers.lite.selected_address(peers.session), second_host);
  for (const auto& [at, transmit] : peers.agent_sent) {
    EXPECT_TRUE(transmit.source.is_ipv4());  // No IPv6-to-IPv4 pair was formed.
  }
  EXPECT_GE(*peers.first_event_time(IceAgentEvent::Kind::kSelectedPair) - Instant{},
            config.nomination_delay);
}

TEST(IceAgentVsLite, ConsentKeepsTheSessionAliveWhileBothAnswer) {
  AgentVsLite peers(6);
  peers.start();
  peers.run_for(seconds(120));
  EXPECT_EQ(peers.agent.state(), IceAgentState::kConnected);
  EXPECT_EQ(count_kind(peers.lite_events, IceLiteEvent::Kind::kConsentExpired), 0u);
  // One request every 4–6 s: between 20 and 30 in two minutes.
  EXPECT_GE(peers.agent.counters().consent_requests, 20u);
  EXPECT_LE(peers.agent.counters().consent_requests, 30u);
}

TEST(IceAgentVsLite, ConsentExpiryTearsDownBothSidesWhenThePeerGoesSilent) {
  AgentVsLite peers(7);
  peers.start();
  peers.run_for(seconds(10));
  ASSERT_EQ(peers.agent.state(), IceAgentState::kConnected);
  const Instant silent_at = peers.now;
  peers.network.set_blocked(kLiteHost, true);
  peers.run_for(seconds(45));
  const auto lost = peers.first_event_time(IceAgentEvent::Kind::kConsentLost);
  ASSERT_TRUE(lost);
  EXPECT_EQ(peers.agent.state(), IceAgentState::kFailed);
  // Lost 30 s after the last answered request, which came at most ~6 s before the silence.
  EXPECT_GE(*lost - silent_at, seconds(24));
  EXPECT_LE(*lost - silent_at, seconds(30));
  ASSERT_EQ(count_kind(peers.lite_events, IceLiteEvent::Kind::kConsentExpired), 1u);
  EXPECT_EQ(peers.lite_events.back().second.session, peers.session);
  EXPECT_LE(peers.lite_events.back().first - silent_at, seconds(30));
}

TEST(IceAgentVsLite, RetransmissionsFollowTheRtoSchedule) {
  IceAgentConfig config = agent_config();
  config.checking_timeout = seconds(60);
  AgentVsLite peers(8, config);
  peers.network.set_blocked(kLiteHost, true);
  peers.start();
  peers.run_for(seconds(50));
  std::vector<std::int64_t> sent_ms;
  for (const auto& [at, transmit] : peers.agent_sent) {
    sent_ms.push_back(std::chrono::duration_cast<milliseconds>(at - Instant{}).count());
  }
  // RFC 8489 §6.2.1 with RTO 500 ms, Rc 7: doubling intervals, then Rm × RTO = 8 s to give up.
  EXPECT_EQ(sent_ms, (std::vector<std::int64_t>{0, 500, 1500, 3500, 7500, 15500, 31500}));
  const auto failed =
      std::find_if(peers.agent_events.begin(), peers.agent_events.end(), [](const auto& e) {
        return e.second.kind == IceAgentEvent::Kind::kStateChanged &&
               e.second.state == IceAgentState::kFailed;
      });
  ASSERT_NE(failed, peers.agent_events.end());
  EXPECT_EQ(failed->first - Instant{}, milliseconds(39500));
}

TEST(IceAgent, GathersAServerReflexiveCandidate) {
  SeededRandom random(9);
  IceAgentConfig config = agent_config();
  config.stun_server = SocketAddress::from_string("198.51.100.1:3478");
  IceAgent agent(config, random);
  Instant now{};
  agent.start_gathering(now);
  auto request = agent.poll_transmit();
  ASSERT_TRUE(request);
  EXPECT_EQ(request->destination, *config.stun_server);
  auto parsed = proto::StunMessage::parse(request->payload);
  ASSERT_TRUE(parsed);
  proto::StunBuilder response(proto::kStunBindingMethod, proto::StunClass::kSuccessResponse,
                              parsed->transaction_id());
  response.add_xor_mapped_address(kNatOutside);
  agent.handle_packet(now + milliseconds(30), kAgentHost, *config.stun_server, response.bytes());
  agent.handle_timeout(now + milliseconds(30));
  auto event = agent.poll_event();
  ASSERT_TRUE(event);
  EXPECT_EQ(event->kind, IceAgentEvent::Kind::kGatheringComplete);
  ASSERT_EQ(agent.local_candidates().size(), 2u);
  const IceCandidate& srflx = agent.local_candidates()[1];
  EXPECT_EQ(srflx.type, IceCandidateType::kServerReflexive);
  EXPECT_EQ(srflx.address, kNatOutside);
  EXPECT_EQ(srflx.base, kAgentHost);
  EXPECT_LT(srflx.priority, agent.local_candidates()[0].priority);
}

TEST(IceAgent, GatheringCompletesAfterTheTimeoutWithoutAnAnswer) {
  SeededRandom random(10);
  IceAgentConfig config = agent_config();
  config.stun_server = SocketAddress::from_string("198.51.100.1:3478");
  IceAgent agent(config, random);
  agent.start_gathering(Instant{});
  while (agent.poll_transmit()) {
  }
  Instant now{};
  while (auto next = agent.poll_timeout()) {
    now = *next;
    agent.handle_timeout(now);
    if (auto event = agent.poll_event()) {
      EXPECT_EQ(event->kind, IceAgentEvent::Kind::kGatheringComplete);
      break;
    }
  }
  EXPECT_EQ(now - Instant{}, config.gathering_timeout);
  EXPECT_EQ(agent.local_candidates().size(), 1u);
}

}  // namespace
}  // namespace ivs::engine
