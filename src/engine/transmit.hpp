// The shape every engine state machine shares (DESIGN.md §4, STYLE.md §2):
//
//   handle_packet(now, from, bytes)   a datagram arrived
//   handle_timeout(now)               the time asked for by poll_timeout() has come
//   poll_transmit() -> Transmit?      a datagram to send; call until empty
//   poll_event()    -> Event?         something the owner must know; call until empty
//   poll_timeout()  -> Instant?       when to call handle_timeout next
//
// The rule, written once here and obeyed everywhere: after any input (packet, timeout or
// command), drain poll_transmit() and poll_event() until both are empty, then re-arm the timer
// from poll_timeout(). Engines never call back into their owner, so there is no re-entrancy.
#pragma once

#include "proto/bytes.hpp"
#include "proto/socket_address.hpp"
#include "proto/time.hpp"

namespace ivs::engine {

// One datagram an engine wants sent.
struct Transmit {
  SocketAddress destination;
  Bytes payload;
};

}  // namespace ivs::engine
