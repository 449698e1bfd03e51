// Rendezvous hashing of stages over a peer set (SHARD_PEERS) and the make-before-break
// hand-over, on simulated time.
#include "engine/shard_ownership.hpp"

#include <gtest/gtest.h>

#include <map>

namespace ivs::engine {
namespace {

using namespace std::chrono_literals;

std::vector<std::string> stage_arns(int count) {
  std::vector<std::string> arns;
  for (int i = 0; i < count; ++i) {
    arns.push_back("arn:aws:ivs:us-east-1:123456789012:stage/st" + std::to_string(i));
  }
  return arns;
}

std::map<std::string, std::string> owners(const std::vector<std::string>& stages,
                                          const std::vector<std::string>& peers) {
  std::map<std::string, std::string> out;
  for (const auto& stage : stages) {
    out[stage] = std::string(rendezvous_owner(stage, peers));
  }
  return out;
}

TEST(Rendezvous, WeightsAreStableAndTheSeparatorCounts) {
  // Part of the wire behaviour: peers of different versions must agree.
  EXPECT_EQ(rendezvous_weight("10.0.0.1:8080", "arn:x"),
            rendezvous_weight("10.0.0.1:8080", "arn:x"));
  EXPECT_NE(rendezvous_weight("ab", "c"), rendezvous_weight("a", "bc"));
  EXPECT_EQ(rendezvous_owner("arn:x", std::vector<std::string>{}), "");
}

TEST(Rendezvous, ThreePeersShareAThousandStagesEvenly) {
  const auto stages = stage_arns(3000);
  const std::vector<std::string> peers{"10.0.0.1:8080", "10.0.0.2:8080", "10.0.0.3:8080"};
  std::map<std::string, int> count;
  for (const auto& [stage, owner] : owners(stages, peers)) {
    ++count[owner];
  }
  ASSERT_EQ(count.size(), 3u);
  for (const auto& [peer, n] : count) {
    EXPECT_GT(n, 900) << peer;  // 1,000 each, within 10 %
    EXPECT_LT(n, 1100) << peer;
  }
}

TEST(Rendezvous, APeerLeavingMovesOnlyItsStagesAndJoiningTakesOnlyItsShare) {
  const auto stages = stage_arns(600);
  const std::vector<std::string> three{"a:1", "b:1", "c:1"};
  const std::vector<std::string> two{"a:1", "c:1"};
  const auto before = owners(stages, three);
  const auto after = owners(stages, two);
  int moved = 0;
  for (const auto& stage : stages) {
    if (before.at(stage) != "b:1") {
      EXPECT_EQ(after.at(stage), before.at(stage)) << stage;  // never between survivors
    } else {
      ++moved;
    }
  }
  EXPECT_GT(moved, 150);
  // b coming back takes exactly the stages it had: the mapping has no memory.
  EXPECT_EQ(owners(stages, three), before);
}

TEST(ShardOwnership, NothingIsHeldBeforeThePeerSetIsKnownOrWhenSelfIsNotInIt) {
  ShardOwnership shard("a:1", 5s);
  const Instant t0{};
  EXPECT_FALSE(shard.holds(t0, "arn:1"));
  shard.set_peers(t0, {"b:1", "c:1"});
  EXPECT_FALSE(shard.self_in_set());
  for (const auto& stage : stage_arns(50)) {
    EXPECT_FALSE(shard.holds(t0, stage));
  }
  shard.set_peers(t0, {"a:1"});
  EXPECT_TRUE(shard.holds(t0, "arn:1"));
}

TEST(ShardOwnership, AStageLostToANewPeerIsHeldUntilTheGraceEnds) {
  const auto stages = stage_arns(200);
  ShardOwnership shard("a:1", 5s);
  const Instant t0{};
  shard.set_peers(t0, {"a:1"});
  const Instant t1 = t0 + 60s;
  shard.set_peers(t1, {"a:1", "b:1"});
  ASSERT_EQ(shard.next_deadline(t1), t1 + 5s);
  int handed = 0;
  for (const auto& stage : stages) {
    const bool ours = shard.owner(stage) == "a:1";
    EXPECT_TRUE(shard.holds(t1 + 4s, stage)) << stage;  // make-before-break: still ours
    EXPECT_EQ(shard.holds(t1 + 5s, stage), ours) << stage;
    EXPECT_EQ(shard.handing_over(t1 + 1s, stage), !ours) << stage;
    handed += ours ? 0 : 1;
  }
  EXPECT_GT(handed, 50);
  EXPECT_FALSE(shard.next_deadline(t1 + 5s));
}

TEST(ShardOwnership, StagesOfAPeerThatLeftAreHeldAtOnce) {
  const auto stages = stage_arns(200);
  ShardOwnership shard("a:1", 5s);
  const Instant t0{};
  shard.set_peers(t0, {"a:1", "b:1", "c:1"});
  shard.set_peers(t0 + 1s, {"c:1", "a:1"});  // b died; order does not matter
  for (const auto& stage : stages) {
    EXPECT_EQ(shard.holds(t0 + 1s, stage), shard.owner(stage) == "a:1") << stage;
  }
  // The same set again is no change: the grace clock does not restart.
  shard.set_peers(t0 + 2s, {"a:1", "c:1", "a:1"});
  EXPECT_EQ(shard.peers(), (std::vector<std::string>{"a:1", "c:1"}));
}

}  // namespace
}  // namespace ivs::engine
