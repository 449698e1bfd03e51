// Routes of the reference API server; see api_handlers.hpp for the contract.
#include "app/api_server/api_handlers.hpp"

#include <algorithm>
#include <cctype>

#include "app/api_server/request_body.hpp"

namespace ivs::app::api_server {
namespace {

using io::http::status;

constexpr std::string_view kApiKeyHeader = "x-api-key";
constexpr std::string_view kMediaAuthHeader = "x-media-auth";

std::int64_t unix_seconds(WallTime time) {
  return time.unix_micros / 1'000'000;
}

// IVS stage names: up to 128 of [a-zA-Z0-9-_].
bool valid_stage_name(std::string_view name) {
  return name.size() <= 128 && std::all_of(name.begin(), name.end(), [](char c) {
           return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_';
         });
}

io::HttpResponse json_ok(status code, const boost::json::value& body) {
  return io::json_response(code, boost::json::serialize(body));
}

// The 401 for one header: says which header and whether it was absent or wrong, never its value.
std::optional<io::HttpResponse> check_header(const io::HttpRequest& request,
                                             std::string_view header,
                                             const RotatingSecret& expected, Instant now) {
  const auto it = request.find(header);
  if (it == request.end()) {
    return io::json_error(status::unauthorized, "missing " + std::string(header) + " header");
  }
  if (!expected.matches(it->value(), now)) {
    return io::json_error(status::unauthorized, "invalid " + std::string(header) + " header");
  }
  return std::nullopt;
}

}  // namespace

ApiHandlers::ApiHandlers(ApiServerSettings settings, ApiServerState& state,
                         const jwt::Es384Key& key, engine::RandomSource& random,
                         WallClock wall_clock, MonotonicClock monotonic_clock)
    : settings_(std::move(settings)),
      api_key_(settings_.api_secret_key),
      media_secret_(settings_.media_server_secret),
      state_(state),
      key_(key),
      random_(random),
      wall_clock_(std::move(wall_clock)),
      monotonic_clock_(std::move(monotonic_clock)) {
  const auto route = [this](io::HttpResponse (ApiHandlers::*method)(const io::HttpRequest&) const) {
    return [this, method](const io::HttpRequest& request, const io::RequestContext&) {
      return (this->*method)(request);
    };
  };
  router_.post("/api/media/register", route(&ApiHandlers::register_server))
      .get("/api/media/stages", route(&ApiHandlers::media_stages))
      .post("/api/media/token", route(&ApiHandlers::token))
      .post("/api/media/heartbeat", route(&ApiHandlers::heartbeat))
      .get("/api/media/servers", route(&ApiHandlers::list_servers))
      .post("/api/stages", route(&ApiHandlers::create_stage))
      .get("/api/stages", route(&ApiHandlers::list_stages))
      .get("/api/keys", route(&ApiHandlers::keys))
      .get("/api/keys/public.pem", route(&ApiHandlers::keys))
      .get("/health", route(&ApiHandlers::health));
  // A stage is addressed by id, by its URL-encoded ARN (one segment), or by its raw ARN, whose
  // "…:stage/<id>" spans two segments.
  router_.del("/api/stages/{id}",
              [this](const io::HttpRequest& request, const io::RequestContext& context) {
                return delete_stage(request, percent_decode(context.path_param("id")));
              });
  router_.del("/api/stages/{prefix}/{id}",
              [this](const io::HttpRequest& request, const io::RequestContext& context) {
                return delete_stage(request, percent_decode(context.path_param("prefix")) + "/" +
                                                 percent_decode(context.path_param("id")));
              });
}

bool ApiHandlers::is_public_path(std::string_view path) {
  return path == "/health" || path == "/api/keys" || path == "/api/keys/public.pem";
}

std::optional<io::HttpResponse> ApiHandlers::header_rejection(
    const io::HttpRequest& request) const {
  const std::string_view path = io::request_path(request);
  if (is_public_path(path) || request.method() == io::http::verb::options) {
    return std::nullopt;
  }
  const bool media = path == "/api/media/register" || path == "/api/media/token" || path == "/ws";
  return check_auth(request, media);
}

io::HttpResponse ApiHandlers::handle(const io::HttpRequest& request,
                                     const io::RequestContext& context) const {
  auto response = router_.handle(request, context);
  response.version(request.version());
  response.keep_alive(request.keep_alive());
  return response;
}

std::optional<io::HttpResponse> ApiHandlers::check_auth(const io::HttpRequest& request,
                                                        bool needs_media_auth) const {
  const Instant now = monotonic_clock_();
  if (auto failure = check_header(request, kApiKeyHeader, api_key_, now)) {
    return failure;
  }
  if (needs_media_auth) {
    return check_header(request, kMediaAuthHeader, media_secret_, now);
  }
  return std::nullopt;
}

std::vector<std::string> ApiHandlers::rotate_secrets(const std::string& api_key,
                                                     const std::string& media_secret,
                                                     Duration grace) {
  std::vector<std::string> rotated;
  const Instant now = monotonic_clock_();
  if (api_key != api_key_.current()) {
    api_key_.rotate(api_key, now, grace);
    rotated.emplace_back("API_SECRET_KEY");
  }
  if (media_secret != media_secret_.current()) {
    media_secret_.rotate(media_secret, now, grace);
    rotated.emplace_back("MEDIA_SERVER_SECRET");
  }
  return rotated;
}

std::optional<std::string> ApiHandlers::websocket_rejection(const io::HttpRequest& request) const {
  if (auto failure = check_auth(request, true)) {
    return failure->body();
  }
  const auto type = io::query_param(request, "type");
  if (type && *type != "media-server") {
    return "unsupported WebSocket type (only type=media-server)";
  }
  return std::nullopt;
}

io::HttpResponse ApiHandlers::register_server(const io::HttpRequest& request) const {
  if (auto failure = check_auth(request, true))
    return std::move(*failure);
  RequestBody body(request);
  MediaServerRecord record;
  record.server_id = body.string("serverId", 128);
  record.ip_address = body.string("ipAddress", 255);
  record.port = static_cast<std::uint16_t>(body.integer("port", 1, 65535));
  if (auto failure = body.failure())
    return std::move(*failure);
  record.registered_at = wall_clock_();
  const auto registered = state_.register_server(record);
  if (!registered)
    return io::json_error(status::service_unavailable, registered.error().message);
  return json_ok(status::ok, {{"success", true}, {"server", server_json(record)}});
}

io::HttpResponse ApiHandlers::media_stages(const io::HttpRequest& request) const {
  if (auto failure = check_auth(request, false))
    return std::move(*failure);
  boost::json::array stages;
  for (const auto& stage : state_.stages()) {
    stages.push_back(boost::json::object{{"stageArn", stage.arn}, {"name", stage.name}});
  }
  return json_ok(status::ok, {{"stages", std::move(stages)}});
}

io::HttpResponse ApiHandlers::token(const io::HttpRequest& request) const {
  if (auto failure = check_auth(request, true))
    return std::move(*failure);
  RequestBody body(request);
  const auto server_id = body.string("serverId", 128);
  const auto stage_arn = body.string("stageArn", 256);
  if (auto failure = body.failure())
    return std::move(*failure);
  const Stage* stage = state_.find_stage(stage_arn);
  if (stage == nullptr)
    return io::json_error(status::not_found, "stage not found");

  const WallTime now = wall_clock_();
  const std::int64_t issued = unix_seconds(now);
  const std::int64_t expires =
      issued + std::chrono::duration_cast<std::chrono::seconds>(settings_.token_duration).count();
  const std::string participant_id = random_alphanumeric(random_, 12);
  const std::string whip_url = settings_.whip_url_base + "/" + stage->id;
  const boost::json::object claims{
      {"exp", expires},
      {"iat", issued},
      {"jti", participant_id},
      {"resource", stage->arn},
      {"topic", stage->id},
      {"whip_url", whip_url},
      {"user_id", server_id},
      {"attributes", {{"serverId", server_id}, {"role", "media-server-relay"}}},
      {"capabilities", {{"allow_publish", true}, {"allow_subscribe", false}}},
      {"version", "1.0"},
  };
  auto token = jwt::sign(key_, claims);
  if (!token)
    return io::json_error(status::internal_server_error, token.error().message);
  return json_ok(status::ok, {
                                 {"token", *token},
                                 {"participantId", participant_id},
                                 {"whipUrl", whip_url},
                                 {"expirationTime", format_iso8601(WallTime{expires * 1'000'000})},
                             });
}

io::HttpResponse ApiHandlers::heartbeat(const io::HttpRequest& request) const {
  if (auto failure = check_auth(request, false))
    return std::move(*failure);
  RequestBody body(request);
  const auto server_id = body.string("serverId", 128);
  const bool publisher_active = body.boolean("publisherActive");
  const auto connected_stages =
      body.integer("connectedStages", 0, static_cast<std::int64_t>(kMaxStages) * 1000);
  if (auto failure = body.failure())
    return std::move(*failure);
  MediaServerRecord* server = state_.find_server(server_id);
  if (server == nullptr) {
    return io::json_error(status::not_found, "media server is not registered; register again");
  }
  server->last_heartbeat = wall_clock_();
  server->publisher_active = publisher_active;
  server->connected_stages = connected_stages;
  ++server->heartbeats;
  return json_ok(status::ok, {{"success", true}});
}

io::HttpResponse ApiHandlers::list_servers(const io::HttpRequest& request) const {
  if (auto failure = check_auth(request, false))
    return std::move(*failure);
  boost::json::array servers;
  for (const auto& [id, server] : state_.servers())
    servers.push_back(server_json(server));
  return json_ok(status::ok, {{"servers", std::move(servers)}});
}

io::HttpResponse ApiHandlers::create_stage(const io::HttpRequest& request) const {
  if (auto failure = check_auth(request, false))
    return std::move(*failure);
  std::string name;
  if (!request.body().empty()) {  // The body is optional: no name means "stage-<id>".
    RequestBody body(request);
    name = body.optional_string("name", 128);
    if (auto failure = body.failure())
      return std::move(*failure);
    if (!valid_stage_name(name)) {
      return io::json_error(status::unprocessable_entity,
                            "field name may hold only letters, digits, '-' and '_'");
    }
  }
  auto stage = state_.create_stage(std::move(name), wall_clock_(), random_);
  if (!stage)
    return io::json_error(status::conflict, stage.error().message);
  auto response = json_ok(status::created, stage_json(*stage));
  response.set(io::http::field::location, "/api/stages/" + stage->id);
  return response;
}

io::HttpResponse ApiHandlers::list_stages(const io::HttpRequest& request) const {
  if (auto failure = check_auth(request, false))
    return std::move(*failure);
  boost::json::array stages;
  for (const auto& stage : state_.stages())
    stages.push_back(stage_json(stage));
  return json_ok(status::ok, {{"stages", std::move(stages)}});
}

io::HttpResponse ApiHandlers::delete_stage(const io::HttpRequest& request,
                                           const std::string& id_or_arn) const {
  if (auto failure = check_auth(request, false))
    return std::move(*failure);
  const auto removed = state_.delete_stage(id_or_arn, wall_clock_());
  if (!removed)
    return io::json_error(status::not_found, "stage not found");
  return json_ok(status::ok, {{"deleted", stage_json(*removed)}});
}

io::HttpResponse ApiHandlers::keys(const io::HttpRequest& request) const {
  // Public by design: a verifier (the stage role) needs the public key and nothing secret.
  if (io::request_path(request).ends_with(".pem")) {
    return io::text_response(status::ok, key_.public_pem(), "application/x-pem-file");
  }
  return json_ok(status::ok, {{"keys", boost::json::array{key_.public_jwk()}}});
}

io::HttpResponse ApiHandlers::health(const io::HttpRequest&) const {
  return json_ok(status::ok, {
                                 {"status", "healthy"},
                                 {"service", "API Server"},
                                 {"version", settings_.version},
                                 {"stages", state_.stages().size()},
                                 {"servers", state_.servers().size()},
                             });
}

}  // namespace ivs::app::api_server
