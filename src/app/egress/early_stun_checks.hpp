// STUN checks that reach a WHIP or WHEP client before its answer does. A full-ICE endpoint
// (aiortc, most SFUs) starts checking as soon as it has sent its 201, a few milliseconds before
// our HTTP client has read it; such a check used to be dropped, and the endpoint's
// retransmission 500 ms later set the connect time. They are kept here and handed to the ICE
// agent once it exists (RFC 8445 §7.3 answers a request whose sender's credentials were not
// known when it arrived). Bounded: a handful of small datagrams, anything else is dropped.
// Shared by the WHIP egress session and the edge's WHEP pull.
#pragma once

#include <cstddef>
#include <vector>

#include "engine/peer_session.hpp"
#include "proto/socket_address.hpp"
#include "proto/time.hpp"

namespace ivs::app {

class EarlyStunChecks {
 public:
  static constexpr std::size_t kMaxDatagrams = 8;
  static constexpr std::size_t kMaxDatagramBytes = 548;

  // Keeps `bytes` when it looks like STUN and there is room; false when it was not kept.
  bool keep(const SocketAddress& from, ByteSpan bytes);
  // Hands every kept datagram to `session` (just started), then forgets them.
  void replay(engine::PeerSession& session, Instant now);
  std::size_t size() const { return datagrams_.size(); }

 private:
  struct Datagram {
    SocketAddress from;
    Bytes bytes;
  };
  std::vector<Datagram> datagrams_;
};

}  // namespace ivs::app
