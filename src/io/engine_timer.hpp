// The timer half of the engine loop (src/engine/transmit.hpp), written once for every owner of
// a sans-I/O engine; the other half, which drains the engine after each input and re-arms this
// timer from poll_timeout(), is EngineDriver (io/engine_driver.hpp):
//
//   input (packet / timeout / command)
//     -> engine.handle_*(now, ...)
//     -> EngineDriver::drain(): transmits to the port, events to the owner, timer.rearm(...)
//   timer fires at that Instant -> on_timeout(now) -> engine.handle_timeout(now) -> drain again
//
// Why a class and not a bare steady_timer: re-arming happens after every packet, so arming the
// same deadline again must cost nothing; a deadline moved while the old expiry's handler is
// already queued must not fire early; and a handler queued after the owner is gone must not
// touch it. EngineTimer handles all three (a no-op for an unchanged deadline, a generation
// number, a weak self reference).
//
// The timer runs on the io_context's steady clock, or on a ControlClock (io/control_clock.hpp):
// owners whose logic is tested on a simulated clock (RelayChannel) take one, and the same
// deadlines then fire at simulated instants, with that clock's now().
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <utility>

#include "proto/time.hpp"

namespace boost::asio {
class io_context;
}

namespace ivs::io {

class ControlClock;

class EngineTimer {
 public:
  // Called with the clock's now (io::monotonic_now() on the io_context) when the armed deadline
  // has come. It may call rearm() (that is the usual thing to do) and may destroy the timer.
  using TimeoutHandler = std::function<void(Instant now)>;

  EngineTimer(boost::asio::io_context& io, TimeoutHandler on_timeout);
  // On `clock`, which must outlive the timer.
  EngineTimer(ControlClock& clock, TimeoutHandler on_timeout);
  ~EngineTimer();
  EngineTimer(const EngineTimer&) = delete;
  EngineTimer& operator=(const EngineTimer&) = delete;

  // Arms the timer for `deadline` (a past deadline fires at once, from the io_context, never
  // from inside this call); nullopt disarms it. Arming the deadline already armed is a no-op.
  void rearm(std::optional<Instant> deadline);
  void cancel() { rearm(std::nullopt); }
  std::optional<Instant> deadline() const { return deadline_; }
  std::uint64_t fired_count() const { return fired_count_; }

 private:
  struct Impl;
  void fire(std::uint64_t generation);

  std::unique_ptr<Impl> impl_;
  TimeoutHandler on_timeout_;
  std::optional<Instant> deadline_;
  std::uint64_t generation_ = 0;
  std::uint64_t fired_count_ = 0;
  std::shared_ptr<EngineTimer*> self_;
};

}  // namespace ivs::io
