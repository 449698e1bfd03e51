// The serve role's process: the media workers and the egress factory, the MediaServer, and the
// signals that drive it (SIGTERM/SIGINT: graceful shutdown within SHUTDOWN_TIMEOUT; SIGHUP: the
// secrets that changed are rotated, secret_reload.hpp).
#include <spdlog/spdlog.h>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>

#include <csignal>

#include "app/egress/whip_egress.hpp"
#include "app/egress/worker_egress.hpp"
#include "app/relay/media_workers.hpp"
#include "app/relay/worker_shard.hpp"
#include "app/roles/media_server.hpp"
#include "app/roles/roles.hpp"
#include "io/clock.hpp"

namespace ivs::app {

void MediaServer::reload(const Config& fresh) {
  SecretReload report =
      reload_secrets(secrets_, config_, fresh, io::monotonic_now(), config_.token_rotation_grace);
  reload_listener_tls(fresh, report);
  for (const std::string& name : report.rotated) {
    const bool verified = name != "API_SECRET_KEY" && name != "MEDIA_SERVER_SECRET";
    if (verified && config_.token_rotation_grace.count() > 0) {
      spdlog::info("SIGHUP: {} rotated; its previous value is accepted for {} s more", name,
                   config_.token_rotation_grace.count() / 1000);
    } else {
      spdlog::info("SIGHUP: {} rotated", name);
    }
  }
  if (report.api_credentials_changed && api_) {
    api_->set_credentials(config_.api_secret_key, config_.media_server_secret);
    if (control_) {
      control_->set_websocket_headers(auth_headers(ApiCall::websocket, api_->options()));
    }
  }
  for (const std::string& name : report.need_restart) {
    spdlog::warn(
        "SIGHUP: {} changed in the configuration but applies only at start; restart "
        "the server to use it",
        name);
  }
  if (report.rotated.empty() && report.need_restart.empty() && !report.tls_reloaded) {
    spdlog::info("SIGHUP: configuration read again; no secret changed");
  }
}

int run_media_server(const Config& config) {
  boost::asio::io_context io;
  WhipEgressOptions egress;
  egress.bind_ip = config.rtc_bind_ip;
  egress.send_batching = config.egress_send_batching == "sendmmsg"   ? io::SendBatching::kSendmmsg
                         : config.egress_send_batching == "io_uring" ? io::SendBatching::kIoUring
                                                                     : io::SendBatching::kAuto;
  if (!config.rtc_announced_ip.empty()) {
    egress.announced_ip = config.rtc_announced_ip;
  }
  // The WHIP POST keeps its own 10 s default rather than API_REQUEST_TIMEOUT: IVS answers
  // through a 307 hop to a regional endpoint, and the attempt timeout (30 s) covers it plus
  // the 15 s ICE/DTLS connect timeout.
  // Declared before the server: the shards and the workers' loops outlive the sessions the
  // server's StageManager holds proxies of, and the threads are joined (workers.stop() below)
  // before anything they run is destroyed.
  MediaWorkers workers(config.media_workers == 0 ? MediaWorkers::default_count()
                                                 : config.media_workers);
  std::vector<std::unique_ptr<WorkerShard>> shards;
  MediaServer server(io, config, [&](RelayChannel& channel) -> std::unique_ptr<EgressFactory> {
    if (!workers.threaded()) {
      return make_whip_egress_factory(io, channel, egress);
    }
    std::vector<WorkerShard*> links;
    for (std::size_t i = 0; i < workers.size(); ++i) {
      // Leg ids of shard i start at (i + 1) << 40: distinct from each other and from the
      // channel's own relay (WHEP viewers), which counts from 1.
      shards.push_back(std::make_unique<WorkerShard>(workers.io(i), io, channel.options().relay,
                                                     (i + 1) << 40, channel.keyframe_requester()));
      channel.add_shard(*shards.back());
      links.push_back(shards.back().get());
    }
    spdlog::info("media workers: {} (stage legs are spread over them)", workers.size());
    return make_worker_egress_factory(io, workers, std::move(links), egress);
  });
  if (auto status = server.start(); !status) {
    spdlog::error("media server cannot start: {}", status.error().message);
    workers.stop();
    return 1;
  }
  int exit_code = 0;
  boost::asio::steady_timer deadline(io);
  boost::asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code& error, int signal_number) {
    if (error) {
      return;
    }
    spdlog::info("received {}; shutting down (at most {} ms)",
                 signal_number == SIGTERM ? "SIGTERM" : "SIGINT", config.shutdown_timeout.count());
    deadline.expires_after(config.shutdown_timeout);
    deadline.async_wait([&](const boost::system::error_code& e) {
      if (!e) {
        spdlog::error("shutdown did not finish within {} ms; exiting anyway",
                      config.shutdown_timeout.count());
        exit_code = 1;
        io.stop();
      }
    });
    server.stop([&] {
      spdlog::info("shutdown complete");
      deadline.cancel();
      io.stop();
    });
  });
  // SIGHUP: read .env and the *_FILE secrets again and rotate what changed (secret_reload.hpp).
  boost::asio::signal_set reload_signal(io, SIGHUP);
  std::function<void()> wait_for_reload = [&] {
    reload_signal.async_wait([&](const boost::system::error_code& error, int) {
      if (error) {
        return;
      }
      if (auto fresh = load_config_or_report()) {
        server.reload(*fresh);
      } else {
        spdlog::error(
            "SIGHUP: the configuration no longer loads (the line above says why); the "
            "running one stays in force");
      }
      wait_for_reload();
    });
  };
  wait_for_reload();
  io.run();
  workers.stop();
  return exit_code;
}

}  // namespace ivs::app
