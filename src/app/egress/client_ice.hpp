// The ICE half of a client-mode session (RFC 8445 full ICE, as the offerer) from an accepted
// answer, shared by the three clients we run: the WHIP egress toward a stage, the edge's WHEP
// pull from its origin and the test publisher.
#pragma once

#include <memory>

#include "app/egress/early_stun_checks.hpp"
#include "engine/peer_session.hpp"
#include "engine/random.hpp"
#include "engine/sdp_negotiation.hpp"
#include "proto/result.hpp"
#include "proto/socket_address.hpp"

namespace ivs::app {

// Our credentials, the answer's, its usable candidates (UDP with an IP literal), and the one
// local address a socket bound to `bound` sends from toward them (io::sending_address_of). The
// error says what the answer lacked, or that no local address can send.
Result<engine::PeerSessionIceClient> client_ice_from_answer(const engine::IceCredentials& local,
                                                            const engine::NegotiatedMedia& answer,
                                                            const SocketAddress& bound);

// The client PeerSession for that ICE half: created, started at `now`, and given the STUN checks
// that reached the socket before the answer was read (early_stun_checks.hpp). The error says
// why the session could not be set up ("ICE/DTLS setup: ...").
Result<std::unique_ptr<engine::PeerSession>> start_client_session(engine::PeerSessionConfig config,
                                                                  engine::PeerSessionIceClient ice,
                                                                  engine::RandomSource& random,
                                                                  EarlyStunChecks& early_checks,
                                                                  Instant now);

}  // namespace ivs::app
