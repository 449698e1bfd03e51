// Time for the control plane's logic. The StageManager's retries, backoff, attempt deadlines and
// republish ages read now() and arm one-shot timers through this interface, so the same logic
// runs on the real loop (SteadyControlClock: io::monotonic_now() and Asio steady timers) and, in
// tests, on a simulated clock that jumps straight to the next deadline
// (tests/support/simulated_control_clock.hpp). Retry timing is then asserted to the
// millisecond, and no test waits for wall time to pass. This is the engine's rule (time is an
// input, src/engine/transmit.hpp) brought up to the app/ classes that own timers.
#pragma once

#include <functional>
#include <memory>

#include "proto/time.hpp"

namespace boost::asio {
class io_context;
}

namespace ivs::io {

class ControlTimer {
 public:
  virtual ~ControlTimer() = default;
  // Runs `handler` once, when `deadline` has come: from the loop, never from inside this call,
  // even for a deadline already past. Arming again replaces the pending handler; cancel() and
  // destroying the timer drop it.
  virtual void arm(Instant deadline, std::function<void()> handler) = 0;
  virtual void cancel() = 0;
};

class ControlClock {
 public:
  virtual ~ControlClock() = default;
  virtual Instant now() const = 0;
  virtual std::unique_ptr<ControlTimer> make_timer() = 0;
};

// The real clock: io::monotonic_now(), and timers that run their handlers on `io`.
class SteadyControlClock final : public ControlClock {
 public:
  explicit SteadyControlClock(boost::asio::io_context& io) : io_(io) {}
  Instant now() const override;
  std::unique_ptr<ControlTimer> make_timer() override;

 private:
  boost::asio::io_context& io_;
};

}  // namespace ivs::io
