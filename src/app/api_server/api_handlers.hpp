// The reference API server's routes (DESIGN.md §2.1, docs/api-server.md) as pure functions from
// request to response over ApiServerState. No sockets, clocks or logging here: the wall clock
// and the random source are injected, stage changes are queued in the state as StageEvents for
// the role to push over the WebSocket, so every route is unit-tested in memory.
//
//   media servers (x-api-key [+ x-media-auth])      admin (x-api-key)        public
//   POST /api/media/register   (+ media auth)       POST   /api/stages       GET /health
//   GET  /api/media/stages                          GET    /api/stages       GET /api/keys
//   POST /api/media/token      (+ media auth)       DELETE /api/stages/{id}  GET
//   /api/keys/public.pem POST /api/media/heartbeat                       GET    /api/media/servers
//   GET  /ws?type=media-server (+ media auth)  -> WebSocket, checked by websocket_rejection()
//
// Errors are JSON {"error": "..."}: 401 names the header that is missing or wrong (never the
// value), 400 a body that is not a JSON object or lacks a field, 422 a field of the wrong type
// or out of range, 404 an unknown stage or an unregistered server's heartbeat (the media server
// re-registers on it).
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>

#include "app/api_server/api_server_state.hpp"
#include "app/control/jwt.hpp"
#include "app/web/rotating_secret.hpp"
#include "engine/random.hpp"
#include "io/http_router.hpp"
#include "io/http_types.hpp"
#include "proto/text.hpp"
#include "proto/time.hpp"

namespace ivs::app::api_server {

struct ApiServerSettings {
  std::string api_secret_key;
  std::string media_server_secret;
  // Tokens carry whip_url = whip_url_base + "/" + stage id (the local `stage` role's path).
  std::string whip_url_base = "http://127.0.0.1:3002/whip";
  // IVS allows 1..20160 minutes, default 720 (12 h).
  std::chrono::minutes token_duration{720};
  std::string version = "1.0.0";
};

class ApiHandlers {
 public:
  using WallClock = std::function<WallTime()>;
  using MonotonicClock = std::function<Instant()>;

  // All references must outlive this object.
  // `monotonic_clock` times the grace period of rotated secrets (rotate_secrets).
  ApiHandlers(
      ApiServerSettings settings, ApiServerState& state, const jwt::Es384Key& key,
      engine::RandomSource& random, WallClock wall_clock,
      MonotonicClock monotonic_clock = [] { return Instant{}; });
  ApiHandlers(const ApiHandlers&) = delete;
  ApiHandlers& operator=(const ApiHandlers&) = delete;

  io::HttpResponse handle(const io::HttpRequest& request,
                          const io::RequestContext& context = {}) const;

  // The 401 a request's header alone earns (run before its body is read, issue 13): every path
  // but the public ones (/health, /api/keys*) needs x-api-key, and register, token and /ws also
  // x-media-auth. nullopt: let it through to handle().
  std::optional<io::HttpResponse> header_rejection(const io::HttpRequest& request) const;
  // SIGHUP (issue 13, "rotate keys regularly"): API_SECRET_KEY and MEDIA_SERVER_SECRET become
  // these; the previous values keep working for `grace`, so the media servers, which send one
  // value at a time, can be given the new ones afterwards without a refused heartbeat. Returns
  // the names of the secrets that changed.
  std::vector<std::string> rotate_secrets(const std::string& api_key,
                                          const std::string& media_secret, Duration grace);
  // True for the routes anyone may call (no credential to fail).
  static bool is_public_path(std::string_view path);

  // Checks a WebSocket upgrade on /ws: both secrets, and type=media-server when a type is given.
  // Empty when accepted; otherwise the reason, for the log.
  std::optional<std::string> websocket_rejection(const io::HttpRequest& request) const;

 private:
  io::HttpResponse register_server(const io::HttpRequest& request) const;
  io::HttpResponse media_stages(const io::HttpRequest& request) const;
  io::HttpResponse token(const io::HttpRequest& request) const;
  io::HttpResponse heartbeat(const io::HttpRequest& request) const;
  io::HttpResponse list_servers(const io::HttpRequest& request) const;
  io::HttpResponse create_stage(const io::HttpRequest& request) const;
  io::HttpResponse list_stages(const io::HttpRequest& request) const;
  io::HttpResponse delete_stage(const io::HttpRequest& request, const std::string& id_or_arn) const;
  io::HttpResponse keys(const io::HttpRequest& request) const;
  io::HttpResponse health(const io::HttpRequest& request) const;

  // The 401 for a request lacking a valid x-api-key (and x-media-auth when asked), or nothing.
  std::optional<io::HttpResponse> check_auth(const io::HttpRequest& request,
                                             bool needs_media_auth) const;

  ApiServerSettings settings_;
  RotatingSecret api_key_;       // API_SECRET_KEY, checked as x-api-key
  RotatingSecret media_secret_;  // MEDIA_SERVER_SECRET, checked as x-media-auth
  ApiServerState& state_;
  const jwt::Es384Key& key_;
  engine::RandomSource& random_;
  WallClock wall_clock_;
  MonotonicClock monotonic_clock_;
  io::HttpRouter router_;
};

// Percent-decodes a path segment ("arn%3Aaws%3A...%2Fid" -> "arn:aws:...:stage/id"); invalid
// escapes are kept literally.
using proto::text::percent_decode;

}  // namespace ivs::app::api_server
