#include "app/control/api_client.hpp"

#include <boost/url/parse.hpp>
#include <boost/url/url.hpp>

namespace ivs::app {

namespace {

std::string describe(const io::HttpClient::Request& request) {
  return std::string(io::http::to_string(request.method)) + " " + request.url;
}

// "POST http://h/api/media/token: HTTP 500: {"error":"boom"}" (body cut to keep logs short).
std::string status_error(const io::HttpClient::Request& request,
                         const io::HttpClient::Response& response) {
  std::string body = response.body.substr(0, 200);
  for (char& c : body) {
    if (c == '\n' || c == '\r') {
      c = ' ';
    }
  }
  return describe(request) + ": HTTP " + std::to_string(response.status) +
         (body.empty() ? "" : ": " + body);
}

bool is_success(unsigned status) {
  return status >= 200 && status < 300;
}

}  // namespace

std::string api_url(std::string_view base_url, std::string_view path) {
  std::string out(base_url);
  while (!out.empty() && out.back() == '/') {
    out.pop_back();
  }
  return out + std::string(path);
}

Result<std::string> websocket_url(std::string_view base_url) {
  auto parsed = boost::urls::parse_uri(base_url);
  if (!parsed) {
    return make_error("API_SERVER_URL: not an absolute URL");
  }
  boost::urls::url url(*parsed);
  if (url.scheme() == "https") {
    url.set_scheme("wss");
  } else if (url.scheme() == "http") {
    url.set_scheme("ws");
  } else {
    return make_error("API_SERVER_URL: scheme must be http or https");
  }
  std::string path(url.encoded_path());
  while (!path.empty() && path.back() == '/') {
    path.pop_back();
  }
  url.set_encoded_path(path + "/ws");
  url.set_encoded_query("type=media-server");
  url.remove_fragment();
  return std::string(url.buffer());
}

HeaderList auth_headers(ApiCall call, const ApiClientOptions& options) {
  HeaderList headers;
  if (!options.api_key.empty()) {
    headers.emplace_back("x-api-key", options.api_key);
  }
  const bool needs_media_auth = call == ApiCall::register_server || call == ApiCall::fetch_token ||
                                call == ApiCall::websocket;
  if (needs_media_auth && !options.media_secret.empty()) {
    headers.emplace_back("x-media-auth", options.media_secret);
  }
  if (call == ApiCall::websocket) {
    headers.emplace_back("serverId", options.server_id);
  }
  return headers;
}

ApiClient::ApiClient(io::HttpClient& http, ApiClientOptions options)
    : http_(http), options_(std::move(options)) {}

io::HttpClient::Request ApiClient::make_request(ApiCall call, io::http::verb method,
                                                std::string_view path, std::string body) const {
  io::HttpClient::Request request;
  request.method = method;
  request.url = api_url(options_.base_url, path);
  request.headers = auth_headers(call, options_);
  request.headers.emplace_back("accept", "application/json");
  if (!body.empty()) {
    request.body = std::move(body);
    request.content_type = "application/json";
  }
  request.timeout = options_.request_timeout;
  // x-api-key and x-media-auth belong to the API server alone: a redirect to any other origin
  // goes without them (docs/http.md "Redirects").
  request.secrets_cross_origin_over_https = false;
  return request;
}

void ApiClient::register_server(std::function<void(Status)> done) {
  auto request =
      make_request(ApiCall::register_server, io::http::verb::post, "/api/media/register",
                   register_request_body(options_.server_id, options_.server_ip, options_.port));
  http_.request(request, [request, done = std::move(done)](Result<io::HttpClient::Response> r) {
    if (!r) {
      done(r.error());
    } else if (!is_success(r->status)) {
      done(make_error(status_error(request, *r)));
    } else {
      done(Ok{});
    }
  });
}

void ApiClient::list_stages(std::function<void(Result<StageList>)> done) {
  auto request = make_request(ApiCall::list_stages, io::http::verb::get, "/api/media/stages", "");
  http_.request(request, [request, done = std::move(done)](Result<io::HttpClient::Response> r) {
    if (!r) {
      done(r.error());
    } else if (!is_success(r->status)) {
      done(make_error(status_error(request, *r)));
    } else if (auto stages = parse_stage_list(r->body); !stages) {
      done(make_error(describe(request) + ": " + stages.error().message));
    } else {
      done(std::move(*stages));
    }
  });
}

void ApiClient::fetch_token(const std::string& stage_arn, TokenCallback done) {
  auto request = make_request(ApiCall::fetch_token, io::http::verb::post, "/api/media/token",
                              token_request_body(options_.server_id, stage_arn));
  http_.request(request, [request, endpoint = options_.whip_endpoint,
                          done = std::move(done)](Result<io::HttpClient::Response> r) {
    if (!r) {
      done(r.error(), false);
    } else if (!is_success(r->status)) {
      const bool permanent = r->status == 400 || r->status == 404 || r->status == 422;
      done(make_error(status_error(request, *r)), permanent);
    } else if (auto token = parse_token_response(r->body, endpoint); !token) {
      done(make_error(describe(request) + ": " + token.error().message), false);
    } else {
      done(std::move(*token), false);
    }
  });
}

void ApiClient::heartbeat(bool publisher_active, std::size_t connected_stages,
                          std::function<void(HeartbeatOutcome)> done) {
  auto request =
      make_request(ApiCall::heartbeat, io::http::verb::post, "/api/media/heartbeat",
                   heartbeat_request_body(options_.server_id, publisher_active, connected_stages));
  http_.request(request, [request, done = std::move(done)](Result<io::HttpClient::Response> r) {
    HeartbeatOutcome outcome;
    if (!r) {
      outcome.error = r.error().message;
    } else if (!is_success(r->status)) {
      outcome.forgotten = r->status == 401 || r->status == 404;
      outcome.error = status_error(request, *r);
    } else {
      outcome.ok = true;
    }
    done(std::move(outcome));
  });
}

}  // namespace ivs::app
