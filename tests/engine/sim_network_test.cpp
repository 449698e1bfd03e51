// The simulated network used by the two-peer engine tests: its link model must do what it says,
// and the same seed must give the same run.
#include "support/sim_network.hpp"

#include <gtest/gtest.h>

namespace ivs::test {
namespace {

const SocketAddress kA = *SocketAddress::from_string("10.0.0.1:1000");
const SocketAddress kB = *SocketAddress::from_string("10.0.0.2:2000");
const Bytes kPayload = {1, 2, 3};

std::vector<SimDatagram> drain(SimNetwork& network, Instant until) {
  std::vector<SimDatagram> out;
  while (auto datagram = network.poll_delivery(until)) {
    out.push_back(*datagram);
  }
  return out;
}

TEST(SimNetwork, DeliversAfterTheDelayInSendOrder) {
  SimNetwork network(1, SimLinkModel{.delay = milliseconds(15)});
  const Instant start{};
  network.send(start, kA, kB, kPayload);
  network.send(start, kA, kB, Bytes{4});
  EXPECT_EQ(network.next_delivery(), start + milliseconds(15));
  EXPECT_FALSE(network.poll_delivery(start + milliseconds(14)));
  const auto delivered = drain(network, start + milliseconds(15));
  ASSERT_EQ(delivered.size(), 2u);
  EXPECT_EQ(delivered[0].payload, kPayload);
  EXPECT_EQ(delivered[0].from, kA);
  EXPECT_EQ(delivered[0].to, kB);
  EXPECT_EQ(delivered[1].payload, Bytes{4});
  EXPECT_FALSE(network.next_delivery());
}

TEST(SimNetwork, LossDuplicationAndReorderingFollowTheirProbabilities) {
  SimNetwork network(2, SimLinkModel{.loss = 0.25, .duplicate = 0.1, .reorder = 0.2});
  for (int i = 0; i < 4000; ++i) {
    network.send(Instant{}, kA, kB, kPayload);
  }
  const auto& counters = network.counters();
  EXPECT_NEAR(static_cast<double>(counters.lost) / 4000, 0.25, 0.03);
  EXPECT_NEAR(static_cast<double>(counters.duplicated) / (4000 - counters.lost), 0.1, 0.02);
  EXPECT_GT(counters.reordered, 500u);
  const auto delivered = drain(network, Instant{} + seconds(1));
  EXPECT_EQ(delivered.size(), 4000 - counters.lost + counters.duplicated);
}

TEST(SimNetwork, ReorderedDatagramsArriveAfterLaterOnes) {
  SimNetwork network(3, SimLinkModel{.delay = milliseconds(10), .reorder = 0.5});
  for (std::uint8_t i = 0; i < 50; ++i) {
    network.send(Instant{} + milliseconds(i), kA, kB, Bytes{i});
  }
  const auto delivered = drain(network, Instant{} + seconds(1));
  bool out_of_order = false;
  for (std::size_t i = 1; i < delivered.size(); ++i) {
    out_of_order |= delivered[i].payload[0] < delivered[i - 1].payload[0];
  }
  EXPECT_TRUE(out_of_order);
}

TEST(SimNetwork, SameSeedSameRun) {
  auto run = [](std::uint64_t seed) {
    SimNetwork network(seed, SimLinkModel{.jitter = milliseconds(20), .loss = 0.3});
    std::vector<std::int64_t> times;
    for (std::uint8_t i = 0; i < 100; ++i) {
      network.send(Instant{}, kA, kB, Bytes{i});
    }
    while (auto datagram = network.poll_delivery(Instant{} + seconds(1))) {
      times.push_back((datagram->deliver_at - Instant{}).count() * 256 + datagram->payload[0]);
    }
    return times;
  };
  EXPECT_EQ(run(7), run(7));
  EXPECT_NE(run(7), run(8));
}

TEST(SimNetwork, NatRewritesAndBlockingSilencesAHost) {
  const SocketAddress outside = *SocketAddress::from_string("203.0.113.1:3000");
  SimNetwork network(4);
  network.add_nat(kA, outside);
  network.send(Instant{}, kA, kB, kPayload);
  network.send(Instant{}, kB, outside, kPayload);
  const auto delivered = drain(network, Instant{} + seconds(1));
  ASSERT_EQ(delivered.size(), 2u);
  EXPECT_EQ(delivered[0].from, outside);  // Leaves the NAT as the outside address.
  EXPECT_EQ(delivered[1].to, kA);         // Arrives inside.
  network.set_blocked(kB, true);
  network.send(Instant{}, kA, kB, kPayload);
  network.send(Instant{}, kB, kA, kPayload);
  EXPECT_FALSE(network.next_delivery());
  EXPECT_EQ(network.counters().blocked, 2u);
  network.set_blocked(kB, false);
  network.send(Instant{}, kA, kB, kPayload);
  EXPECT_TRUE(network.next_delivery());
}

}  // namespace
}  // namespace ivs::test
