// What a RelayChannel needs from the media plane it runs on: server-mode WebRTC sessions
// (ICE-lite, DTLS, SRTP) that it adds, feeds and ends, and whose events come back through a
// MediaSessionHandler.
//
// Why an interface: MediaPlane (media_plane.hpp) is the one the product uses, over a real UDP
// port and the steady clock. A test of the channel's own logic (publisher policies, connect
// timeouts, simulcast fallback, congestion-feedback cadence) puts a fake host here and drives
// the channel on a simulated clock with the events a session would produce, so those rules are
// asserted to the millisecond without ICE, DTLS or sockets
// (tests/app/relay_channel_simulated_test.cpp); the real-socket tests keep the I/O.
#pragma once

#include <memory>
#include <optional>

#include "engine/dtls_certificate.hpp"
#include "engine/peer_session.hpp"
#include "engine/peer_session_router.hpp"
#include "engine/random.hpp"
#include "engine/sdp_negotiation.hpp"
#include "engine/srtp_session.hpp"
#include "io/udp_port.hpp"
#include "proto/bytes.hpp"
#include "proto/result.hpp"
#include "proto/time.hpp"

namespace ivs::app {

// Gets the events of the sessions registered with it. Called from the host's drain loop.
class MediaSessionHandler {
 public:
  virtual ~MediaSessionHandler() = default;
  virtual void on_session_event(Instant now, engine::IceSessionId id,
                                engine::PeerSessionEvent& event) = 0;
};

class MediaSessionHost {
 public:
  virtual ~MediaSessionHost() = default;

  // Fresh ICE credentials, our fingerprint and the addresses an SDP answer advertises.
  virtual engine::LocalTransport make_local_transport() = 0;
  virtual const std::shared_ptr<const engine::DtlsCertificate>& certificate() const = 0;

  // Registers a server-mode session whose events go to `handler` until remove_session or
  // close_session. The error says why (the session limit, a refused DTLS setup).
  virtual Result<engine::IceSessionId> add_session(Instant now, engine::PeerSessionConfig config,
                                                   const engine::IceCredentials& local,
                                                   std::optional<engine::IceCredentials> remote,
                                                   MediaSessionHandler& handler) = 0;
  // Sends DTLS close_notify (when connected) and removes the session; no event of it reaches
  // the handler afterwards.
  virtual void close_session(Instant now, engine::IceSessionId id) = 0;
  // Removes without a close_notify (the session failed or the peer closed it).
  virtual void remove_session(engine::IceSessionId id) = 0;

  // Plain RTP / RTCP to send on a connected session; false when it could not be sent.
  virtual bool send_rtp(engine::IceSessionId id, ByteSpan packet) = 0;
  virtual bool send_rtcp(engine::IceSessionId id, ByteSpan packet) = 0;

  // Moves what the sessions produced to the network and their events to the handlers. Call
  // after any command on a session.
  virtual void drain(Instant now) = 0;

  // Resource ids, ETags and the viewers' SSRCs come from here.
  virtual engine::RandomSource& random() = 0;

  // WHEP viewers whose media a media worker sends (worker_viewers.hpp): a duplicate of the
  // socket the sessions use, a connected session's outbound SRTP context (the session stops
  // protecting), and the address it sends to. A host without them (an error, null, nullopt:
  // the defaults) keeps its viewers' media on its own thread.
  virtual Result<io::SocketDuplicate> duplicate_socket() {
    return Error{"this media session host has no socket to share"};
  }
  virtual std::unique_ptr<engine::SrtpSession> take_outbound_srtp(engine::IceSessionId /*id*/) {
    return nullptr;
  }
  virtual std::optional<SocketAddress> remote_address(engine::IceSessionId /*id*/) {
    return std::nullopt;
  }
};

}  // namespace ivs::app
