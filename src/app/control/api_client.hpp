// The media server's client of the API server (DESIGN.md §2.1, seed "APIClientService"):
// register, list stages, fetch a participant token, heartbeat, and the WebSocket address.
// One request per call on io::HttpClient with a per-request timeout; retry policy (backoff with
// jitter) belongs to the callers (ControlPlane, StageManager), which know what a retry means.
//
// Authentication headers, exactly as the seed's API table shows them:
//   x-api-key: API_SECRET_KEY        on every request and the WebSocket upgrade
//   x-media-auth: MEDIA_SERVER_SECRET on register, token and the WebSocket upgrade only
// (heartbeat and stage list carry only x-api-key, as in the seed). An unset secret is not sent.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "app/control/api_responses.hpp"
#include "app/control/stage_manager.hpp"
#include "io/http_client.hpp"

namespace ivs::app {

using HeaderList = std::vector<std::pair<std::string, std::string>>;

struct ApiClientOptions {
  std::string base_url;  // API_SERVER_URL, may carry a path prefix
  std::string api_key;
  std::string media_secret;
  std::string server_id;
  std::string server_ip;
  std::uint16_t port = 0;  // the media server's own HTTP port, sent on register
  std::string whip_endpoint;
  std::chrono::milliseconds request_timeout{10000};
};

enum class ApiCall { register_server, list_stages, fetch_token, heartbeat, websocket };

// Pure helpers (unit tested).
std::string api_url(std::string_view base_url, std::string_view path);
// http→ws, https→wss, path prefix kept, "/ws?type=media-server" appended.
Result<std::string> websocket_url(std::string_view base_url);
HeaderList auth_headers(ApiCall call, const ApiClientOptions& options);

struct HeartbeatOutcome {
  bool ok = false;
  bool forgotten = false;  // 401/404: the API server no longer knows us; register again
  std::string error;
};

class ApiClient {
 public:
  ApiClient(io::HttpClient& http, ApiClientOptions options);

  void register_server(std::function<void(Status)> done);
  void list_stages(std::function<void(Result<StageList>)> done);
  // `permanent` on 400/404/422: the API server refuses this stage; retrying cannot help.
  void fetch_token(const std::string& stage_arn, TokenCallback done);
  void heartbeat(bool publisher_active, std::size_t connected_stages,
                 std::function<void(HeartbeatOutcome)> done);

  const ApiClientOptions& options() const { return options_; }
  // A reload rotated API_SECRET_KEY / MEDIA_SERVER_SECRET (SIGHUP): requests from now on carry
  // the new values; requests in flight keep the old ones.
  void set_credentials(std::string api_key, std::string media_secret) {
    options_.api_key = std::move(api_key);
    options_.media_secret = std::move(media_secret);
  }

 private:
  io::HttpClient::Request make_request(ApiCall call, io::http::verb method, std::string_view path,
                                       std::string body) const;

  io::HttpClient& http_;
  ApiClientOptions options_;
};

}  // namespace ivs::app
