// The `serve` role: the media server process (DESIGN.md §2.2). It wires the control plane
// (ControlPlane + StageManager over ApiClient) to one HTTP listener on PORT and runs everything
// on one io_context, with the stage legs on media workers (media_workers.hpp) when
// MEDIA_WORKERS > 1. Routes are added through router() before start(): the WHIP ingest, WHEP,
// metrics and the pages share the one listener.
//
// The HTTP edge is hardened as docs/security.md describes: per-address connection and request
// limits, a header deadline, reserved slots for /health* (or a separate HEALTH_PORT listener),
// credentials and Content-Length checked before any body is read, failed authentications
// counted, logged at a rate limit and throttled per address (AuthGuard), and WHEP viewers that
// never connect kept to their own small quota (SessionAdmission).
//
// Graceful shutdown (SIGTERM/SIGINT), bounded by SHUTDOWN_TIMEOUT:
//   1. /health/ready answers 503 "shutting_down" at once (load balancers stop sending)
//   2. timers and WebSocket events are silenced (ControlPlane::begin_stop)
//   3. the WHIP publisher and WHEP viewers are closed (DTLS close_notify), then every egress
//      session is closed through the EgressSession interface
//   4. a last heartbeat with connectedStages 0
//   5. the WebSocket is closed, the listener stopped, exit code 0
// If any step hangs, the deadline timer ends the process with exit code 1.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <functional>
#include <memory>

#include "app/aws/ivs_setup.hpp"
#include "app/control/api_client.hpp"
#include "app/control/control_plane.hpp"
#include "app/control/shard_peers.hpp"
#include "app/control/stage_manager.hpp"
#include "app/control/static_destinations.hpp"
#include "app/egress/egress_session.hpp"
#include "app/ingest/ingest_pull.hpp"
#include "app/relay/media_plane.hpp"
#include "app/relay/relay_channel.hpp"
#include "app/roles/config.hpp"
#include "app/roles/secret_reload.hpp"
#include "app/web/auth_guard.hpp"
#include "app/web/health.hpp"
#include "app/web/session_admission.hpp"
#include "engine/random.hpp"
#include "engine/shard_ownership.hpp"
#include "io/http_client.hpp"
#include "io/http_router.hpp"
#include "io/http_server.hpp"

namespace ivs::app {

// Makes the egress factory once the relay channel exists (start()); it may also attach the
// channel's shards on media workers (RelayChannel::add_shard).
using EgressFactoryMaker = std::function<std::unique_ptr<EgressFactory>(RelayChannel&)>;

class MediaServer {
 public:
  // `egress` null: TrackingOnlyEgress.
  MediaServer(boost::asio::io_context& io, Config config,
              std::unique_ptr<EgressFactory> egress = nullptr);
  // `make_egress` runs in start() with the relay channel; null: TrackingOnlyEgress.
  MediaServer(boost::asio::io_context& io, Config config, EgressFactoryMaker make_egress);
  ~MediaServer();
  MediaServer(const MediaServer&) = delete;
  MediaServer& operator=(const MediaServer&) = delete;

  // Add routes before start(); /health*, /api/status and the JSON 404 are built in.
  io::HttpRouter& router() { return router_; }

  // Listens on PORT and starts registering with the API server.
  Status start();
  // The graceful shutdown sequence above; `done` runs once on the io_context.
  void stop(std::function<void()> done);
  // SIGHUP: rotates the secrets that changed in `fresh` (secret_reload.hpp), reads the TLS
  // certificate files again (when HTTPS is on), and logs what was rotated and what needs a
  // restart; nothing else of the running server changes.
  void reload(const Config& fresh);

  std::uint16_t port() const;
  HealthSnapshot health_snapshot() const;
  StatusSnapshot status_snapshot() const;
  const Config& config() const { return config_; }
  // Null before start() (or when the RTC port could not be bound).
  MediaPlane* media_plane() { return plane_.get(); }
  RelayChannel* channel() { return channel_.get(); }

 private:
  void add_builtin_routes();
  void add_health_routes(io::HttpRouter& router);
  Status start_media();
  Status start_health_listener();
  // TLS_CERT_FILE + TLS_KEY_FILE: the listener's context (null: plain HTTP), and on SIGHUP the
  // files read again, so a renewed certificate is served without a restart.
  Status load_listener_tls();
  void reload_listener_tls(const Config& fresh, SecretReload& report);
  void add_media_routes();
  io::HttpServer::Options http_options() const;
  SecurityCounters security_counters() const;
  void add_stage_views(StatusSnapshot& out, const StageManager& manager) const;
  void stop_egress(std::function<void()> done);
  Status start_ivs_source(const engine::StageReconcilerOptions& reconcile);
  // media_server_shard.cpp: SHARD_PEERS.
  void start_sharding();
  void on_shard_peers(const std::vector<std::string>& live);
  void arm_shard_timer(Instant now);
  std::string shard_status_json() const;

  boost::asio::io_context& io_;
  Config config_;
  Instant started_at_;
  engine::SecureRandom random_;
  std::unique_ptr<MediaPlane> plane_;
  std::unique_ptr<RelayChannel> channel_;    // before egress_: legs detach from it on destruction
  std::unique_ptr<IngestPull> ingest_pull_;  // INGEST_PULL_URL; after channel_, which it feeds
  EgressFactoryMaker make_egress_;
  std::unique_ptr<EgressFactory> egress_;
  io::HttpClient http_client_;
  ServerSecrets secrets_;  // shared with the routes that check them and the API client's users
  std::shared_ptr<AuthGuard> auth_guard_;
  SessionAdmission admission_;
  io::HttpRouter router_;
  std::unique_ptr<io::HttpServer> http_server_;
  std::shared_ptr<boost::asio::ssl::context> tls_context_;  // TLS_CERT_FILE; null: plain HTTP
  std::unique_ptr<io::HttpServer> health_server_;           // HEALTH_PORT, when set
  std::unique_ptr<ApiClient> api_;
  std::unique_ptr<StageManager> stages_;
  std::unique_ptr<StaticDestinations> static_destinations_;  // WHIP_DESTINATIONS, when set
  std::unique_ptr<ControlPlane> control_;
  std::unique_ptr<aws::IvsStack> ivs_;  // STAGE_SOURCE=ivs: replaces api_ and control_
  // SHARD_PEERS: who holds which stage, the live peer set, and the end of a hand-over.
  std::unique_ptr<engine::ShardOwnership> shard_;
  std::unique_ptr<ShardPeers> shard_peers_;
  std::unique_ptr<boost::asio::steady_timer> shard_timer_;
  bool stopping_ = false;
};

// Runs the media server until SIGTERM/SIGINT; returns the exit code.
int run_media_server(const Config& config);

}  // namespace ivs::app
