// Backoff: the retry delays of the control plane (API client, WebSocket, per-stage egress).
#include "engine/backoff.hpp"

#include <gtest/gtest.h>

#include <set>

namespace ivs::engine {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

TEST(Backoff, NoJitterDoublesUpToMax) {
  SeededRandom random(1);
  Backoff backoff(
      {.min = seconds(1), .max = seconds(30), .multiplier = 2.0, .jitter = Jitter::none});
  const std::vector<Duration> expected = {seconds(1),  seconds(2),  seconds(4), seconds(8),
                                          seconds(16), seconds(30), seconds(30)};
  for (const Duration want : expected) {
    EXPECT_EQ(backoff.next_delay(random), want);
  }
  EXPECT_EQ(backoff.failures(), 7u);
}

TEST(Backoff, FullJitterStaysWithinMinAndGrowingCeiling) {
  SeededRandom random(7);
  Backoff backoff({.min = seconds(1), .max = seconds(30), .jitter = Jitter::full});
  for (int round = 0; round < 200; ++round) {
    const Duration ceiling = backoff.current_ceiling();
    const Duration delay = backoff.next_delay(random);
    EXPECT_GE(delay, seconds(1));
    EXPECT_LE(delay, ceiling);
    EXPECT_LE(delay, seconds(30));
  }
  EXPECT_EQ(backoff.current_ceiling(), seconds(30));
}

TEST(Backoff, FullJitterSpreadsRetriesOfManyClients) {
  // The point of jitter: 50 stages failing at the same instant must not retry in lock-step.
  std::set<Duration::rep> distinct;
  for (std::uint64_t seed = 0; seed < 50; ++seed) {
    SeededRandom random(seed);
    Backoff backoff({.jitter = Jitter::full});
    backoff.next_delay(random);
    backoff.next_delay(random);
    distinct.insert(backoff.next_delay(random).count());  // drawn under a 4 s ceiling
  }
  EXPECT_GT(distinct.size(), 40u);
}

TEST(Backoff, DecorrelatedJitterBoundedByThreeTimesPrevious) {
  SeededRandom random(3);
  Backoff backoff({.min = milliseconds(100), .max = seconds(10), .jitter = Jitter::decorrelated});
  Duration previous = milliseconds(100);
  for (int round = 0; round < 200; ++round) {
    const Duration delay = backoff.next_delay(random);
    EXPECT_GE(delay, milliseconds(100));
    EXPECT_LE(delay, std::min<Duration>(seconds(10), previous * 3));
    previous = delay;
  }
}

TEST(Backoff, ResetStartsOver) {
  SeededRandom random(1);
  Backoff backoff({.min = seconds(1), .max = seconds(30), .jitter = Jitter::none});
  for (int i = 0; i < 10; ++i) {
    backoff.next_delay(random);
  }
  backoff.reset();
  EXPECT_EQ(backoff.failures(), 0u);
  EXPECT_EQ(backoff.next_delay(random), seconds(1));
}

TEST(Backoff, SameSeedSameDelays) {
  SeededRandom a(99);
  SeededRandom b(99);
  Backoff first({.jitter = Jitter::full});
  Backoff second({.jitter = Jitter::full});
  for (int i = 0; i < 20; ++i) {
    EXPECT_EQ(first.next_delay(a), second.next_delay(b));
  }
}

TEST(Backoff, InvertedPolicyIsClamped) {
  SeededRandom random(1);
  Backoff backoff({.min = seconds(5), .max = seconds(1), .jitter = Jitter::full});
  EXPECT_EQ(backoff.next_delay(random), seconds(5));
}

TEST(Backoff, HugeFailureCountDoesNotOverflow) {
  SeededRandom random(1);
  Backoff backoff({.min = seconds(1), .max = seconds(30), .jitter = Jitter::none});
  for (int i = 0; i < 1000; ++i) {
    EXPECT_EQ(backoff.next_delay(random) <= seconds(30), true);
  }
  EXPECT_EQ(backoff.next_delay(random), seconds(30));
}

}  // namespace
}  // namespace ivs::engine
