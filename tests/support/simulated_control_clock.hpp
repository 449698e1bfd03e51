// A ControlClock for tests (io/control_clock.hpp): time stands still until the test moves it.
// advance() and run_until() fire due timers in deadline order, with now() reading each timer's
// own deadline while its handler runs, so logic with backoff and deadlines is tested exactly and
// instantly. Handlers that the code under test posts to an io_context (asynchronous answers of
// fakes) are run between timers by run_until().
#pragma once

#include <boost/asio/io_context.hpp>

#include <algorithm>
#include <functional>
#include <memory>
#include <optional>
#include <vector>

#include "io/control_clock.hpp"

namespace ivs::test {

class SimulatedControlClock final : public io::ControlClock {
 public:
  explicit SimulatedControlClock(Instant start = Instant{} + std::chrono::hours(1)) : now_(start) {}
  SimulatedControlClock(const SimulatedControlClock&) = delete;
  SimulatedControlClock& operator=(const SimulatedControlClock&) = delete;

  Instant now() const override { return now_; }

  std::unique_ptr<io::ControlTimer> make_timer() override {
    auto timer = std::make_unique<Timer>(*this);
    timers_.push_back(timer.get());
    return timer;
  }

  // The earliest armed deadline, if any timer is armed.
  std::optional<Instant> next_deadline() const {
    std::optional<Instant> next;
    for (const Timer* timer : timers_) {
      if (timer->deadline && (!next || *timer->deadline < *next)) {
        next = timer->deadline;
      }
    }
    return next;
  }

  // Moves time forward by `step`, firing every timer due on the way. Returns how many fired.
  std::size_t advance(Duration step) {
    const Instant until = now_ + step;
    std::size_t fired = 0;
    while (fire_next_due(until)) {
      ++fired;
    }
    now_ = until;
    return fired;
  }

  // Runs `io`'s ready handlers and then the next timer, in turn, until `done()` holds or
  // `limit` of simulated time has passed. True when `done()` held.
  bool run_until(boost::asio::io_context& io, const std::function<bool()>& done,
                 Duration limit = std::chrono::minutes(10)) {
    const Instant give_up = now_ + limit;
    for (;;) {
      io.restart();
      io.poll();
      if (done()) {
        return true;
      }
      const auto next = next_deadline();
      if (!next || *next > give_up) {
        return false;
      }
      fire_next_due(*next);
    }
  }

 private:
  struct Timer final : io::ControlTimer {
    explicit Timer(SimulatedControlClock& clock) : clock(clock) {}
    ~Timer() override { std::erase(clock.timers_, this); }
    Timer(const Timer&) = delete;
    Timer& operator=(const Timer&) = delete;
    void arm(Instant at, std::function<void()> on_due) override {
      deadline = at;
      handler = std::move(on_due);
    }
    void cancel() override {
      deadline.reset();
      handler = nullptr;
    }
    SimulatedControlClock& clock;
    std::optional<Instant> deadline;
    std::function<void()> handler;
  };

  bool fire_next_due(Instant until) {
    Timer* next = nullptr;
    for (Timer* timer : timers_) {
      if (timer->deadline && *timer->deadline <= until &&
          (!next || *timer->deadline < *next->deadline)) {
        next = timer;
      }
    }
    if (!next) {
      return false;
    }
    now_ = std::max(now_, *next->deadline);
    auto handler = std::move(next->handler);
    next->cancel();
    if (handler) {
      handler();  // may re-arm or destroy `next`
    }
    return true;
  }

  Instant now_;
  std::vector<Timer*> timers_;
};

}  // namespace ivs::test
