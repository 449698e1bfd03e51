#include "app/roles/media_server.hpp"

#include <spdlog/spdlog.h>

#include "app/egress/tracking_only_egress.hpp"
#include "app/relay/media_plane.hpp"
#include "app/web/metrics.hpp"
#include "app/web/web_routes.hpp"
#include "io/clock.hpp"

namespace ivs::app {

const char* version();  // version.cpp

namespace {

double seconds_between(Instant from, Instant to) {
  return std::chrono::duration<double>(to - from).count();
}

AuthGuardOptions guard_options(const Config& config) {
  AuthGuardOptions options;
  options.max_failures = config.auth_failure_limit;
  options.window = config.auth_failure_window;
  return options;
}

SessionAdmissionOptions admission_options(const Config& config) {
  SessionAdmissionOptions options;
  options.max_viewers = config.whep_max_viewers;
  options.max_connecting = config.whep_max_connecting;
  options.max_connecting_per_ip = config.whep_max_connecting_per_ip;
  options.connect_timeout = config.session_connect_timeout;
  return options;
}

}  // namespace

MediaServer::MediaServer(boost::asio::io_context& io, Config config,
                         std::unique_ptr<EgressFactory> egress)
    : io_(io),
      config_(std::move(config)),
      started_at_(io::monotonic_now()),
      egress_(std::move(egress)),
      http_client_(io),
      secrets_(secrets_from_config(config_)),
      auth_guard_(std::make_shared<AuthGuard>(guard_options(config_))),
      admission_(admission_options(config_)) {
  add_builtin_routes();
  add_media_routes();
}

MediaServer::MediaServer(boost::asio::io_context& io, Config config, EgressFactoryMaker make_egress)
    : io_(io),
      config_(std::move(config)),
      started_at_(io::monotonic_now()),
      make_egress_(std::move(make_egress)),
      http_client_(io),
      secrets_(secrets_from_config(config_)),
      auth_guard_(std::make_shared<AuthGuard>(guard_options(config_))),
      admission_(admission_options(config_)) {
  add_builtin_routes();
  add_media_routes();
}

namespace {

// RTC_ANNOUNCED_IP, else SERVER_IP when it is an IP literal (config.hpp), else nothing: the
// host addresses themselves are advertised.
std::string announced_ip(const Config& config) {
  if (!config.rtc_announced_ip.empty()) {
    return config.rtc_announced_ip;
  }
  if (SocketAddress::from_ip(config.server_ip, 0)) {
    return config.server_ip;
  }
  return {};
}

}  // namespace

Status MediaServer::start_media() {
  MediaPlaneOptions plane;
  plane.bind_ip = config_.rtc_bind_ip;
  plane.udp_port = config_.rtc_udp_port;
  plane.announced_ip = announced_ip(config_);
  // Connected viewers, connecting ones (their own quota, SessionAdmission) and publishers.
  plane.max_sessions = config_.whep_max_viewers + config_.whep_max_connecting + 16;
  auto started = MediaPlane::start(io_, plane);
  if (!started) {
    return started.error();
  }
  plane_ = std::move(*started);
  RelayChannelOptions channel;
  channel.name = "serve";
  channel.refuse_second_publisher = config_.refuse_second_publisher;
  // The channel's own cap counts connecting viewers too; SessionAdmission keeps each kind to
  // its limit first, so this cap (both added) is never what refuses a viewer.
  channel.max_viewers = config_.whep_max_viewers + config_.whep_max_connecting;
  channel.connect_timeout = config_.session_connect_timeout;
  channel.ingest_max_bitrate_bps = config_.ingest_max_bitrate_kbps * 1000;
  channel.reject_video_over_ivs_limits = config_.reject_video_over_ivs_limits;
  channel.on_publisher_live_changed = [this](bool /*live*/) {
    if (control_) {
      control_->publisher_changed();
    }
  };
  channel_ = std::make_unique<RelayChannel>(io_, *plane_, channel);
  std::string hosts;
  for (const auto& address : plane_->host_addresses()) {
    hosts += (hosts.empty() ? "" : ", ") + address.ip_string();
  }
  spdlog::info(
      "RTC UDP port {} (host candidates: {}{}); WHIP ingest {}",
      plane_->local_address().to_string(), hosts,
      plane.announced_ip.empty() ? "" : ", announced as " + plane.announced_ip,
      config_.whip_ingest_token.empty() ? "DISABLED (set WHIP_INGEST_TOKEN)" : "at POST /whip");
  if (!config_.ingest_pull_url.empty()) {
    WhepPullOptions pull;
    pull.url = config_.ingest_pull_url;
    pull.token = config_.ingest_pull_token;
    pull.bind_ip = config_.rtc_bind_ip;
    if (!plane.announced_ip.empty()) {
      pull.announced_ip = plane.announced_ip;
    }
    ingest_pull_ = std::make_unique<IngestPull>(io_, *channel_, pull, plane_->certificate());
    ingest_pull_->start();
  }
  if (!egress_) {
    egress_ = make_egress_ ? make_egress_(*channel_) : nullptr;
  }
  if (!egress_) {
    egress_ = std::make_unique<TrackingOnlyEgress>(io_);
  }
  return Ok{};
}

MediaServer::~MediaServer() = default;

Status MediaServer::start() {
  if (auto media = start_media(); !media) {
    return media;
  }
  if (auto tls = load_listener_tls(); !tls) {
    return tls;
  }
  io::HttpServer::Options options = http_options();
  options.header_check = router_.as_header_check();
  http_server_ = std::make_unique<io::HttpServer>(io_, options, router_.as_handler());
  if (auto status = http_server_->start(); !status) {
    return status;
  }
  spdlog::info("listening on {}://{}:{}", tls_context_ ? "https" : "http", options.bind_address,
               http_server_->port());
  if (auto status = start_health_listener(); !status) {
    return status;
  }
  if (config_.admin_token.empty() && !config_.whip_ingest_token.empty()) {
    spdlog::warn(
        "ADMIN_TOKEN is unset: the dashboard's stage buttons accept WHIP_INGEST_TOKEN, "
        "so every publisher can delete stages; set ADMIN_TOKEN to separate them");
  }
  spdlog::info("WHEP: {}", !config_.whep_token.empty() ? "bearer token required (WHEP_TOKEN)"
                           : config_.whep_open         ? "open to anyone (WHEP_OPEN=true)"
                                               : "closed (set WHEP_TOKEN or WHEP_OPEN=true)");

  ApiClientOptions api{.base_url = config_.api_server_url,
                       .api_key = config_.api_secret_key,
                       .media_secret = config_.media_server_secret,
                       .server_id = config_.server_id,
                       .server_ip = config_.server_ip,
                       .port = http_server_->port(),
                       .whip_endpoint = config_.whip_endpoint,
                       .request_timeout = config_.api_request_timeout};
  auto ws_url = websocket_url(config_.api_server_url);
  if (!ws_url) {
    return ws_url.error();
  }
  ControlPlaneOptions control{
      .heartbeat_interval = config_.heartbeat_interval,
      .stage_sync_interval = config_.stage_sync_interval,
      .auto_sync = config_.enable_auto_sync,
      .retry = ControlPlaneOptions{}.retry,
      .websocket_url = *ws_url,
      .websocket_headers = auth_headers(ApiCall::websocket, api),
      .publisher_active = [this] { return channel_ && channel_->publisher_live(); }};
  engine::StageReconcilerOptions reconcile;
  reconcile.max_concurrent_connects = config_.max_concurrent_connects;
  reconcile.attempt_timeout =
      std::max<Duration>(std::chrono::seconds(30), config_.api_request_timeout * 2);
  reconcile.max_session_age = config_.stage_republish_interval;  // IVS ends sessions at 24 h
  if (aws::stage_source_is_ivs(config_)) {
    if (auto status = start_ivs_source(reconcile); !status) {
      return status;
    }
  } else {
    api_ = std::make_unique<ApiClient>(http_client_, api);
    stages_ = std::make_unique<StageManager>(
        io_, reconcile,
        [this](const std::string& arn, TokenCallback done) {
          api_->fetch_token(arn, std::move(done));
        },
        *egress_, random_);
    control_ = std::make_unique<ControlPlane>(io_, *api_, *stages_, random_, control);
  }
  if (!config_.whip_destinations.empty()) {
    static_destinations_ = std::make_unique<StaticDestinations>(io_, config_.whip_destinations,
                                                                *egress_, random_, reconcile);
    spdlog::info("publishing to {} static WHIP destinations (WHIP_DESTINATIONS)",
                 config_.whip_destinations.size());
    static_destinations_->start();
  }
  if (egress_->mode() == "tracking-only") {
    spdlog::warn("{}: stages are tracked, nothing is published to IVS yet", kTrackingOnlyNote);
  }
  start_sharding();
  if (control_) {
    control_->start();
  }
  return Ok{};
}

// STAGE_SOURCE=ivs: IVS Real-Time lists the stages and issues the tokens (app/aws/); the
// StageManager and everything behind it are the same as in api mode.
Status MediaServer::start_ivs_source(const engine::StageReconcilerOptions& reconcile) {
  auto stack = aws::make_ivs_stack(io_, http_client_, random_, config_);
  if (!stack) {
    return stack.error();
  }
  ivs_ = std::make_unique<aws::IvsStack>(std::move(*stack));
  stages_ = std::make_unique<StageManager>(
      io_, reconcile,
      [this](const std::string& arn, TokenCallback done) {
        ivs_->source->fetch_token(arn, std::move(done));
      },
      *egress_, random_);
  ivs_->source->attach(*stages_);
  ivs_->source->start();
  return Ok{};
}

void MediaServer::stop(std::function<void()> done) {
  if (stopping_) {
    return;
  }
  stopping_ = true;  // /health/ready answers 503 from now on
  if (control_) {
    // Silenced first, so the publisher's end below rides on the final heartbeat instead of
    // racing it with an extra one (ControlPlane::publisher_changed).
    control_->begin_stop();
  }
  if (ivs_) {
    ivs_->source->stop();
  }
  if (shard_peers_) {
    shard_peers_->stop();
    shard_timer_->cancel();
  }
  if (ingest_pull_) {
    ingest_pull_->stop();  // the origin gets a DTLS close_notify and the WHEP DELETE
  }
  if (channel_) {
    channel_->close_all();  // the publisher and viewers get a DTLS close_notify
  }
  if (!stages_) {
    if (plane_) {
      plane_->close();
    }
    boost::asio::post(io_, std::move(done));
    return;
  }
  stop_egress([this, done = std::move(done)]() mutable {
    auto finish = [this, done = std::move(done)] {
      plane_->close();
      http_server_->stop();
      if (health_server_) {
        health_server_->stop();
      }
      done();
    };
    if (control_) {
      control_->finish_stop(std::move(finish));
    } else {
      finish();
    }
  });
}

// Closes the API-managed and the static stage sessions in parallel (each sends its WHIP
// DELETE); `done` runs once both managers have finished.
void MediaServer::stop_egress(std::function<void()> done) {
  const std::size_t open =
      stages_->open_sessions() +
      (static_destinations_ ? static_destinations_->manager().open_sessions() : 0);
  spdlog::info("closing {} stage sessions", open);
  auto remaining = std::make_shared<int>(static_destinations_ ? 2 : 1);
  auto one_done = [remaining, done = std::move(done)] {
    if (--*remaining == 0) {
      done();
    }
  };
  stages_->shutdown(one_done);
  if (static_destinations_) {
    static_destinations_->shutdown(one_done);
  }
}

std::uint16_t MediaServer::port() const {
  return http_server_ ? http_server_->port() : 0;
}

HealthSnapshot MediaServer::health_snapshot() const {
  HealthSnapshot s;
  s.server_id = config_.server_id;
  s.version = version();
  s.uptime_seconds = seconds_between(started_at_, io::monotonic_now());
  s.publisher_active = channel_ && channel_->publisher_live();
  s.connected_stages = stages_ ? stages_->connected_count() : 0;
  s.active_connections = stages_ ? stages_->open_sessions() : 0;
  if (static_destinations_) {
    s.connected_stages += static_destinations_->manager().connected_count();
    s.active_connections += static_destinations_->manager().open_sessions();
  }
  s.registered = control_ && control_->ever_registered();
  s.api_reachable = control_ && control_->ready();
  if (ivs_) {  // "registered" means: the stage list has been read from IVS
    s.registered = ivs_->source->status().listed;
    s.api_reachable = s.registered && ivs_->source->status().last_error.empty();
  }
  s.shutting_down = stopping_;
  return s;
}

StatusSnapshot MediaServer::status_snapshot() const {
  StatusSnapshot out;
  out.health = health_snapshot();
  out.egress_mode = egress_ ? egress_->mode() : "tracking-only";
  if (channel_) {
    out.channel = channel_->status();
  }
  if (ingest_pull_) {
    out.ingest_pull = ingest_pull_->status();
  }
  out.shard_json = shard_status_json();
  if (out.egress_mode == "tracking-only") {
    out.egress_note = kTrackingOnlyNote;
  }
  out.websocket_connected = control_ && control_->websocket_connected();
  if (control_ && control_->last_sync()) {
    out.last_sync_iso8601 = iso8601_from_unix_micros(control_->last_sync()->unix_micros);
  }
  if (ivs_) {
    out.stage_source_json = aws::ivs_status_json(*ivs_);
    const aws::IvsCounters& counters = ivs_->client->counters();
    out.aws_api_requests = counters.requests;
    out.aws_api_errors = {{"throttled", counters.throttled},
                          {"access_denied", counters.access_denied},
                          {"clock_skew", counters.clock_skew}};
    if (const auto synced = ivs_->source->status().last_sync_unix) {
      out.last_sync_iso8601 = iso8601_from_unix_micros(*synced * 1000000);
    }
  }
  if (stages_) {
    add_stage_views(out, *stages_);
  }
  if (static_destinations_) {
    add_stage_views(out, static_destinations_->manager());
  }
  out.security = security_counters();
  return out;
}

void MediaServer::add_stage_views(StatusSnapshot& out, const StageManager& manager) const {
  const Instant now = io::monotonic_now();
  const WallTime wall = io::wall_now();
  const auto media = manager.stats_by_stage();
  for (auto& status : manager.snapshot()) {
    StageStatusView view;
    const auto ago = std::chrono::duration_cast<std::chrono::microseconds>(now - status.since);
    view.since_iso8601 = iso8601_from_unix_micros(wall.unix_micros - ago.count());
    view.since_seconds_ago = seconds_between(status.since, now);
    if (status.next_event) {
      view.next_event_in_seconds = std::max(0.0, seconds_between(now, *status.next_event));
    }
    if (const auto found = media.find(status.stage_arn); found != media.end()) {
      view.media = found->second;
    }
    view.status = std::move(status);
    out.stages.push_back(std::move(view));
  }
}

}  // namespace ivs::app
