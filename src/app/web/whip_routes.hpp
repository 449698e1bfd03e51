// WHIP (RFC 9725) and WHEP (draft-ietf-wish-whep) HTTP resources over a RelayChannel, as pure
// request -> response functions (tested without sockets) plus a helper that mounts them on an
// io::HttpRouter. The serve role mounts `/whip` and `/whep` with bearer-token checks; the stage
// role mounts `/whip/{stage}` and `/whep/{stage}` with its JWT check and a per-stage channel
// lookup: the same handlers, different WhipEndpoint values.
//
//   POST   <collection>          201 answer + absolute Location <collection>/<id> + ETag
//                                401/403 (authorize), 404 (no channel), 413 (> 64 KiB),
//                                415 (not application/sdp), 400/422 (negotiation's reason),
//                                409 (+ Retry-After), 503 (disabled, full)
//   DELETE <collection>/<id>     200, 404 unknown. The id (128 random bits) is the capability,
//                                like the WHIP resource URL it is part of.
//   PATCH  <collection>/<id>     405: no trickle ICE and no ICE restart (our answer carries all
//                                candidates; clients must not need PATCH).
//   OPTIONS <collection>         204 + CORS (io::HttpRouter) + Accept-Post: application/sdp
// Error bodies are plain text sentences (WHIP clients such as OBS show them to the user).
//
// The POST is checked twice: once from its header alone, before the body is read
// (whip_header_check, mounted as the router's header check: authorize, then Content-Type and
// Content-Length, so an unauthenticated or oversized offer is answered 401/415/413 without the
// server buffering it), and again in whip_post (the same checks on the whole request, for
// callers without the server's header hook, plus `admit` and the offer itself).
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "app/relay/relay_channel.hpp"
#include "app/web/rotating_secret.hpp"
#include "io/http_router.hpp"
#include "io/http_types.hpp"

namespace ivs::app {

// The resource path parameter name used in mounted patterns ("<collection>/{resource}").
inline constexpr std::string_view kResourceParam = "resource";

struct WhipEndpoint {
  SessionRole role = SessionRole::publisher;  // publisher: WHIP ingest; viewer: WHEP
  // The collection's route pattern: "/whip", "/whep", "/whip/{stage}".
  std::string pattern = "/whip";
  // The channel that serves the request (the stage role looks up {stage}); nullptr -> 404.
  std::function<RelayChannel*(const io::RequestContext&)> channel;
  // nullopt: allowed; else the response to send (401, 403, 503 with a message). Applies to POST.
  std::function<std::optional<io::HttpResponse>(const io::HttpRequest&, const io::RequestContext&)>
      authorize;
  std::size_t max_body_bytes = std::size_t{64} * 1024;
  // Runs after the request passed every check and before the offer is negotiated: nullopt
  // lets it through, else the answer (the serve role's connecting-session limits, 503/429).
  std::function<std::optional<io::HttpResponse>(const io::HttpRequest&, const io::RequestContext&,
                                                RelayChannel&)>
      admit;
  // Told about every session created (the serve role remembers who is still connecting).
  std::function<void(const SessionAccepted&, const io::RequestContext&)> on_accepted;
};

// The checks a POST's header alone allows: authorize, Content-Type, Content-Length.
std::optional<io::HttpResponse> whip_header_check(const WhipEndpoint& endpoint,
                                                  const io::HttpRequest& request,
                                                  const io::RequestContext& context);

io::HttpResponse whip_post(const WhipEndpoint& endpoint, const io::HttpRequest& request,
                           const io::RequestContext& context);
io::HttpResponse whip_delete(const WhipEndpoint& endpoint, const io::HttpRequest& request,
                             const io::RequestContext& context);
io::HttpResponse whip_patch(const WhipEndpoint& endpoint, const io::HttpRequest& request,
                            const io::RequestContext& context);
io::HttpResponse whip_options(const WhipEndpoint& endpoint, const io::HttpRequest& request,
                              const io::RequestContext& context);

// Registers POST/OPTIONS on the pattern and DELETE/PATCH on pattern + "/{resource}", and
// whip_header_check as the POST's header check. The router should have CORS enabled (browsers
// must read Location and ETag).
void mount_whip_endpoint(io::HttpRouter& router, WhipEndpoint endpoint);

// The plain-text answer for a refused session (status, sentence, Retry-After when given).
io::HttpResponse session_refused_response(const io::HttpRequest& request,
                                          const SessionRefused& refused);

// Compares in time that depends only on the lengths (RFC 6750 tokens; DESIGN.md §6).
bool constant_time_equal(std::string_view a, std::string_view b);
// The token of an `Authorization: Bearer <token>` header (scheme case-insensitive), if any.
std::optional<std::string> bearer_token(const io::HttpRequest& request);

// An authorize callback for a static bearer token (WHIP_INGEST_TOKEN, WHEP_TOKEN).
// `variable` names the setting in messages. With `required` and an empty `expected`, every
// request gets 503 "... set <variable>"; without `required`, an empty `expected` allows all.
// A missing or wrong token gets 401 naming the Authorization header; the token is never echoed.
std::function<std::optional<io::HttpResponse>(const io::HttpRequest&, const io::RequestContext&)>
bearer_authorizer(std::string expected, std::string variable, bool required);
// The same check against a secret that SIGHUP can rotate (the previous value is accepted during
// its grace period); `now` reads the clock. Whether it is unset is judged per request, so a
// reload that sets it opens the endpoint.
std::function<std::optional<io::HttpResponse>(const io::HttpRequest&, const io::RequestContext&)>
bearer_authorizer(std::shared_ptr<const RotatingSecret> expected, std::string variable,
                  bool required, std::function<Instant()> now);

// An authorize callback that refuses every request with 403 and `message` (an endpoint that
// configuration closed, e.g. WHEP without WHEP_TOKEN or WHEP_OPEN). Not an authentication
// failure: it is not counted by the guard.
std::function<std::optional<io::HttpResponse>(const io::HttpRequest&, const io::RequestContext&)>
closed_authorizer(std::string message);

}  // namespace ivs::app
