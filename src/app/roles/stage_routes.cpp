// The stage role's HTTP routes and its entry point (stage_role.hpp).
#include <spdlog/spdlog.h>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/json.hpp>

#include <cstdio>
#include <cstdlib>

#include "app/relay/relay_channel.hpp"
#include "app/roles/logging.hpp"
#include "app/roles/stage_role.hpp"
#include "app/web/dashboard_api.hpp"
#include "app/web/whip_routes.hpp"
#include "io/clock.hpp"

namespace ivs::app {

namespace {

namespace http = io::http;

}  // namespace

void StageServer::add_routes() {
  // WHIP: the token is checked BEFORE the stage's channel is looked up or created, so a refused
  // publisher gets 401/403 (not 404) and cannot create stages. DELETE/PATCH/OPTIONS only look up.
  WhipEndpoint whip;
  whip.role = SessionRole::publisher;
  whip.pattern = "/whip/{stage}";
  whip.channel = [this](const io::RequestContext& context) {
    return channel(context.path_param("stage"));
  };
  // The participant token is checked behind the AuthGuard, from the header alone (before the
  // body is read) and again on the whole request.
  auto authorize = guarded_authorizer(
      auth_guard_, "stage_whip",
      [this](const io::HttpRequest& request, const io::RequestContext& context) {
        return authorize_whip(request, context);
      },
      [] { return io::monotonic_now(); });
  whip.authorize = authorize;
  mount_whip_endpoint(router_, whip);
  auto post_endpoint = std::make_shared<WhipEndpoint>(whip);
  post_endpoint->channel = [this](const io::RequestContext& context) {
    return channel_for_whip(context.path_param("stage"));
  };
  router_.post(whip.pattern,
               [post_endpoint](const io::HttpRequest& request, const io::RequestContext& context) {
                 // whip_post authorizes before it looks the channel up, so a refused publisher gets
                 // 401/403, never 404, and creates nothing.
                 return whip_post(*post_endpoint, request, context);
               });

  // WHEP only ever looks a stage up: a viewer of a stage that does not exist yet is told to
  // retry (409, as for a stage without a publisher), and nothing is created for it (issue 13:
  // 253 unauthenticated POSTs used to exhaust the stage cap).
  WhipEndpoint whep;
  whep.role = SessionRole::viewer;
  whep.pattern = "/whep/{stage}";
  whep.channel = [this](const io::RequestContext& context) {
    return channel(context.path_param("stage"));
  };
  mount_whip_endpoint(router_, whep);
  router_.post(whep.pattern, [this, whep](const io::HttpRequest& request,
                                          const io::RequestContext& context) {
    const std::string stage_id = context.path_param("stage");
    if (channel(stage_id) == nullptr && valid_stage_id(stage_id)) {
      auto response = io::text_response(
          http::status::conflict, "stage " + stage_id + " has no publisher yet; retry shortly\n",
          "text/plain; charset=utf-8", request.version());
      response.set(http::field::retry_after, "1");
      return response;
    }
    return whip_post(whep, request, context);
  });

  router_.get("/api/stages", [this](const io::HttpRequest& request, const io::RequestContext&) {
    return stages_json(request);
  });
  router_.get("/health", [this](const io::HttpRequest& request, const io::RequestContext&) {
    return health_json(request);
  });
  router_.enable_cors();
}

io::HttpResponse StageServer::stages_json(const io::HttpRequest& request) const {
  boost::json::array stages;
  for (const auto& [id, channel] : channels_) {
    const ChannelStatus status = channel->status();
    stages.push_back(boost::json::object{
        {"id", id},
        {"live", status.publisher.live},
        {"connecting", status.publisher.connecting},
        {"viewers", status.viewers},
        {"publishes", status.publishes},
        {"deletes", status.deletes},
        {"videoPackets", status.publisher.video_packets},
        {"audioPackets", status.publisher.audio_packets},
        {"keyframes", status.publisher.keyframes},
        // What the stage's ingest asked again for (NACK) and never got back: the fault matrix
        // (tests/process/test_fault_matrix.py) measures the egress legs' recovery with them.
        {"nacksSent", status.publisher.nacks_sent},
        {"packetsLost", status.publisher.packets_lost},
        {"width", status.publisher.width ? boost::json::value(*status.publisher.width)
                                         : boost::json::value(nullptr)},
        {"height", status.publisher.height ? boost::json::value(*status.publisher.height)
                                           : boost::json::value(nullptr)},
        {"whipUrl", "/whip/" + id},
        {"whepUrl", "/whep/" + id},
    });
  }
  return io::json_response(http::status::ok,
                           boost::json::serialize(boost::json::object{{"stages", stages}}),
                           request.version());
}

io::HttpResponse StageServer::health_json(const io::HttpRequest& request) const {
  return io::json_response(http::status::ok,
                           boost::json::serialize(boost::json::object{
                               {"status", "healthy"},
                               {"service", "stage"},
                               {"stages", channels_.size()},
                               {"keyLoaded", key_ != nullptr},
                           }),
                           request.version());
}

int run_stage_role(int argc, char** argv, const std::function<void(io::HttpRouter&)>& add_pages) {
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      std::fputs(stage_usage().c_str(), stdout);
      return 0;
    }
    std::fprintf(stderr, "media-server stage: unexpected argument \"%s\"\n%s", argv[i],
                 stage_usage().c_str());
    return 2;
  }
  LoggingOptions logging;
  logging.service = "stage";
  if (const char* level = std::getenv("LOG_LEVEL"); level != nullptr && *level != '\0') {
    logging.level = level;
  }
  if (auto status = setup_logging(logging); !status) {
    std::fprintf(stderr, "configuration: %s\n", status.error().message.c_str());
    return 2;
  }
  auto options = load_stage_options([](const std::string& name) -> std::optional<std::string> {
    const char* value = std::getenv(name.c_str());
    return value != nullptr ? std::optional<std::string>(value) : std::nullopt;
  });
  if (!options) {
    std::fprintf(stderr, "configuration: %s\n", options.error().message.c_str());
    return 2;
  }
  boost::asio::io_context io;
  StageServer server(io, std::move(*options));
  if (add_pages) {
    add_pages(server.router());
  }
  if (auto started = server.start(); !started) {
    spdlog::error("stage: {}", started.error().message);
    return 1;
  }
  boost::asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code& error, int) {
    if (!error) {
      spdlog::info("stage: stopping");
      server.stop();
      io.stop();
    }
  });
  io.run();
  return 0;
}

}  // namespace ivs::app
