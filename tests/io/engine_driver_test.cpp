// EngineDriver, the one engine loop of the media plane, the WHIP egress session and the test
// publisher, over real loopback sockets: transmits reach the wire in order and events reach the
// owner (including output an event's command makes), the port is flushed and the timer re-armed
// once at the end, a drain started from inside an event handler does not nest, and an engine
// ended by a handler is never touched again. Waits are for events with a generous limit.
#include "io/engine_driver.hpp"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "engine/transmit.hpp"
#include "io/clock.hpp"
#include "io/engine_timer.hpp"
#include "io/udp_port.hpp"
#include "io/udp_test_support.hpp"

namespace ivs::io {
namespace {

using udp_testing::run_until;

// A minimal engine with the shared shape: each timeout emits one datagram and asks to be woken
// again `interval` later, `remaining` times; the owner answers event "ping" with a command that
// produces one more datagram.
struct FakeEngine {
  SocketAddress peer;
  std::deque<engine::Transmit> transmits;
  std::deque<std::string> events;
  std::optional<Instant> next_timeout;
  Duration interval = milliseconds(5);
  int remaining = 3;
  std::vector<Instant> timeouts_handled;

  void send(std::uint8_t byte) { transmits.push_back({peer, Bytes{byte}}); }
  void handle_timeout(Instant now) {
    timeouts_handled.push_back(now);
    send(1);
    next_timeout = --remaining > 0 ? std::optional<Instant>(now + interval) : std::nullopt;
  }
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

// A sending port, a receiving port that records the first byte of each datagram, the engine
// aimed at the receiver, and a timer whose expiries are counted.
struct Rig {
  boost::asio::io_context io;
  std::unique_ptr<UdpPort> sender = UdpPort::open(io, {}).value();
  std::unique_ptr<UdpPort> receiver = UdpPort::open(io, {}).value();
  std::vector<std::uint8_t> received;
  FakeEngine engine;
  EngineDriver driver;
  std::unique_ptr<EngineTimer> timer;
  bool ended = false;

  Rig() {
    receiver->start([this](Instant, const SocketAddress&, ByteSpan bytes) {
      received.push_back(bytes.empty() ? 0xff : bytes[0]);
    });
    sender->start([](Instant, const SocketAddress&, ByteSpan) {});
    engine.peer = receiver->local_address();
    timer = std::make_unique<EngineTimer>(io, [](Instant) {});
  }
  FakeEngine* access() { return ended ? nullptr : &engine; }
  void drain(const std::function<void(std::string&)>& on_event) {
    driver.drain([this] { return access(); }, sender.get(), *timer, on_event);
  }
};

TEST(EngineDriver, EmptiesTransmitsAndEventsIncludingOnesEventsCauseThenRearms) {
  Rig rig;
  const Instant wake = monotonic_now() + seconds(10);
  rig.engine.send(0);
  rig.engine.events = {"ping", "other"};
  rig.engine.next_timeout = wake;
  std::vector<std::string> seen;
  rig.drain([&](std::string& event) {
    seen.push_back(event);
    if (event == "ping") {
      rig.engine.send(2);
    }
  });
  EXPECT_EQ(seen, (std::vector<std::string>{"ping", "other"}));
  EXPECT_EQ(rig.timer->deadline(), wake);
  ASSERT_TRUE(run_until(rig.io, [&] { return rig.received.size() == 2; }));
  EXPECT_EQ(rig.received, (std::vector<std::uint8_t>{0, 2}));
}

TEST(EngineDriver, TimerDrivesTheEngineAtTheTimesItAsksFor) {
  Rig rig;
  rig.timer = std::make_unique<EngineTimer>(rig.io, [&](Instant now) {
    rig.engine.handle_timeout(now);
    rig.drain([](std::string&) {});
  });
  rig.engine.next_timeout = monotonic_now() + milliseconds(5);
  const Instant first_requested = *rig.engine.next_timeout;
  rig.drain([](std::string&) {});
  ASSERT_TRUE(run_until(rig.io, [&] { return rig.received.size() == 3; }));
  ASSERT_EQ(rig.engine.timeouts_handled.size(), 3u);
  EXPECT_GE(rig.engine.timeouts_handled[0], first_requested);
  for (std::size_t i = 1; i < 3; ++i) {
    EXPECT_GE(rig.engine.timeouts_handled[i],
              rig.engine.timeouts_handled[i - 1] + rig.engine.interval);
  }
  EXPECT_FALSE(rig.timer->deadline().has_value());  // the engine asked for nothing more
}

// The test publisher's pacing and the media plane's handlers call drain() from inside an event
// handler. That call must not start a second loop (which would hand out later events before the
// running handler returned); the running loop goes round once more instead.
TEST(EngineDriver, ADrainFromInsideAHandlerDoesNotNestAndKeepsEventOrder) {
  Rig rig;
  rig.engine.events = {"first", "second"};
  std::vector<std::string> seen;
  int depth = 0;
  int deepest = 0;
  std::function<void(std::string&)> on_event = [&](std::string& event) {
    deepest = std::max(deepest, ++depth);
    seen.push_back(event);
    if (event == "first") {
      rig.engine.events.push_back("made by first");
      rig.engine.send(7);
      rig.drain(on_event);  // what a handler's command does
      EXPECT_EQ(seen.size(), 1u) << "the nested drain handed out events";
    }
    --depth;
  };
  rig.drain(on_event);
  EXPECT_EQ(deepest, 1);
  EXPECT_EQ(seen, (std::vector<std::string>{"first", "second", "made by first"}));
  EXPECT_FALSE(rig.driver.draining());
  ASSERT_TRUE(run_until(rig.io, [&] { return rig.received.size() == 1; }));
  EXPECT_EQ(rig.received[0], 7);
}

// A handler that ends the session (the egress session's fail(), the publisher's stop()) makes the
// engine unreachable: later events stay unread and the timer keeps what it had.
TEST(EngineDriver, AnEngineEndedByAHandlerIsNotTouchedAgain) {
  Rig rig;
  rig.engine.events = {"end", "after"};
  rig.engine.next_timeout = monotonic_now() + seconds(10);
  std::vector<std::string> seen;
  rig.drain([&](std::string& event) {
    seen.push_back(event);
    rig.ended = true;
  });
  EXPECT_EQ(seen, (std::vector<std::string>{"end"}));
  EXPECT_EQ(rig.engine.events.size(), 1u);
  EXPECT_FALSE(rig.timer->deadline().has_value());
}

TEST(EngineDriver, TransmitsForAClosedPortAreTakenAndDropped) {
  Rig rig;
  rig.sender->close();
  for (std::uint8_t i = 0; i < 5; ++i) {
    rig.engine.send(i);
  }
  rig.drain([](std::string&) {});
  EXPECT_TRUE(rig.engine.transmits.empty());
}

// A burst larger than the port's send ring (a GOP replayed to a new viewer) is flushed every
// `flush_every` datagrams on the way, so all of it reaches the wire.
TEST(EngineDriver, ABurstLargerThanTheSendRingIsFlushedOnTheWay) {
  Rig rig;
  UdpPortOptions small;
  small.send_queue_capacity = 16;
  rig.sender = UdpPort::open(rig.io, small).value();
  rig.sender->start([](Instant, const SocketAddress&, ByteSpan) {});
  EngineDriver driver(8);
  for (int i = 0; i < 100; ++i) {
    rig.engine.send(static_cast<std::uint8_t>(i));
  }
  driver.drain([&] { return &rig.engine; }, rig.sender.get(), *rig.timer, [](std::string&) {});
  ASSERT_TRUE(run_until(rig.io, [&] { return rig.received.size() == 100; }));
  EXPECT_EQ(rig.received.front(), 0);
  EXPECT_EQ(rig.received.back(), 99);
}

}  // namespace
}  // namespace ivs::io
