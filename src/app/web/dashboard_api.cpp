#include "app/web/dashboard_api.hpp"

#include <boost/json.hpp>

#include <utility>

#include "app/control/api_client.hpp"

namespace ivs::app {

namespace json = boost::json;
using io::http::status;

namespace {

constexpr std::size_t kMaxAdminBody = 4096;
constexpr std::size_t kMaxUpstreamBodyKept = 8192;

// The stages of an API server's GET /api/stages answer, reduced to what the dashboard shows.
std::optional<std::string> stage_summaries(std::string_view body) {
  boost::system::error_code error;
  json::value parsed = json::parse(body, error);
  if (error || !parsed.is_object()) {
    return std::nullopt;
  }
  const json::value* stages = parsed.get_object().if_contains("stages");
  if (stages == nullptr || !stages->is_array()) {
    return std::nullopt;
  }
  json::array out;
  for (const json::value& item : stages->get_array()) {
    if (!item.is_object()) {
      continue;
    }
    json::object summary;
    for (const char* key : {"id", "name", "stageArn"}) {
      const json::value* field = item.get_object().if_contains(key);
      summary[key] = field != nullptr && field->is_string() ? *field : json::value(nullptr);
    }
    out.push_back(std::move(summary));
  }
  return json::serialize(out);
}

io::HttpResponse accepted(std::uint64_t id) {
  const std::string text = std::to_string(id);
  auto response =
      io::json_response(status::accepted, json::serialize(json::object{{"requestId", text}}));
  response.set(io::http::field::location, "/api/admin/requests/" + text);
  return response;
}

}  // namespace

bool valid_stage_id(std::string_view id) {
  if (id.empty() || id.size() > 128) {
    return false;
  }
  for (char c : id) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '_';
    if (!ok) {
      return false;
    }
  }
  return true;
}

std::shared_ptr<DashboardApi> DashboardApi::create(DashboardApiOptions options, Upstream upstream,
                                                   Clock clock) {
  return std::shared_ptr<DashboardApi>(
      new DashboardApi(std::move(options), std::move(upstream), std::move(clock)));
}

DashboardApi::DashboardApi(DashboardApiOptions options, Upstream upstream, Clock clock)
    : options_(std::move(options)), upstream_(std::move(upstream)), clock_(std::move(clock)) {}

io::HttpResponse DashboardApi::info(const io::HttpRequest&) {
  if (!options_.disabled_reason.empty()) {
    auto response = io::json_response(
        status::ok, json::serialize(json::object{{"available", false},
                                                 {"enabled", false},
                                                 {"disabledReason", options_.disabled_reason},
                                                 {"stages", json::array{}}}));
    response.set(io::http::field::cache_control, "no-store");
    return response;
  }
  const bool stale = !last_check_ || clock_() - *last_check_ >= options_.recheck_interval;
  if (stale && !check_in_flight_) {
    refresh_availability();
  }
  json::object body{{"available", available_ ? json::value(*available_) : json::value(nullptr)},
                    {"error", availability_error_.empty() ? json::value(nullptr)
                                                          : json::value(availability_error_)},
                    {"tokenRequired", true},
                    {"enabled", !options_.admin_token->empty()},
                    {"stages", json::parse(stages_json_)}};
  auto response = io::json_response(status::ok, json::serialize(body));
  response.set(io::http::field::cache_control, "no-store");
  return response;
}

void DashboardApi::refresh_availability() {
  check_in_flight_ = true;
  last_check_ = clock_();
  io::HttpClient::Request request;
  request.method = io::http::verb::get;
  request.url = api_url(options_.api_server_url, "/api/stages");
  request.headers = {{"x-api-key", options_.api_key->current()}};
  request.timeout = options_.request_timeout;
  request.secrets_cross_origin_over_https = false;  // the API key never leaves its origin
  request.max_response_bytes = std::size_t{1} << 20;
  std::weak_ptr<DashboardApi> weak = weak_from_this();
  upstream_(std::move(request), [weak](Result<io::HttpClient::Response> outcome) {
    auto self = weak.lock();
    if (!self) {
      return;
    }
    self->check_in_flight_ = false;
    if (!outcome) {
      self->available_ = false;
      self->availability_error_ = outcome.error().message;
      return;
    }
    auto stages = outcome->status == 200 ? stage_summaries(outcome->body) : std::nullopt;
    self->available_ = stages.has_value();
    self->availability_error_ =
        stages ? "" : "GET /api/stages answered " + std::to_string(outcome->status);
    if (stages) {
      self->stages_json_ = std::move(*stages);
    }
  });
}

std::optional<io::HttpResponse> DashboardApi::admin_refusal(const io::HttpRequest& request) const {
  if (!options_.disabled_reason.empty()) {
    return io::json_error(status::service_unavailable,
                          "stage buttons are off: " + options_.disabled_reason);
  }
  if (options_.admin_token->empty()) {
    return io::json_error(status::service_unavailable,
                          "stage buttons are disabled: set ADMIN_TOKEN (or WHIP_INGEST_TOKEN) on "
                          "the media server");
  }
  const auto header = request.find(io::http::field::authorization);
  constexpr std::string_view kBearer = "Bearer ";
  if (header == request.end() || !header->value().starts_with(kBearer)) {
    return io::json_error(status::unauthorized,
                          "missing Authorization: Bearer header (the media server's ingest token)");
  }
  if (!options_.admin_token->matches(header->value().substr(kBearer.size()), clock_())) {
    return io::json_error(status::unauthorized, "wrong token");
  }
  return std::nullopt;
}

io::HttpResponse DashboardApi::create_stage(const io::HttpRequest& request) {
  if (auto refusal = admin_refusal(request)) {
    return std::move(*refusal);
  }
  if (request.body().size() > kMaxAdminBody) {
    return io::json_error(status::payload_too_large, "body over 4 KiB");
  }
  json::object upstream_body;
  if (!request.body().empty()) {
    boost::system::error_code error;
    json::value parsed = json::parse(request.body(), error);
    if (error || !parsed.is_object()) {
      return io::json_error(status::bad_request,
                            "body must be a JSON object like {\"name\":\"x\"}");
    }
    if (const json::value* name = parsed.get_object().if_contains("name")) {
      if (!name->is_string()) {
        return io::json_error(status::unprocessable_entity, "name must be a string");
      }
      if (!name->get_string().empty()) {
        upstream_body["name"] = *name;
      }
    }
  }
  return forward(io::http::verb::post, "/api/stages", json::serialize(upstream_body));
}

io::HttpResponse DashboardApi::delete_stage(const io::HttpRequest& request,
                                            const std::string& stage_id) {
  if (auto refusal = admin_refusal(request)) {
    return std::move(*refusal);
  }
  if (!valid_stage_id(stage_id)) {
    return io::json_error(status::bad_request, "a stage id is letters, digits, '-' and '_'");
  }
  return forward(io::http::verb::delete_, "/api/stages/" + stage_id, "");
}

io::HttpResponse DashboardApi::forward(io::http::verb method, const std::string& path,
                                       std::string body) {
  const std::uint64_t id = next_request_id_++;
  Pending pending;
  pending.id = id;
  requests_.push_back(std::move(pending));
  while (requests_.size() > options_.remembered_requests) {
    requests_.pop_front();
  }
  io::HttpClient::Request request;
  request.method = method;
  request.url = api_url(options_.api_server_url, path);
  request.headers = {{"x-api-key", options_.api_key->current()}};
  request.timeout = options_.request_timeout;
  request.secrets_cross_origin_over_https = false;  // the API key never leaves its origin
  if (!body.empty()) {
    request.body = std::move(body);
    request.content_type = "application/json";
  }
  std::weak_ptr<DashboardApi> weak = weak_from_this();
  upstream_(std::move(request), [weak, id](const Result<io::HttpClient::Response>& outcome) {
    if (auto self = weak.lock()) {
      self->finish(id, outcome);
    }
  });
  return accepted(id);
}

void DashboardApi::finish(std::uint64_t id, const Result<io::HttpClient::Response>& outcome) {
  // The stage list changed (or the API server is gone): let the next info() look again.
  last_check_.reset();
  Pending* pending = find(id);
  if (pending == nullptr) {
    return;
  }
  pending->done = true;
  if (!outcome) {
    pending->error = outcome.error().message;
    return;
  }
  pending->status = outcome->status;
  pending->body = outcome->body.substr(0, kMaxUpstreamBodyKept);
}

DashboardApi::Pending* DashboardApi::find(std::uint64_t id) {
  for (Pending& pending : requests_) {
    if (pending.id == id) {
      return &pending;
    }
  }
  return nullptr;
}

io::HttpResponse DashboardApi::request_outcome(const std::string& request_id) const {
  for (const Pending& pending : requests_) {
    if (std::to_string(pending.id) != request_id) {
      continue;
    }
    json::object body{{"requestId", request_id}, {"done", pending.done}};
    if (pending.done && pending.error.empty()) {
      body["status"] = pending.status;
      boost::system::error_code error;
      json::value parsed = json::parse(pending.body, error);
      body["body"] = error ? json::value(pending.body) : std::move(parsed);
    }
    if (!pending.error.empty()) {
      body["error"] = pending.error;
    }
    auto response = io::json_response(status::ok, json::serialize(body));
    response.set(io::http::field::cache_control, "no-store");
    return response;
  }
  return io::json_error(status::not_found, "unknown or forgotten request id");
}

void add_dashboard_api_routes(io::HttpRouter& router, const std::shared_ptr<DashboardApi>& api,
                              const std::shared_ptr<AuthGuard>& guard) {
  // The admin token is checked before a body is read, behind the failed-authentication guard.
  if (guard) {
    auto check = guarded_authorizer(
        guard, "dashboard",
        [api](const io::HttpRequest& request, const io::RequestContext&) {
          return api->admin_refusal(request);
        },
        [api] { return api->now(); });
    router.header_check(io::http::verb::post, "/api/admin/stages", check);
    router.header_check(io::http::verb::delete_, "/api/admin/stages/{id}", check);
  }
  router.get("/api/admin", [api](const io::HttpRequest& request, const io::RequestContext&) {
    return api->info(request);
  });
  router.post("/api/admin/stages",
              [api](const io::HttpRequest& request, const io::RequestContext&) {
                return api->create_stage(request);
              });
  router.del("/api/admin/stages/{id}",
             [api](const io::HttpRequest& request, const io::RequestContext& context) {
               return api->delete_stage(request, context.path_param("id"));
             });
  router.get("/api/admin/requests/{id}",
             [api](const io::HttpRequest&, const io::RequestContext& context) {
               return api->request_outcome(context.path_param("id"));
             });
}

}  // namespace ivs::app
