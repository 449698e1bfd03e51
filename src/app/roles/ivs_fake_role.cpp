// The `ivs-fake` role's HTTP glue; see ivs_fake_role.hpp.
#include "app/roles/ivs_fake_role.hpp"

#include <spdlog/spdlog.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <cstdio>
#include <cstdlib>
#include <ctime>

#include "app/aws/ivs_api.hpp"
#include "app/aws/ivs_fake_state.hpp"
#include "app/roles/config.hpp"
#include "app/roles/logging.hpp"
#include "io/clock.hpp"
#include "io/http_router.hpp"
#include "io/http_server.hpp"

namespace ivs::app {
namespace {

using io::http::status;

// RFC 9110 §5.6.7 IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT".
std::string http_date(std::int64_t unix_seconds) {
  const std::time_t time = unix_seconds;
  std::tm parts{};
  gmtime_r(&time, &parts);
  char text[64];
  std::strftime(text, sizeof(text), "%a, %d %b %Y %H:%M:%S GMT", &parts);
  return text;
}

boost::json::object body_object(const io::HttpRequest& request) {
  boost::system::error_code error;
  auto value = boost::json::parse(request.body(), error);
  return !error && value.is_object() ? value.as_object() : boost::json::object{};
}

aws::IvsFakeOptions options_from(const Environment& environment) {
  aws::IvsFakeOptions options;
  options.region = value_or(environment, "AWS_REGION", options.region);
  options.credentials.access_key_id =
      value_or(environment, "IVS_FAKE_ACCESS_KEY_ID", options.credentials.access_key_id);
  options.credentials.secret_access_key =
      value_or(environment, "IVS_FAKE_SECRET_ACCESS_KEY", options.credentials.secret_access_key);
  options.credentials.session_token = value_or(environment, "IVS_FAKE_SESSION_TOKEN", "");
  options.rate_per_second =
      std::strtod(value_or(environment, "IVS_FAKE_RATE", "50").c_str(), nullptr);
  options.clock_offset = std::atoll(value_or(environment, "IVS_FAKE_CLOCK_OFFSET", "0").c_str());
  options.whip_url_base = value_or(environment, "STAGE_WHIP_URL_BASE", options.whip_url_base);
  return options;
}

// "main=media-server:relay;other" -> stages "main" (tag media-server=relay) and "other".
void create_initial_stages(aws::IvsFakeState& state, const std::string& spec) {
  std::size_t start = 0;
  while (start < spec.size()) {
    const std::size_t end = std::min(spec.find(';', start), spec.size());
    const std::string entry = spec.substr(start, end - start);
    start = end + 1;
    const std::size_t equals = entry.find('=');
    std::map<std::string, std::string> tags;
    if (equals != std::string::npos) {
      const std::string tag = entry.substr(equals + 1);
      const std::size_t colon = tag.find(':');
      tags[tag.substr(0, colon)] = colon == std::string::npos ? "" : tag.substr(colon + 1);
    }
    const auto stage = state.create_stage(entry.substr(0, equals), tags);
    spdlog::info("stage {} ({})", stage.arn, stage.name);
  }
}

void add_ivs_routes(io::HttpRouter& router, aws::IvsFakeState& state) {
  for (const std::string action : {"ListStages", "CreateParticipantToken"}) {
    router.post("/" + action, [&state, action](const io::HttpRequest& request,
                                               const io::RequestContext&) {
      aws::ReceivedRequest received{
          std::string(request.method_string()), std::string(request.target()), {}, request.body()};
      for (const auto& field : request) {
        received.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
      }
      const auto answer =
          state.handle(action, received, io::monotonic_now(), io::unix_seconds_now());
      auto response = io::json_response(static_cast<status>(answer.status), answer.body);
      // AWS's own time, which a client compares with its clock to measure a skew.
      response.set(io::http::field::date,
                   http_date(io::unix_seconds_now() + state.options().clock_offset));
      if (!answer.error_type.empty()) {
        response.set("x-amzn-ErrorType", answer.error_type + ":http://internal.amazon.com/");
        spdlog::debug("{} -> {} {}", action, answer.status, answer.error_type);
      }
      return response;
    });
  }
}

void add_control_routes(io::HttpRouter& router, aws::IvsFakeState& state,
                        const jwt::Es384Key& key) {
  router.post("/_fake/stages", [&state](const io::HttpRequest& request, const io::RequestContext&) {
    const auto body = body_object(request);
    const auto* name = body.if_contains("name");
    const auto stage = state.create_stage(
        name && name->is_string() ? std::string(name->as_string()) : std::string("stage"),
        aws::string_members(body.contains("tags") ? body.at("tags") : nullptr));
    return io::json_response(
        status::created,
        boost::json::serialize(boost::json::object{
            {"arn", stage.arn}, {"id", stage.arn.substr(stage.arn.rfind('/') + 1)}}));
  });
  router.add(io::http::verb::put, "/_fake/stages/{id}/tags",
             [&state](const io::HttpRequest& request, const io::RequestContext& context) {
               const auto body = body_object(request);
               const bool found = state.set_tags(
                   context.path_param("id"),
                   aws::string_members(body.contains("tags") ? body.at("tags") : nullptr));
               return found ? io::json_response(status::ok, "{}")
                            : io::json_error(status::not_found, "no such stage");
             });
  router.del("/_fake/stages/{id}",
             [&state](const io::HttpRequest&, const io::RequestContext& context) {
               return state.delete_stage(context.path_param("id"))
                          ? io::json_response(status::ok, "{}")
                          : io::json_error(status::not_found, "no such stage");
             });
  router.post("/_fake/deny", [&state](const io::HttpRequest& request, const io::RequestContext&) {
    const auto body = body_object(request);
    const auto* action = body.if_contains("action");
    const auto* denied = body.if_contains("denied");
    if (action == nullptr || !action->is_string()) {
      return io::json_error(status::bad_request, "action is required");
    }
    state.set_denied(std::string(action->as_string()),
                     denied == nullptr || !denied->is_bool() || denied->as_bool());
    return io::json_response(status::ok, "{}");
  });
  router.get("/_fake/stats", [&state](const io::HttpRequest&, const io::RequestContext&) {
    return io::json_response(status::ok, boost::json::serialize(state.stats()));
  });
  router.get("/api/keys", [&key](const io::HttpRequest&, const io::RequestContext&) {
    return io::json_response(status::ok, boost::json::serialize(boost::json::object{
                                             {"keys", boost::json::array{key.public_jwk()}}}));
  });
  router.get("/health", [](const io::HttpRequest&, const io::RequestContext&) {
    return io::json_response(status::ok, R"({"status":"ok"})");
  });
}

}  // namespace

int run_ivs_fake_role(int /*argc*/, char** /*argv*/) {
  const Environment environment = process_environment();
  if (auto logging =
          setup_logging({value_or(environment, "LOG_LEVEL", "info"), "text", "ivs-fake", ""});
      !logging) {
    std::fprintf(stderr, "%s\n", logging.error().message.c_str());
    return 2;
  }
  auto key = jwt::Es384Key::generate();
  if (!key) {
    spdlog::error("cannot start: {}", key.error().message);
    return 1;
  }
  engine::SecureRandom random;
  aws::IvsFakeState state(options_from(environment), *key, random);
  create_initial_stages(state, value_or(environment, "IVS_FAKE_STAGES", ""));
  io::HttpRouter router;
  add_ivs_routes(router, state);
  add_control_routes(router, state, *key);
  boost::asio::io_context io;
  io::HttpServer::Options options;
  options.bind_address = value_or(environment, "IVS_FAKE_BIND", "127.0.0.1");
  options.port =
      static_cast<std::uint16_t>(std::atoi(value_or(environment, "IVS_FAKE_PORT", "4566").c_str()));
  options.server_name = "ivs-fake";
  options.max_connections_per_ip = 0;
  io::HttpServer server(io, options, router.as_handler());
  if (auto started = server.start(); !started) {
    spdlog::error("cannot start: {}", started.error().message);
    return 1;
  }
  spdlog::info(
      "IVS Real-Time stand-in listening on http://{}:{} (region {}, {} requests/s per "
      "action)",
      options.bind_address, server.port(), state.options().region, state.options().rate_per_second);
  boost::asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code&, int) {
    server.stop();
    io.stop();
  });
  io.run();
  return 0;
}

}  // namespace ivs::app
