#include "app/roles/stage_role.hpp"

#include <spdlog/spdlog.h>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/json.hpp>

#include <charconv>
#include <fstream>
#include <iterator>

#include "app/relay/media_plane.hpp"
#include "app/relay/relay_channel.hpp"
#include "app/web/dashboard_api.hpp"
#include "app/web/whip_routes.hpp"
#include "engine/backoff.hpp"
#include "io/clock.hpp"
#include "io/http_client.hpp"
#include "io/http_server.hpp"

namespace ivs::app {

namespace {

namespace http = io::http;

io::HttpResponse plain(const io::HttpRequest& request, http::status status, std::string body) {
  return io::text_response(status, std::move(body) + "\n", "text/plain; charset=utf-8",
                           request.version());
}

Result<std::uint16_t> parse_port(const std::string& name, const std::string& value) {
  unsigned port = 0;
  auto [end, error] = std::from_chars(value.data(), value.data() + value.size(), port);
  if (error != std::errc{} || end != value.data() + value.size() || port > 65535) {
    return make_error(name + ": \"" + value + "\" is not a port number (0-65535)");
  }
  return static_cast<std::uint16_t>(port);
}

}  // namespace

std::string stage_usage() {
  return "usage: media-server stage\n\n"
         "A local stand-in for Amazon IVS Real-Time stages: WHIP publishers with a participant\n"
         "token (POST /whip/<stageId>), WHEP viewers (POST /whep/<stageId>), GET /api/stages.\n"
         "Environment:\n"
         "  STAGE_PORT            HTTP port (3002)\n"
         "  STAGE_RTC_UDP_PORT    the one UDP port of every WebRTC session (50002)\n"
         "  STAGE_BIND_IP         address for both (0.0.0.0)\n"
         "  STAGE_ANNOUNCED_IP    IP advertised in ICE candidates (1:1 NAT, containers)\n"
         "  STAGE_API_SERVER_URL  where GET /api/keys gives the token key (http://localhost:3000)\n"
         "  STAGE_PUBLIC_KEY_FILE PEM public key instead of the API server\n"
         "  STAGE_FAULTS          test knob: \"<stageId>=500;<stageId>=hang\"\n"
         "  LOG_LEVEL             debug|info|warn|error (info)\n";
}

Result<StageOptions> load_stage_options(
    const std::function<std::optional<std::string>(const std::string&)>& lookup) {
  StageOptions options;
  auto text = [&](const std::string& name, std::string& out) {
    if (auto value = lookup(name); value && !value->empty()) {
      out = *value;
    }
  };
  text("STAGE_BIND_IP", options.bind_ip);
  text("STAGE_ANNOUNCED_IP", options.announced_ip);
  text("STAGE_API_SERVER_URL", options.api_server_url);
  text("STAGE_PUBLIC_KEY_FILE", options.public_key_file);
  for (auto [name, target] : {std::pair{"STAGE_PORT", &options.http_port},
                              std::pair{"STAGE_RTC_UDP_PORT", &options.rtc_udp_port}}) {
    if (auto value = lookup(name); value && !value->empty()) {
      auto port = parse_port(name, *value);
      if (!port) {
        return port.error();
      }
      *target = *port;
    }
  }
  if (auto value = lookup("STAGE_FAULTS"); value && !value->empty()) {
    auto faults = parse_stage_faults(*value);
    if (!faults) {
      return faults.error();
    }
    options.faults = std::move(*faults);
  }
  while (!options.api_server_url.empty() && options.api_server_url.back() == '/') {
    options.api_server_url.pop_back();
  }
  return options;
}

// The /api/keys fetch loop: retried with backoff until the API server answers with a key.
struct StageServer::KeyFetch {
  explicit KeyFetch(boost::asio::io_context& io)
      : client(io), timer(io), backoff({std::chrono::milliseconds(250), std::chrono::seconds(5)}) {}
  io::HttpClient client;
  boost::asio::steady_timer timer;
  engine::Backoff backoff;
  engine::SecureRandom random;
  bool stopped = false;
  bool refresh_in_flight = false;
  std::optional<Instant> last_refresh;
};

namespace {
// Often enough that a publisher retrying with backoff (1-2 s first) finds the new key on its
// next attempt or the one after; rare enough that wrong tokens cannot turn the stage role into
// a load generator against the API server.
constexpr Duration kKeyRefreshInterval = std::chrono::seconds(5);
}  // namespace

StageServer::StageServer(boost::asio::io_context& io, StageOptions options)
    : io_(io), options_(std::move(options)) {}

StageServer::~StageServer() {
  stop();
}

Status StageServer::start() {
  if (!options_.public_key_file.empty()) {
    std::ifstream file(options_.public_key_file);
    if (!file) {
      return make_error("STAGE_PUBLIC_KEY_FILE: cannot read " + options_.public_key_file);
    }
    const std::string pem((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
    auto key = jwt::Es384Key::from_public_pem(pem);
    if (!key) {
      return make_error("STAGE_PUBLIC_KEY_FILE: " + key.error().message);
    }
    set_key(std::move(*key));
  }
  MediaPlaneOptions plane;
  plane.bind_ip = options_.bind_ip;
  plane.udp_port = options_.rtc_udp_port;
  plane.announced_ip = options_.announced_ip;
  auto started = MediaPlane::start(io_, plane);
  if (!started) {
    return make_error("STAGE_RTC_UDP_PORT: " + started.error().message);
  }
  plane_ = std::move(*started);
  add_routes();
  io::HttpServer::Options http;
  http.bind_address = options_.bind_ip;
  http.port = options_.http_port;
  http.server_name = "ivs-media-server-stage";
  // The media server republishes every stage from one address: the per-address limits are
  // sized for that (the stage role is a local stand-in, not an Internet-facing service).
  http.max_connections_per_ip = 512;
  http.max_body_bytes = std::size_t{64} * 1024;
  http.header_check = router_.as_header_check();
  http_ = std::make_unique<io::HttpServer>(io_, http, router_.as_handler());
  if (auto listening = http_->start(); !listening) {
    return make_error("STAGE_PORT: " + listening.error().message);
  }
  spdlog::info("stage: HTTP on {}:{}, WebRTC UDP on {}", options_.bind_ip, http_->port(),
               plane_->local_address().to_string());
  if (!key_) {
    fetch_ = std::make_shared<KeyFetch>(io_);
    fetch_key();
  }
  return Ok{};
}

void StageServer::stop() {
  if (fetch_) {
    fetch_->stopped = true;
    fetch_->timer.cancel();
  }
  for (auto& [id, channel] : channels_) {
    channel->close_all();
  }
  if (http_) {
    http_->stop();
  }
  if (plane_) {
    plane_->close();
  }
}

void StageServer::set_key(jwt::Es384Key key) {
  spdlog::info("stage: participant tokens are verified with key {}", key.thumbprint());
  key_ = std::make_unique<jwt::Es384Key>(std::move(key));
}

std::uint16_t StageServer::http_port() const {
  return http_ ? http_->port() : 0;
}

RelayChannel* StageServer::channel(const std::string& stage_id) {
  auto found = channels_.find(stage_id);
  return found == channels_.end() ? nullptr : found->second.get();
}

io::HttpClient::Request StageServer::keys_request() const {
  io::HttpClient::Request request;
  request.url = options_.api_server_url + "/api/keys";
  request.timeout = std::chrono::seconds(5);
  return request;
}

void StageServer::fetch_key() {
  std::weak_ptr<KeyFetch> weak = fetch_;
  fetch_->client.request(keys_request(), [this, weak](Result<io::HttpClient::Response> response) {
    auto fetch = weak.lock();
    if (!fetch || fetch->stopped || key_) {
      return;
    }
    on_keys_answer(std::move(response), false);
  });
}

void StageServer::refresh_key_after_refusal() {
  if (!fetch_ || fetch_->stopped || fetch_->refresh_in_flight || !key_) {
    return;
  }
  const Instant now = io::monotonic_now();
  if (fetch_->last_refresh && now - *fetch_->last_refresh < kKeyRefreshInterval) {
    return;
  }
  fetch_->last_refresh = now;
  fetch_->refresh_in_flight = true;
  std::weak_ptr<KeyFetch> weak = fetch_;
  fetch_->client.request(keys_request(), [this, weak](Result<io::HttpClient::Response> response) {
    auto fetch = weak.lock();
    if (!fetch || fetch->stopped) {
      return;
    }
    fetch->refresh_in_flight = false;
    on_keys_answer(std::move(response), true);
  });
}

// One /api/keys answer. The first fetch retries with backoff until a key arrives; a refresh is
// a single attempt (the next refused token triggers the next one).
void StageServer::on_keys_answer(Result<io::HttpClient::Response> response, bool refresh) {
  std::string problem;
  if (!response) {
    problem = response.error().message;
  } else if (response->status != 200) {
    problem = "GET /api/keys: HTTP " + std::to_string(response->status);
  } else if (auto key = key_from_jwks(response->body); !key) {
    problem = key.error().message;
  } else {
    if (!key_ || key->thumbprint() != key_->thumbprint()) {
      if (key_) {
        spdlog::warn("stage: the API server's token key changed (kid {} -> {})", key_->thumbprint(),
                     key->thumbprint());
      }
      set_key(std::move(*key));
    }
    return;
  }
  if (refresh) {
    spdlog::debug("stage: token key refresh failed ({})", problem);
    return;
  }
  const Duration delay = fetch_->backoff.next_delay(fetch_->random);
  // Log the first failure and then every tenth, so a slow API start is not a wall of lines.
  if (fetch_->backoff.failures() == 1 || fetch_->backoff.failures() % 10 == 0) {
    spdlog::warn("stage: no verification key yet ({}); retrying", problem);
  }
  std::weak_ptr<KeyFetch> weak = fetch_;
  fetch_->timer.expires_after(delay);
  fetch_->timer.async_wait([this, weak](const boost::system::error_code& error) {
    auto alive = weak.lock();
    if (!error && alive && !alive->stopped) {
      fetch_key();
    }
  });
}

RelayChannel* StageServer::create_channel(const std::string& stage_id) {
  if (channels_.size() >= options_.max_stages) {
    spdlog::warn("stage: refusing stage {}: {} stages exist already", stage_id,
                 options_.max_stages);
    return nullptr;
  }
  RelayChannelOptions channel;
  channel.name = stage_id;
  auto created = std::make_unique<RelayChannel>(io_, *plane_, channel);
  RelayChannel* raw = created.get();
  channels_.emplace(stage_id, std::move(created));
  spdlog::info("stage: stage {} created", stage_id);
  return raw;
}

RelayChannel* StageServer::channel_for_whip(const std::string& stage_id) {
  if (!valid_stage_id(stage_id)) {
    return nullptr;
  }
  if (RelayChannel* existing = channel(stage_id)) {
    return existing;
  }
  return create_channel(stage_id);
}

std::optional<io::HttpResponse> StageServer::authorize_whip(const io::HttpRequest& request,
                                                            const io::RequestContext& context) {
  const std::string stage_id = context.path_param("stage");
  if (auto fault = options_.faults.find(stage_id); fault != options_.faults.end()) {
    // The hang fault cannot be expressed with a synchronous handler; it answers 503 after
    // logging, which a client also treats as a failed publish.
    spdlog::warn("stage: injected fault on stage {} (STAGE_FAULTS)", stage_id);
    return plain(request,
                 fault->second == StageFault::http_500 ? http::status::internal_server_error
                                                       : http::status::service_unavailable,
                 "injected fault for stage " + stage_id + " (STAGE_FAULTS)");
  }
  if (!key_) {
    auto response = plain(request, http::status::service_unavailable,
                          "the stage has no token verification key yet (fetching " +
                              options_.api_server_url + "/api/keys); retry shortly");
    response.set(http::field::retry_after, "1");
    return response;
  }
  if (auto refusal = check_stage_token(*key_, request[http::field::authorization], stage_id,
                                       io::unix_seconds_now())) {
    // Logged (at a rate limit, with a count) by the AuthGuard this check runs behind.
    spdlog::debug("stage: WHIP POST for {} refused: {}", stage_id, refusal->message);
    if (refusal->http_status == 401) {
      refresh_key_after_refusal();
    }
    return plain(request, static_cast<http::status>(refusal->http_status), refusal->message);
  }
  return std::nullopt;
}

}  // namespace ivs::app
