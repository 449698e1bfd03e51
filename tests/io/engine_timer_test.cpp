// EngineTimer on a real io_context: the timer fires at (never before) the Instant the engine
// asked for, and moving or cancelling a deadline takes effect (the drain loop that re-arms it is
// tested in engine_driver_test.cpp). Deadlines are short and every wait is
// for an event with a generous limit; orderings are asserted, never durations.
#include "io/engine_timer.hpp"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "io/clock.hpp"
#include "io/udp_test_support.hpp"

namespace ivs::io {
namespace {

using udp_testing::run_until;

TEST(EngineTimer, FiresNoEarlierThanTheRequestedInstant) {
  boost::asio::io_context io;
  std::optional<Instant> fired_at;
  EngineTimer timer(io, [&](Instant now) { fired_at = now; });
  const Instant requested = monotonic_now() + milliseconds(20);
  timer.rearm(requested);
  EXPECT_EQ(timer.deadline(), requested);
  ASSERT_TRUE(run_until(io, [&] { return fired_at.has_value(); }));
  EXPECT_GE(*fired_at, requested);
  EXPECT_FALSE(timer.deadline().has_value());  // fired deadlines are spent
  EXPECT_EQ(timer.fired_count(), 1u);
}

TEST(EngineTimer, PastDeadlineFiresFromTheLoopNotFromRearm) {
  boost::asio::io_context io;
  int fired = 0;
  EngineTimer timer(io, [&](Instant) { ++fired; });
  timer.rearm(monotonic_now() - milliseconds(5));
  EXPECT_EQ(fired, 0);
  ASSERT_TRUE(run_until(io, [&] { return fired == 1; }));
}

TEST(EngineTimer, MovingTheDeadlineEarlierOrLaterTakesEffect) {
  boost::asio::io_context io;
  std::vector<std::string> order;
  EngineTimer moved_earlier(io, [&](Instant) { order.push_back("earlier"); });
  EngineTimer moved_later(io, [&](Instant) { order.push_back("later"); });
  EngineTimer reference(io, [&](Instant) { order.push_back("reference"); });
  const Instant start = monotonic_now();
  moved_earlier.rearm(start + seconds(30));
  moved_earlier.rearm(start + milliseconds(5));
  moved_later.rearm(start + milliseconds(10));
  moved_later.rearm(start + milliseconds(60));
  reference.rearm(start + milliseconds(30));
  ASSERT_TRUE(run_until(io, [&] { return order.size() == 3; }));
  EXPECT_EQ(order, (std::vector<std::string>{"earlier", "reference", "later"}));
}

TEST(EngineTimer, CancelledTimerNeverFires) {
  boost::asio::io_context io;
  int cancelled_fired = 0;
  bool reference_fired = false;
  EngineTimer cancelled(io, [&](Instant) { ++cancelled_fired; });
  EngineTimer reference(io, [&](Instant) { reference_fired = true; });
  const Instant start = monotonic_now();
  cancelled.rearm(start + milliseconds(5));
  cancelled.rearm(std::nullopt);
  reference.rearm(start + milliseconds(20));
  ASSERT_TRUE(run_until(io, [&] { return reference_fired; }));
  io.restart();
  io.poll();
  EXPECT_EQ(cancelled_fired, 0);
}

TEST(EngineTimer, RearmingTheSameDeadlineIsANoOp) {
  boost::asio::io_context io;
  int fired = 0;
  EngineTimer timer(io, [&](Instant) { ++fired; });
  const Instant deadline = monotonic_now() + milliseconds(5);
  for (int i = 0; i < 100; ++i) {
    timer.rearm(deadline);
  }
  ASSERT_TRUE(run_until(io, [&] { return fired == 1; }));
  io.restart();
  io.poll();
  EXPECT_EQ(fired, 1);
}

TEST(EngineTimer, HandlerMayDestroyTheTimer) {
  boost::asio::io_context io;
  bool fired = false;
  std::unique_ptr<EngineTimer> timer;
  timer = std::make_unique<EngineTimer>(io, [&](Instant) {
    fired = true;
    timer.reset();
  });
  timer->rearm(monotonic_now());
  ASSERT_TRUE(run_until(io, [&] { return fired; }));
  EXPECT_EQ(timer, nullptr);
}

}  // namespace
}  // namespace ivs::io
