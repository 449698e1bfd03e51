// The ICE half of a client-mode session (RFC 8445 full ICE, as the offerer) from an accepted
// answer, shared by the three clients we run: the WHIP egress toward a stage, the edge's WHEP
// pull from its origin and the test publisher.
#pragma once

#include "engine/peer_session.hpp"
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

}  // namespace ivs::app
