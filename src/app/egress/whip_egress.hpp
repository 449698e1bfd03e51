// WHIP egress (RFC 9725 client side) toward Amazon IVS Real-Time stages or any WHIP endpoint:
// the production EgressFactory behind the StageManager (DESIGN.md §3 "Amazon IVS Real-Time WHIP",
// §5). Each session: its own UDP socket, an offer from engine::make_egress_offer (H.264 + Opus,
// sendonly, BUNDLE, rtcp-mux, host candidates), POST with the participant token (307/308 followed
// with every header re-sent, relative Location resolved against the final URL, Link
// rel="ice-server" STUN entries used), a client-mode PeerSession (full controlling ICE, DTLS role
// from the answer), and a relay leg attached through EgressMediaSource once connected. DELETE on
// close. Failures reach the StageManager through EgressCallbacks::on_failed.
#pragma once

#include <boost/asio/io_context.hpp>

#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "app/egress/egress_media_source.hpp"
#include "app/egress/egress_session.hpp"
#include "io/udp_send_batch.hpp"

namespace ivs::app {

struct WhipEgressOptions {
  std::string bind_ip = "0.0.0.0";                   // local address of each session's UDP socket
  std::optional<std::string> announced_ip;           // RTC_ANNOUNCED_IP for our host candidates
  std::chrono::milliseconds request_timeout{10000};  // each WHIP POST / DELETE
  std::chrono::milliseconds connect_timeout{15000};  // ICE + DTLS after the 201
  int max_redirects = 5;  // 307/308 hops per POST; beyond: "redirect loop"
  // EGRESS_SEND_BATCHING: how the sessions of one thread flush their sockets each loop turn
  // (io/udp_send_batch.hpp).
  io::SendBatching send_batching = io::SendBatching::kAuto;
};

std::unique_ptr<EgressFactory> make_whip_egress_factory(boost::asio::io_context& io,
                                                        EgressMediaSource& media,
                                                        WhipEgressOptions options);

}  // namespace ivs::app
