// The HTTP requests of a WHIP client (RFC 9725 §4.2: POST of the SDP offer with a bearer token,
// 201 with the answer and the session's Location; §4.3: DELETE of that Location), shared by the
// two clients we run: the WHIP egress toward a stage (whip_egress_session) and the edge's WHEP
// pull from its origin (app/ingest/whep_pull_session), since WHEP uses the same exchange.
#pragma once

#include <chrono>
#include <string>

#include "io/http_client.hpp"

namespace ivs::app {

// POST `offer_sdp` (application/sdp) to `url`, with "Authorization: Bearer <token>" unless the
// token is empty. The answer is small: responses past 256 KiB are refused.
io::HttpClient::Request sdp_offer_request(std::string url, const std::string& token,
                                          std::string offer_sdp, std::chrono::milliseconds timeout);

// DELETE of a session resource, with the same token.
io::HttpClient::Request resource_delete_request(std::string url, const std::string& token,
                                                std::chrono::milliseconds timeout);

// The session's resource URL from a 201: its Location resolved against the URL that answered
// (after redirects); "" when the response has none.
std::string resource_url_of(const io::HttpClient::Response& response);

}  // namespace ivs::app
