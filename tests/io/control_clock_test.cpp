// SteadyControlClock on a real io_context: a timer runs its handler once, from the loop and not
// from arm(), no earlier than its deadline; arming again replaces the handler (a completion
// already queued for the old deadline does not run the new one early); cancel() and destroying
// the timer drop it. Waits are for events with a generous limit; durations are not asserted.
#include "io/control_clock.hpp"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "io/clock.hpp"
#include "io/udp_test_support.hpp"

namespace ivs::io {
namespace {

using udp_testing::run_until;

TEST(SteadyControlClock, ATimerRunsOnceFromTheLoopNoEarlierThanItsDeadline) {
  boost::asio::io_context io;
  SteadyControlClock clock(io);
  auto timer = clock.make_timer();
  const Instant deadline = clock.now() + milliseconds(5);
  std::vector<Instant> ran_at;
  timer->arm(deadline, [&] { ran_at.push_back(clock.now()); });
  EXPECT_TRUE(ran_at.empty());
  ASSERT_TRUE(run_until(io, [&] { return !ran_at.empty(); }));
  EXPECT_GE(ran_at[0], deadline);
  io.restart();
  io.poll();
  EXPECT_EQ(ran_at.size(), 1u);
}

TEST(SteadyControlClock, ArmingAgainReplacesTheHandlerEvenWhenTheOldOneWasDue) {
  boost::asio::io_context io;
  SteadyControlClock clock(io);
  auto timer = clock.make_timer();
  std::vector<std::string> ran;
  timer->arm(clock.now() - milliseconds(1), [&] { ran.push_back("old"); });  // due at once
  timer->arm(clock.now() + milliseconds(5), [&] { ran.push_back("new"); });
  ASSERT_TRUE(run_until(io, [&] { return !ran.empty(); }));
  EXPECT_EQ(ran, (std::vector<std::string>{"new"}));
}

TEST(SteadyControlClock, CancelledAndDestroyedTimersDoNotRun) {
  boost::asio::io_context io;
  SteadyControlClock clock(io);
  auto cancelled = clock.make_timer();
  auto destroyed = clock.make_timer();
  auto reference = clock.make_timer();
  int ran = 0;
  bool reference_ran = false;
  cancelled->arm(clock.now() + milliseconds(1), [&] { ++ran; });
  destroyed->arm(clock.now() + milliseconds(1), [&] { ++ran; });
  reference->arm(clock.now() + milliseconds(10), [&] { reference_ran = true; });
  cancelled->cancel();
  destroyed.reset();
  ASSERT_TRUE(run_until(io, [&] { return reference_ran; }));
  EXPECT_EQ(ran, 0);
}

}  // namespace
}  // namespace ivs::io
