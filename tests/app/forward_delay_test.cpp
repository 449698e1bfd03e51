// The forwarding-delay probe closes a turn with one clock read in a handler posted behind the
// egress flushes; these tests drive it with a fake post queue and a fake clock.
#include "app/relay/forward_delay.hpp"

#include <gtest/gtest.h>

#include <deque>

namespace ivs::app {
namespace {

using std::chrono::microseconds;

struct FakeLoop {
  std::deque<std::function<void()>> queue;
  Instant now{};
  void run() {
    while (!queue.empty()) {
      auto handler = std::move(queue.front());
      queue.pop_front();
      handler();
    }
  }
};

ForwardDelayProbe make_probe(FakeLoop& loop) {
  return ForwardDelayProbe([&loop](std::function<void()> h) { loop.queue.push_back(std::move(h)); },
                           [&loop] { return loop.now; });
}

TEST(ForwardDelayHistogram, BucketsByUpperBoundInclusive) {
  ForwardDelayHistogram histogram;
  histogram.observe(microseconds(50));         // exactly 50 µs: the first bucket (le is inclusive)
  histogram.observe(microseconds(51));         // the second
  histogram.observe(std::chrono::seconds(2));  // +Inf
  EXPECT_EQ(histogram.counts()[0], 1u);
  EXPECT_EQ(histogram.counts()[1], 1u);
  EXPECT_EQ(histogram.counts().back(), 1u);
  EXPECT_EQ(histogram.count(), 3u);
  EXPECT_NEAR(histogram.sum_seconds(), 2.000101, 1e-9);
}

TEST(ForwardDelayProbe, OneHandlerPerTurnMeasuresEveryPacketOfIt) {
  FakeLoop loop;
  ForwardDelayProbe probe = make_probe(loop);
  const Instant start{};
  probe.forwarded(start);
  probe.forwarded(start + microseconds(100));
  EXPECT_EQ(loop.queue.size(), 1u);  // one posted handler, not one per packet
  EXPECT_EQ(probe.histogram().count(), 0u);
  loop.now = start + microseconds(400);
  loop.run();
  // 400 µs and 300 µs: both in the (0.00025, 0.0005] bucket.
  EXPECT_EQ(probe.histogram().count(), 2u);
  EXPECT_EQ(probe.histogram().counts()[3], 2u);
}

TEST(ForwardDelayProbe, TheNextTurnPostsAgain) {
  FakeLoop loop;
  ForwardDelayProbe probe = make_probe(loop);
  probe.forwarded(Instant{});
  loop.now = Instant{} + microseconds(10);
  loop.run();
  probe.forwarded(loop.now);
  EXPECT_EQ(loop.queue.size(), 1u);
  loop.now += std::chrono::milliseconds(3);
  loop.run();
  EXPECT_EQ(probe.histogram().count(), 2u);
  EXPECT_EQ(probe.histogram().counts()[0], 1u);  // 10 µs
  EXPECT_EQ(probe.histogram().counts()[6], 1u);  // 3 ms: (0.002, 0.005]
}

}  // namespace
}  // namespace ivs::app
