// Server-side sessions sharing one UDP port and one ICE-lite responder (RFC 8445 §2.5, RFC 7983).
//
//   datagram ─► IceLite::handle_packet ─┬─ STUN reply ──────────────► poll_transmit()
//                                        ├─ route to session id ─────► sessions_[id] (vector index)
//                                        └─ drop (counted by IceLite)
//
// Why the design is as it is:
// - The per-packet cost of a media datagram is IceLite's one hash lookup by source address;
//   the session is then found by indexing a vector with the session id, which IceLite hands out
//   sequentially. Ids are never reused, so the vector grows by one pointer per session ever
//   created (8 MB per million sessions); that is cheaper than a second hash on every packet.
// - Sessions with pending output are remembered in a "dirty" list, so poll_transmit() and
//   poll_event() touch only the sessions an input affected. Timers are not in a heap yet:
//   handle_timeout() and poll_timeout() scan every session (fine for tens of sessions; a heap
//   keyed like IceLite's is the next step for thousands).
// - IceLite events become session inputs: kSelected → on_ice_selected, kConsentExpired →
//   on_consent_expired (the session reports Failed; the owner removes it).
// Engine shape (transmit.hpp): after any input, drain poll_transmit() and poll_event(), then
// re-arm from poll_timeout().
#pragma once

#include <deque>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

#include "engine/ice_lite.hpp"
#include "engine/peer_session.hpp"

namespace ivs::engine {

struct RoutedSessionEvent {
  IceSessionId session = 0;
  PeerSessionEvent event;
};

class PeerSessionRouter {
 public:
  explicit PeerSessionRouter(IceLiteConfig config = {});

  // Registers a server-mode session under fresh local ICE credentials. Fails when the ufrag is
  // taken or the DTLS setup fails.
  Result<IceSessionId> add_session(Instant now, PeerSessionConfig config, IceCredentials local,
                                   std::optional<IceCredentials> remote = std::nullopt);
  void remove_session(IceSessionId id);
  PeerSession* session(IceSessionId id);
  std::size_t session_count() const { return ice_.session_count(); }

  void handle_packet(Instant now, const SocketAddress& from, ByteSpan bytes);
  void handle_timeout(Instant now);
  std::optional<Transmit> poll_transmit();
  std::optional<RoutedSessionEvent> poll_event();
  std::optional<Instant> poll_timeout() const;

  // Commands on a session; output is collected by poll_transmit().
  bool send_rtp(IceSessionId id, ByteSpan packet);
  bool send_rtcp(IceSessionId id, ByteSpan packet);

  const IceLite& ice() const { return ice_; }

 private:
  void mark_dirty(IceSessionId id);
  void drain_ice_events(Instant now);

  IceLite ice_;
  std::vector<std::unique_ptr<PeerSession>> sessions_;  // indexed by IceSessionId
  std::vector<IceSessionId> dirty_;
  std::deque<Transmit> replies_;
};

}  // namespace ivs::engine
