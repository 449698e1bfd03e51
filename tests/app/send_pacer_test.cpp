// The test publisher's pacer (WebRTC-style leaky bucket) on a simulated clock.
#include "app/publisher/send_pacer.hpp"

#include <gtest/gtest.h>

namespace ivs::app {
namespace {

using std::chrono::milliseconds;

Bytes packet(std::size_t size) {
  return Bytes(size, 0x5a);
}

TEST(SendPacer, DisabledSendsEverythingAtOnce) {
  SendPacer pacer(0);
  for (int i = 0; i < 60; ++i) {
    pacer.push(packet(1200));
  }
  EXPECT_EQ(pacer.pop_ready(Instant{}).size(), 60u);
  EXPECT_FALSE(pacer.next_wake(Instant{}));
}

// A 60-packet keyframe at 6,250 kbit/s (2.5 × 2.5 Mbit/s) takes ~92 ms, in 5 ms bursts.
TEST(SendPacer, AKeyframeIsSpreadAtThePacingRate) {
  SendPacer pacer(6250);
  for (int i = 0; i < 60; ++i) {
    pacer.push(packet(1200));
  }
  Instant now{};
  std::size_t sent = 0;
  std::size_t largest_burst = 0;
  int wakes = 0;
  while (pacer.queued() > 0) {
    const auto ready = pacer.pop_ready(now);
    sent += ready.size();
    largest_burst = std::max(largest_burst, ready.size());
    const auto wake = pacer.next_wake(now);
    if (!wake) {
      break;
    }
    ASSERT_GT(*wake, now - milliseconds(1));
    now = std::max(*wake, now + milliseconds(1));  // a timer that fires at most every 1 ms
    ASSERT_LT(++wakes, 1000);
  }
  EXPECT_EQ(sent, 60u);
  const double seconds = std::chrono::duration<double>(now - Instant{}).count();
  // 72,000 bytes at 781,250 bytes/s = 92 ms, less the first burst's head start.
  EXPECT_GT(seconds, 0.080);
  EXPECT_LT(seconds, 0.100);
  EXPECT_LE(largest_burst, 4u);  // ~3.9 KB per 5 ms
}

TEST(SendPacer, IdleTimeDoesNotBuildAnUnboundedBurst) {
  SendPacer pacer(6250);
  (void)pacer.pop_ready(Instant{});
  for (int i = 0; i < 20; ++i) {
    pacer.push(packet(1200));
  }
  // After ten idle seconds the budget is still capped at one burst.
  EXPECT_LE(pacer.pop_ready(Instant{} + std::chrono::seconds(10)).size(), 4u);
  EXPECT_TRUE(pacer.next_wake(Instant{} + std::chrono::seconds(10)));
}

TEST(SendPacer, ASourceFasterThanTheRateIsNotQueuedWithoutBound) {
  SendPacer pacer(100);  // far below what is pushed
  for (std::size_t i = 0; i < SendPacer::kMaxQueued + 100; ++i) {
    pacer.push(packet(1200));
  }
  const auto ready = pacer.pop_ready(Instant{});
  EXPECT_GE(ready.size(), 100u);
  EXPECT_LE(pacer.queued(), SendPacer::kMaxQueued);
}

}  // namespace
}  // namespace ivs::app
