// EngineTimer and drain_engine on a real io_context: the timer fires at (never before) the
// Instant the engine asked for, moving or cancelling a deadline takes effect, and the drain
// loop empties transmits and events before re-arming. Deadlines are short and every wait is
// for an event with a generous limit; orderings are asserted, never durations.
#include "io/engine_timer.hpp"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <deque>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "engine/transmit.hpp"
#include "io/clock.hpp"

namespace ivs::io {
namespace {

bool run_until(boost::asio::io_context& io, const std::function<bool()>& done) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) {
      return false;
    }
    io.restart();
    io.run_one_for(std::chrono::milliseconds(20));
  }
  return true;
}

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

// A minimal engine with the shared shape: each timeout emits one datagram and asks to be woken
// again `interval` later, `remaining` times; event "ping" makes the owner send a command that
// produces one more datagram.
struct FakeEngine {
  std::deque<engine::Transmit> transmits;
  std::deque<std::string> events;
  std::optional<Instant> next_timeout;
  Duration interval = milliseconds(5);
  int remaining = 3;
  std::vector<Instant> timeouts_handled;

  void handle_timeout(Instant now) {
    timeouts_handled.push_back(now);
    transmits.push_back({SocketAddress::ipv4({127, 0, 0, 1}, 9), Bytes{1}});
    next_timeout = --remaining > 0 ? std::optional<Instant>(now + interval) : std::nullopt;
  }
  void command_pong() { transmits.push_back({SocketAddress::ipv4({127, 0, 0, 1}, 9), Bytes{2}}); }
  std::optional<engine::Transmit> poll_transmit() { return pop(transmits); }
  std::optional<std::string> poll_event() { return pop(events); }
  std::optional<Instant> poll_timeout() const { return next_timeout; }

  template <class T>
  static std::optional<T> pop(std::deque<T>& queue) {
    if (queue.empty()) {
      return std::nullopt;
    }
    T front = std::move(queue.front());
    queue.pop_front();
    return front;
  }
};

TEST(DrainEngine, EmptiesTransmitsAndEventsIncludingOnesEventsCauseThenRearms) {
  boost::asio::io_context io;
  FakeEngine engine;
  EngineTimer timer(io, [](Instant) {});
  const Instant wake = monotonic_now() + seconds(10);
  engine.transmits.push_back({SocketAddress::ipv4({127, 0, 0, 1}, 9), Bytes{0}});
  engine.events = {"ping", "other"};
  engine.next_timeout = wake;
  std::vector<std::uint8_t> sent;
  std::vector<std::string> seen;
  drain_engine(
      engine, [&](engine::Transmit transmit) { sent.push_back(transmit.payload.at(0)); },
      [&](std::string event) {
        seen.push_back(event);
        if (event == "ping") {
          engine.command_pong();
        }
      },
      timer);
  EXPECT_EQ(sent, (std::vector<std::uint8_t>{0, 2}));
  EXPECT_EQ(seen, (std::vector<std::string>{"ping", "other"}));
  EXPECT_EQ(timer.deadline(), wake);
}

TEST(DrainEngine, TimerDrivesTheEngineAtTheTimesItAsksFor) {
  boost::asio::io_context io;
  FakeEngine engine;
  std::size_t sent = 0;
  std::unique_ptr<EngineTimer> timer;
  auto drain = [&] {
    drain_engine(
        engine, [&](engine::Transmit) { ++sent; }, [](std::string) {}, *timer);
  };
  timer = std::make_unique<EngineTimer>(io, [&](Instant now) {
    engine.handle_timeout(now);
    drain();
  });
  engine.next_timeout = monotonic_now() + milliseconds(5);
  const Instant first_requested = *engine.next_timeout;
  drain();
  ASSERT_TRUE(run_until(io, [&] { return engine.timeouts_handled.size() == 3; }));
  EXPECT_EQ(sent, 3u);
  EXPECT_GE(engine.timeouts_handled[0], first_requested);
  for (std::size_t i = 1; i < 3; ++i) {
    EXPECT_GE(engine.timeouts_handled[i], engine.timeouts_handled[i - 1] + engine.interval);
  }
  EXPECT_FALSE(timer->deadline().has_value());  // the engine asked for nothing more
}

}  // namespace
}  // namespace ivs::io
