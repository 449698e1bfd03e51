// The `media-server api-server` role: wires ApiHandlers (pure routes) to an HttpServer on one
// Asio loop, pushes stage events to every connected media server over /ws, keeps the optional
// state file up to date, and stops cleanly on SIGTERM/SIGINT. See docs/api-server.md.
#include "app/api_server/api_server_role.hpp"

#include <spdlog/spdlog.h>

#include <sys/stat.h>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>

#include "app/api_server/api_handlers.hpp"
#include "app/api_server/api_server_config.hpp"
#include "app/api_server/api_server_state.hpp"
#include "app/api_server/atomic_file.hpp"
#include "app/control/jwt.hpp"
#include "app/roles/config.hpp"
#include "app/roles/logging.hpp"
#include "app/web/auth_guard.hpp"
#include "io/clock.hpp"
#include "io/http_server.hpp"

namespace ivs::app {
namespace {

using api_server::ApiServerConfig;

Result<std::string> read_whole_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    return make_error("cannot open " + path + ": " + std::strerror(errno));
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// The signing key: from API_TOKEN_KEY_FILE when it exists, else fresh (and saved there when a
// path was given, so restarts keep verifying earlier tokens).
Result<jwt::Es384Key> load_or_create_key(const std::string& path) {
  if (!path.empty() && std::filesystem::exists(path)) {
    auto pem = read_whole_file(path);
    if (!pem)
      return pem.error();
    auto key = jwt::Es384Key::from_private_pem(*pem);
    if (!key)
      return make_error("API_TOKEN_KEY_FILE " + path + ": " + key.error().message);
    spdlog::info("token signing key loaded from {} (kid {})", path, key->thumbprint());
    return key;
  }
  auto key = jwt::Es384Key::generate();
  if (!key)
    return key.error();
  if (!path.empty()) {
    // 0600 from the first byte: the private key is never readable by anyone else.
    if (auto saved = api_server::write_file_atomically(path, key->private_pem(), S_IRUSR | S_IWUSR);
        !saved) {
      return make_error("API_TOKEN_KEY_FILE: " + saved.error().message);
    }
    spdlog::info("token signing key generated and saved to {} (kid {})", path, key->thumbprint());
  } else {
    spdlog::info(
        "token signing key generated for this run (kid {}); set API_TOKEN_KEY_FILE to "
        "keep it",
        key->thumbprint());
  }
  return key;
}

// API_DATA_DIR: created owner-only (the signing key lives there); an existing directory is used
// as it is, so an operator's own permissions stay.
Status make_data_dir(const std::string& path) {
  if (path.empty()) {
    spdlog::info(
        "API_DATA_DIR is empty: stages and the signing key live in memory only (a restart "
        "starts afresh with a new key)");
    return Ok{};
  }
  std::error_code error;
  if (std::filesystem::is_directory(path, error)) {
    return Ok{};
  }
  std::filesystem::create_directories(path, error);
  if (!error) {
    std::filesystem::permissions(path, std::filesystem::perms::owner_all,
                                 std::filesystem::perm_options::replace, error);
  }
  if (error) {
    return make_error("API_DATA_DIR " + path + ": cannot create it (" + error.message() +
                      "); point it at a writable directory, or set it empty to keep state in "
                      "memory only");
  }
  spdlog::info("API_DATA_DIR {} created (mode 0700)", path);
  return Ok{};
}

class ApiServerRole {
 public:
  ApiServerRole(ApiServerConfig config, jwt::Es384Key key)
      : config_(std::move(config)),
        key_(std::move(key)),
        state_(config_.aws_region, config_.aws_account_id),
        handlers_(
            settings(config_), state_, key_, random_, [] { return io::wall_now(); },
            [] { return io::monotonic_now(); }) {}

  Status start();
  int run();

 private:
  static api_server::ApiServerSettings settings(const ApiServerConfig& config) {
    api_server::ApiServerSettings settings;
    settings.api_secret_key = config.api_secret_key;
    settings.media_server_secret = config.media_server_secret;
    settings.whip_url_base = config.whip_url_base;
    settings.token_duration = config.token_duration;
    settings.version = IVS_VERSION;
    return settings;
  }

  Status restore_state();
  std::optional<io::HttpResponse> check_header(const io::HttpRequest& request,
                                               const io::RequestContext& context);
  io::HttpResponse on_request(const io::HttpRequest& request, const io::RequestContext& context);
  void log_request(const io::HttpRequest& request, const io::HttpResponse& response) const;
  void publish_events();
  io::WebSocketRoute websocket_route();
  void shut_down(int signal_number);
  void wait_for_reload();
  void reload_secrets();

  ApiServerConfig config_;
  jwt::Es384Key key_;
  engine::SecureRandom random_;
  api_server::ApiServerState state_;
  api_server::ApiHandlers handlers_;
  // Failed x-api-key / x-media-auth checks: counted, logged at a rate limit, throttled.
  AuthGuard guard_;
  boost::asio::io_context io_;
  std::unique_ptr<io::HttpServer> server_;
  boost::asio::signal_set signals_{io_, SIGINT, SIGTERM};
  boost::asio::signal_set reload_signal_{io_, SIGHUP};
  // Connected media servers by connection id; a peer is removed in its on_close.
  std::map<std::uint64_t, std::shared_ptr<io::WebSocketPeer>> peers_;
};

Status ApiServerRole::restore_state() {
  if (!config_.state_file.empty() && std::filesystem::exists(config_.state_file)) {
    auto text = read_whole_file(config_.state_file);
    if (!text)
      return text.error();
    if (auto restored = api_server::restore_stages(state_, *text); !restored) {
      return make_error("API_STATE_FILE " + config_.state_file + ": " + restored.error().message);
    }
    spdlog::info("restored {} stage(s) from {}", state_.stages().size(), config_.state_file);
  }
  if (state_.stages().empty()) {
    for (const auto& name : config_.initial_stage_names) {
      auto stage = state_.create_stage(name, io::wall_now(), random_);
      if (!stage)
        return stage.error();
      spdlog::info("initial stage {} ({})", stage->arn, stage->name);
    }
  }
  publish_events();  // Nobody is connected yet; this only saves the state file.
  return Ok{};
}

Status ApiServerRole::start() {
  if (auto restored = restore_state(); !restored)
    return restored;
  io::HttpServer::Options options;
  options.bind_address = config_.bind_address;
  options.port = config_.port;
  options.max_body_bytes =
      std::size_t{64} * 1024;  // The largest legitimate body is a few hundred bytes.
  options.server_name = "ivs-api-server";
  // Media servers heartbeat a few times a minute and ask for a token per new stage; an admin
  // clicks. The default 100 requests/s per address is far above that and far below a guessing
  // loop (docs/security.md); a backend creating stages in bulk from one address raises it.
  options.rate_limit_per_ip = config_.rate_limit_per_ip;
  options.header_check = [this](const io::HttpRequest& request, const io::RequestContext& context) {
    return check_header(request, context);
  };
  server_ = std::make_unique<io::HttpServer>(
      io_, options, [this](const io::HttpRequest& request, const io::RequestContext& context) {
        return on_request(request, context);
      });
  server_->add_websocket_route("/ws", websocket_route());
  if (auto started = server_->start(); !started)
    return started;
  signals_.async_wait([this](const boost::system::error_code& error, int signal_number) {
    if (!error)
      shut_down(signal_number);
  });
  wait_for_reload();
  spdlog::info("listening on http://{}:{}", config_.bind_address, server_->port());
  return Ok{};
}

int ApiServerRole::run() {
  io_.run();
  spdlog::info("api-server stopped");
  return 0;
}

void ApiServerRole::wait_for_reload() {
  reload_signal_.async_wait([this](const boost::system::error_code& error, int) {
    if (error)
      return;  // cancelled: shutting down
    reload_secrets();
    wait_for_reload();
  });
}

// SIGHUP: .env and the *_FILE secrets are read again, as at start. The order for a rotation
// without a refused request: this server first (both values work for TOKEN_ROTATION_GRACE),
// then every media server (docs/security.md).
void ApiServerRole::reload_secrets() {
  auto dotenv = load_dotenv_file(".env");
  auto fresh = dotenv ? api_server::load_api_server_config(process_environment(), *dotenv)
                      : Result<ApiServerConfig>(dotenv.error());
  if (!fresh) {
    spdlog::error("SIGHUP: configuration not reloaded, the running secrets stay in force: {}",
                  fresh.error().message);
    return;
  }
  const auto rotated = handlers_.rotate_secrets(fresh->api_secret_key, fresh->media_server_secret,
                                                config_.token_rotation_grace);
  for (const std::string& name : rotated) {
    spdlog::info("SIGHUP: {} rotated; its previous value is accepted for {} s more", name,
                 config_.token_rotation_grace.count() / 1000);
  }
  if (rotated.empty()) {
    spdlog::info("SIGHUP: configuration read again; no secret changed");
  }
}

void ApiServerRole::shut_down(int signal_number) {
  spdlog::info("received {}, shutting down", signal_number == SIGTERM ? "SIGTERM" : "SIGINT");
  reload_signal_.cancel();
  const auto peers = peers_;  // close() may run on_close, which edits peers_.
  for (auto& [id, peer] : peers)
    peer->close();
  server_->stop();
  // Closing handshakes with media servers are a courtesy, not a reason to linger.
  io_.stop();
}

// Credentials are checked from the header, before any body is read, behind the guard: a source
// that failed too often gets 429 without its secrets being compared.
std::optional<io::HttpResponse> ApiServerRole::check_header(const io::HttpRequest& request,
                                                            const io::RequestContext& context) {
  if (api_server::ApiHandlers::is_public_path(io::request_path(request))) {
    return std::nullopt;
  }
  const std::string source = source_address(context);
  const Instant now = io::monotonic_now();
  if (auto refusal = guard_.refusal(request, "api", source, now)) {
    return refusal;
  }
  auto rejection = handlers_.header_rejection(request);
  if (rejection) {
    guard_.failed("api", source,
                  std::string(request.method_string()) + " " +
                      std::string(io::request_path(request)) + " -> 401",
                  now);
  } else {
    guard_.succeeded(source);
  }
  return rejection;
}

io::HttpResponse ApiServerRole::on_request(const io::HttpRequest& request,
                                           const io::RequestContext& context) {
  auto response = handlers_.handle(request, context);
  log_request(request, response);
  publish_events();
  return response;
}

void ApiServerRole::log_request(const io::HttpRequest& request,
                                const io::HttpResponse& response) const {
  const auto path = io::request_path(request);
  const unsigned code = response.result_int();
  // Heartbeats and reads are frequent; changes and refusals are what an operator looks for.
  const bool routine =
      request.method() == io::http::verb::get || (path == "/api/media/heartbeat" && code == 200);
  const auto level = code >= 500   ? spdlog::level::err
                     : code >= 400 ? spdlog::level::warn
                     : routine     ? spdlog::level::debug
                                   : spdlog::level::info;
  spdlog::log(level, "{} {} -> {}{}{}", std::string(request.method_string()), std::string(path),
              code, code >= 400 ? " " : "", code >= 400 ? response.body() : std::string());
}

void ApiServerRole::publish_events() {
  const auto events = state_.take_events();
  if (events.empty())
    return;
  for (const auto& event : events) {
    const auto message = api_server::stage_event_message(event);
    spdlog::info(
        "{} {} -> {} media server connection(s)",
        event.type == api_server::StageEvent::Type::created ? "stage_created" : "stage_deleted",
        event.stage_arn, peers_.size());
    const auto peers = peers_;
    for (auto& [id, peer] : peers)
      peer->send_text(message);
  }
  if (!config_.state_file.empty()) {
    if (auto saved = api_server::write_file_atomically(
            config_.state_file, api_server::serialize_stages(state_), S_IRUSR | S_IWUSR);
        !saved) {
      spdlog::error("API_STATE_FILE: {}", saved.error().message);
    }
  }
}

io::WebSocketRoute ApiServerRole::websocket_route() {
  io::WebSocketRoute route;
  route.accept = [this](const io::HttpRequest& request) {
    if (auto reason = handlers_.websocket_rejection(request)) {
      spdlog::warn("GET /ws refused: {}", *reason);
      return false;
    }
    return true;
  };
  route.on_open = [this](std::shared_ptr<io::WebSocketPeer> peer, const io::HttpRequest& request) {
    const auto server_id = request.find("serverId") != request.end()
                               ? std::string(request["serverId"])
                               : std::string("(no serverId header)");
    spdlog::info("media server {} connected to /ws from {}", server_id, peer->remote());
    peers_[peer->id()] = std::move(peer);
  };
  route.on_message = [](const std::shared_ptr<io::WebSocketPeer>& peer, std::string_view text) {
    // Media servers have nothing to tell us here; heartbeats go over REST.
    spdlog::debug("/ws message from {} ignored ({} bytes)", peer->remote(), text.size());
  };
  route.on_close = [this](const std::shared_ptr<io::WebSocketPeer>& peer) {
    spdlog::info("/ws connection from {} closed", peer->remote());
    peers_.erase(peer->id());
  };
  return route;
}

}  // namespace

int run_api_server(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--help") == 0 || std::strcmp(argv[i], "-h") == 0) {
      std::fputs(api_server::format_api_server_help().c_str(), stdout);
      return 0;
    }
  }
  auto dotenv = load_dotenv_file(".env");
  if (!dotenv) {
    std::fprintf(stderr, "%s\n", dotenv.error().message.c_str());
    return 2;
  }
  auto config = api_server::load_api_server_config(process_environment(), *dotenv);
  if (!config) {
    std::fprintf(stderr, "%s\n", config.error().message.c_str());
    return 2;
  }
  if (auto logging = setup_logging({config->log_level, config->log_format, "api-server", ""});
      !logging) {
    std::fprintf(stderr, "%s\n", logging.error().message.c_str());
    return 2;
  }
  if (auto made = make_data_dir(config->data_dir); !made) {
    spdlog::error("cannot start: {}", made.error().message);
    return 1;
  }
  auto key = load_or_create_key(config->token_key_file);
  if (!key) {
    spdlog::error("cannot start: {}", key.error().message);
    return 1;
  }
  ApiServerRole role(std::move(*config), std::move(*key));
  if (auto started = role.start(); !started) {
    spdlog::error("cannot start: {}", started.error().message);
    return 1;
  }
  return role.run();
}

}  // namespace ivs::app
