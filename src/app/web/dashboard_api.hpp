// The dashboard's stage buttons (issue 5): the media server forwards "create stage" and "delete
// stage" to the reference API server's admin routes (docs/api-server.md: POST /api/stages,
// DELETE /api/stages/{id}, GET /api/stages, all with x-api-key), so the browser never holds the
// API key.
//
// Why the forwarded calls answer 202 and a request id instead of the upstream answer: HTTP
// handlers here are synchronous functions on the one io_context that also carries the media
// plane, and an upstream call can take up to its timeout. Blocking for it would stall every
// stage's media, so the call runs asynchronously and the page polls its outcome:
//
//   browser                         media server (DashboardApi)            API server
//   POST /api/admin/stages   ---->  202 {"requestId":"3"}       ---- POST /api/stages ---->
//   GET /api/admin/requests/3 --->  {"done":false}
//                                   (answer arrives)            <--- 201 {stage} ----------
//   GET /api/admin/requests/3 --->  {"done":true,"status":201,"body":{stage}}
//
// Routes (add_dashboard_api_routes):
//   GET    /api/admin                 {"available": true|false|null, "error", "tokenRequired",
//                                      "stages": [{"id","name","stageArn"}]}; available is
//                                      whether GET /api/stages on the API server answers 200
//                                      (null until the first check), re-checked at most every
//                                      `recheck_interval` when the page asks.
//   POST   /api/admin/stages          optional {"name"}; 202 + requestId
//   DELETE /api/admin/stages/{id}     202 + requestId
//   GET    /api/admin/requests/{id}   the outcome; 404 for unknown or forgotten ids
// Creating and deleting need `Authorization: Bearer <admin token>` (the media server uses
// WHIP_INGEST_TOKEN: the operator already holds it, and a dashboard reachable on the public
// PORT must not let anyone delete stages). No admin token configured: 503, buttons disabled.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "app/web/auth_guard.hpp"
#include "app/web/rotating_secret.hpp"
#include "io/http_client.hpp"
#include "io/http_router.hpp"
#include "proto/time.hpp"

namespace ivs::app {

struct DashboardApiOptions {
  std::string api_server_url;  // API_SERVER_URL
  // API_SECRET_KEY, sent as x-api-key; shared with the reload that rotates it (SIGHUP).
  std::shared_ptr<const RotatingSecret> api_key = std::make_shared<const RotatingSecret>();
  // The bearer token the buttons must present (its previous value during a rotation's grace
  // period); empty: the buttons are disabled.
  std::shared_ptr<const RotatingSecret> admin_token = std::make_shared<const RotatingSecret>();
  // Non-empty: the buttons are off for this reason (STAGE_SOURCE=ivs: the stages are IVS's, not
  // the API server's) and the API server is never asked.
  std::string disabled_reason;
  std::chrono::milliseconds request_timeout{5000};
  std::chrono::milliseconds recheck_interval{10000};
  std::size_t remembered_requests = 32;
};

class DashboardApi : public std::enable_shared_from_this<DashboardApi> {
 public:
  // Performs one upstream request and calls `done` later on the io_context (never inside the
  // call, so no handler re-enters the router). Production: io::HttpClient::request.
  using Upstream =
      std::function<void(io::HttpClient::Request request, io::HttpClient::Callback done)>;
  using Clock = std::function<Instant()>;

  static std::shared_ptr<DashboardApi> create(DashboardApiOptions options, Upstream upstream,
                                              Clock clock);

  io::HttpResponse info(const io::HttpRequest& request);
  io::HttpResponse create_stage(const io::HttpRequest& request);
  io::HttpResponse delete_stage(const io::HttpRequest& request, const std::string& stage_id);
  io::HttpResponse request_outcome(const std::string& request_id) const;
  // The 401/503 for a request without the admin token, or nullopt.
  std::optional<io::HttpResponse> admin_refusal(const io::HttpRequest& request) const;
  Instant now() const { return clock_(); }

 private:
  struct Pending {
    std::uint64_t id = 0;
    bool done = false;
    unsigned status = 0;
    std::string body;
    std::string error;  // transport failure, e.g. "connect: Connection refused"
  };

  DashboardApi(DashboardApiOptions options, Upstream upstream, Clock clock);

  io::HttpResponse forward(io::http::verb method, const std::string& path, std::string body);
  void refresh_availability();
  void finish(std::uint64_t id, const Result<io::HttpClient::Response>& outcome);
  Pending* find(std::uint64_t id);

  DashboardApiOptions options_;
  Upstream upstream_;
  Clock clock_;
  std::optional<bool> available_;
  std::string availability_error_;
  std::string stages_json_ = "[]";  // from the last successful GET /api/stages
  std::optional<Instant> last_check_;
  bool check_in_flight_ = false;
  std::uint64_t next_request_id_ = 1;
  std::deque<Pending> requests_;
};

// Registers the routes above on `router`, the handlers sharing `api`; with a guard, failed admin
// tokens are counted and throttled (app/web/auth_guard.hpp).
void add_dashboard_api_routes(io::HttpRouter& router, const std::shared_ptr<DashboardApi>& api,
                              const std::shared_ptr<AuthGuard>& guard = nullptr);

// "[A-Za-z0-9_-]{1,128}": what the reference API server uses for stage ids; anything else is
// refused before it reaches a URL.
bool valid_stage_id(std::string_view id);

}  // namespace ivs::app
