// The engine loop of every owner of a sans-I/O engine (src/engine/transmit.hpp), written once:
//
//   input (datagram / timeout / command) -> engine.handle_*(now, ...)
//     -> EngineDriver::drain(): poll_transmit() into the UDP port and poll_event() to the owner
//        until neither has more (an event handler may give the engine a command that makes more)
//     -> port.flush() once for the whole turn (or hand the port to the thread's send batch)
//     -> timer.rearm(engine.poll_timeout())
//   the timer fires at that Instant -> engine.handle_timeout(now) -> drain() again
//
// Why one class: the media plane (many sessions behind one router), the WHIP egress session and
// the test publisher each had their own copy of this loop, and the copies differed exactly where
// it matters: what happens when an event handler re-enters the loop, and when a handler ends the
// session. Here both are decided once:
// - The engine is reached through a function that returns nullptr once its owner has ended it
//   (a handler failed the session, the plane shut down). The loop then stops at once and touches
//   neither the engine nor the timer again.
// - A drain() called from inside an event handler does not nest: the running loop goes round
//   once more instead, so events are handed out in the order the engine produced them.
// - A long burst is flushed every `flush_every` transmits, so it cannot outgrow the port's send
//   ring before the single flush at the end.
// - Transmits made while the port is missing or closed are taken from the engine and dropped,
//   so they cannot pile up in it.
#pragma once

#include <cstddef>
#include <utility>

#include "io/engine_timer.hpp"
#include "io/udp_port.hpp"

namespace ivs::io {

class EngineDriver {
 public:
  static constexpr std::size_t kDefaultFlushEvery = 64;

  explicit EngineDriver(std::size_t flush_every = kDefaultFlushEvery)
      : flush_every_(flush_every == 0 ? 1 : flush_every) {}
  EngineDriver(const EngineDriver&) = delete;
  EngineDriver& operator=(const EngineDriver&) = delete;

  // `engine()` returns the engine, or nullptr once it has been ended; `on_event(event)` gets
  // every event. `port` may be null (transmits are dropped). The driver must outlive the call:
  // owners keep it beside the engine and end the engine (not themselves) from event handlers.
  template <class EngineAccess, class EventSink>
  void drain(EngineAccess&& engine, UdpPort* port, EngineTimer& timer, EventSink&& on_event) {
    if (draining_) {
      again_ = true;
      return;
    }
    draining_ = true;
    std::size_t sent = 0;
    do {
      again_ = false;
      while (pump(engine, port, on_event, sent)) {
      }
    } while (again_ && engine() != nullptr);
    draining_ = false;
    auto* live = engine();
    if (live == nullptr) {
      return;
    }
    if (port != nullptr && port->is_open()) {
      port->flush();
    }
    timer.rearm(live->poll_timeout());
  }

  bool draining() const { return draining_; }

 private:
  // One pass over transmits then events; true when either produced something and the engine
  // is still there.
  template <class EngineAccess, class EventSink>
  bool pump(EngineAccess& engine, UdpPort* port, EventSink& on_event, std::size_t& sent) {
    auto* live = engine();
    if (live == nullptr) {
      return false;
    }
    bool progressed = false;
    while (auto transmit = live->poll_transmit()) {
      progressed = true;
      if (port == nullptr || !port->is_open()) {
        continue;
      }
      port->send(transmit->destination, transmit->payload);
      if (++sent % flush_every_ == 0) {
        port->flush();
      }
    }
    while (auto event = live->poll_event()) {
      progressed = true;
      on_event(*event);
      live = engine();
      if (live == nullptr) {
        return false;
      }
    }
    return progressed;
  }

  std::size_t flush_every_;
  bool draining_ = false;
  bool again_ = false;
};

}  // namespace ivs::io
