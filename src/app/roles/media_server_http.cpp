// MediaServer, HTTP edge half: the routes it serves (WHIP, WHEP, health, status, metrics,
// pages), the listener options that carry the edge limits (docs/security.md), the optional
// HEALTH_PORT listener, HTTPS on PORT (TLS_CERT_FILE, renewed on SIGHUP) and the counters of
// what the edge refused. The media plane, the control plane and the lifecycle are media_server.cpp.
#include "app/roles/media_server.hpp"

#include <spdlog/spdlog.h>

#include "app/web/edge_counters.hpp"
#include "app/web/metrics.hpp"
#include "app/web/web_routes.hpp"
#include "app/web/whip_routes.hpp"
#include "io/clock.hpp"
#include "io/tls_server_context.hpp"

namespace ivs::app {

const char* version();  // version.cpp

// The channel lookups return null before start() (and after a failed start): 404, not a crash.
// Credentials are checked behind the AuthGuard (failures counted, logged, throttled per address)
// and, through the router's header checks, before a body is read.
void MediaServer::add_media_routes() {
  auto channel = [this](const io::RequestContext&) { return channel_.get(); };
  auto now = [] { return io::monotonic_now(); };
  WhipEndpoint whip;
  whip.role = SessionRole::publisher;
  whip.pattern = "/whip";
  whip.channel = channel;
  whip.authorize = address_allowlist_authorizer(
      config_.whip_ingest_allowed, "WHIP_INGEST_ALLOWED_CIDRS",
      guarded_authorizer(auth_guard_, "whip",
                         bearer_authorizer(secrets_.ingest_token, "WHIP_INGEST_TOKEN", true, now),
                         now));
  if (config_.refuse_second_publisher) {
    // A publisher that was accepted but never connected must not lock the broadcaster out
    // (issue 13): the new authenticated offer replaces it.
    whip.admit = [this](const io::HttpRequest&, const io::RequestContext&,
                        RelayChannel& relay) -> std::optional<io::HttpResponse> {
      if (const auto stale = admission_.stale_publisher(relay.status().publisher)) {
        spdlog::info(
            "WHIP: a publisher session that never connected is replaced by a new offer "
            "(WHIP_PUBLISHER_POLICY=refuse applies to connected publishers)");
        relay.end_session(*stale, SessionRole::publisher);
      }
      return std::nullopt;
    };
  }
  whip.on_accepted = [this](const SessionAccepted& accepted, const io::RequestContext&) {
    admission_.publisher_accepted(accepted.id);
  };
  mount_whip_endpoint(router_, std::move(whip));

  WhipEndpoint whep;
  whep.role = SessionRole::viewer;
  whep.pattern = "/whep";
  whep.channel = channel;
  if (!config_.whep_token.empty()) {
    whep.authorize = guarded_authorizer(
        auth_guard_, "whep", bearer_authorizer(secrets_.whep_token, "WHEP_TOKEN", true, now), now);
  } else if (!config_.whep_open) {
    whep.authorize = closed_authorizer(
        "WHEP playback is closed on this server: set WHEP_TOKEN (viewers send "
        "'Authorization: Bearer <token>') or WHEP_OPEN=true");
  }
  whep.admit = [this](const io::HttpRequest& request, const io::RequestContext& context,
                      RelayChannel& relay) -> std::optional<io::HttpResponse> {
    const ViewerCounts counts = viewer_counts(relay.status());
    if (auto refused =
            admission_.admit_viewer(counts, source_address(context), io::monotonic_now())) {
      return session_refused_response(request, *refused);
    }
    return std::nullopt;
  };
  whep.on_accepted = [this](const SessionAccepted&, const io::RequestContext& context) {
    admission_.viewer_accepted(source_address(context), io::monotonic_now());
  };
  mount_whip_endpoint(router_, std::move(whep));
  io::CorsOptions cors;
  cors.allowed_origins = config_.cors_allow_origins;
  router_.enable_cors(cors);
}

void MediaServer::add_health_routes(io::HttpRouter& router) {
  router.get("/health", [this](const io::HttpRequest&, const io::RequestContext&) {
    return health_response(HealthProbe::basic, health_snapshot());
  });
  router.get("/health/ready", [this](const io::HttpRequest&, const io::RequestContext&) {
    return health_response(HealthProbe::ready, health_snapshot());
  });
  router.get("/health/live", [this](const io::HttpRequest&, const io::RequestContext&) {
    return health_response(HealthProbe::live, health_snapshot());
  });
}

void MediaServer::add_builtin_routes() {
  add_health_routes(router_);
  router_.get("/api/status", [this](const io::HttpRequest&, const io::RequestContext&) {
    return io::json_response(io::http::status::ok, status_json(status_snapshot()));
  });
  router_.get("/metrics", [this](const io::HttpRequest&, const io::RequestContext&) {
    return io::text_response(io::http::status::ok, render_metrics(status_snapshot()),
                             "text/plain; version=0.0.4; charset=utf-8");
  });
  add_media_server_pages(router_, io_, config_, secrets_, auth_guard_);
}

io::HttpServer::Options MediaServer::http_options() const {
  io::HttpServer::Options options;
  options.bind_address = config_.http_bind_ip;
  options.port = config_.port;
  options.tls_context = tls_context_;
  options.server_name = std::string("ivs-media-server/") + version();
  // The largest legitimate body is an SDP offer (64 KiB, whip_routes.hpp); nothing bigger is
  // ever buffered.
  options.max_body_bytes = std::size_t{64} * 1024;
  options.header_timeout = config_.http_header_timeout;
  options.request_timeout = config_.http_request_timeout;
  options.max_connections = config_.http_max_connections;
  options.max_connections_per_ip = config_.http_max_connections_per_ip;
  options.reserved_connections = config_.http_reserved_connections;
  options.rate_limit_per_ip = config_.http_rate_limit;
  return options;
}

// HEALTH_PORT: probes get a listener of their own that serves nothing else, so no load on PORT
// can reach them (and PORT need not be exposed to the kubelet's network).
Status MediaServer::start_health_listener() {
  if (config_.health_port == 0) {
    return Ok{};
  }
  io::HttpRouter health;
  add_health_routes(health);
  io::HttpServer::Options options = http_options();
  options.port = config_.health_port;
  // Plain HTTP whatever PORT speaks: probes carry no secret, and a kubelet or load balancer
  // probing a certificate it cannot verify is one more thing to get wrong.
  options.tls_context = nullptr;
  options.max_connections = 64;
  options.max_connections_per_ip = 16;
  options.rate_limit_per_ip = 0;
  health_server_ = std::make_unique<io::HttpServer>(io_, options, health.as_handler());
  if (auto status = health_server_->start(); !status) {
    return make_error("HEALTH_PORT: " + status.error().message);
  }
  spdlog::info("health probes also on http://{}:{}/health/live", options.bind_address,
               health_server_->port());
  return Ok{};
}

Status MediaServer::load_listener_tls() {
  if (config_.tls_cert_file.empty()) {
    return Ok{};
  }
  auto context = io::load_server_tls_context(config_.tls_cert_file, config_.tls_key_file);
  if (!context) {
    return make_error("TLS_CERT_FILE/TLS_KEY_FILE: " + context.error().message +
                      "; fix the files, or unset both variables for plain HTTP");
  }
  tls_context_ = std::move(*context);
  spdlog::info("HTTPS on port {}: {}", config_.port,
               io::describe_server_certificate(*tls_context_));
  return Ok{};
}

// cert-manager, certbot and the like renew by rewriting the files, so they are read again on
// every SIGHUP, changed or not. Turning TLS on or off needs a restart (the URLs OBS has change).
void MediaServer::reload_listener_tls(const Config& fresh, SecretReload& report) {
  const bool was_tls = !config_.tls_cert_file.empty();
  const bool is_tls = !fresh.tls_cert_file.empty();
  if (!was_tls || !is_tls || !http_server_) {
    // Turning HTTPS on or off changes how the listener accepts: that takes a restart.
    report.need_restart.insert(report.need_restart.end(), report.reloadable.begin(),
                               report.reloadable.end());
    report.reloadable.clear();
    return;
  }
  report.reloadable.clear();  // handled here, whether the paths changed or the files did
  auto context = io::load_server_tls_context(fresh.tls_cert_file, fresh.tls_key_file);
  if (!context) {
    spdlog::error("SIGHUP: TLS certificate not reloaded, the previous one is still served: {}",
                  context.error().message);
    return;
  }
  for (const char* name : {"TLS_CERT_FILE", "TLS_KEY_FILE"}) {
    config_.effective[name] = fresh.effective.at(name);
  }
  config_.tls_cert_file = fresh.tls_cert_file;
  config_.tls_key_file = fresh.tls_key_file;
  tls_context_ = std::move(*context);
  http_server_->set_tls_context(tls_context_);
  report.tls_reloaded = true;
  spdlog::info("SIGHUP: TLS certificate reloaded; new connections get {}",
               io::describe_server_certificate(*tls_context_));
}

SecurityCounters MediaServer::security_counters() const {
  return edge_counters(*auth_guard_, http_server_.get(), {"whip", "whep", "dashboard"});
}

}  // namespace ivs::app
