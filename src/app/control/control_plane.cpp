#include "app/control/control_plane.hpp"

#include <spdlog/spdlog.h>

#include "io/clock.hpp"
#include "io/redact.hpp"

namespace ivs::app {

namespace {
std::string millis_text(Duration d) {
  return std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(d).count()) + " ms";
}
}  // namespace

ControlPlane::ControlPlane(boost::asio::io_context& io, ApiClient& api, StageManager& stages,
                           engine::RandomSource& random, ControlPlaneOptions options)
    : io_(io),
      api_(api),
      stages_(stages),
      random_(random),
      options_(std::move(options)),
      register_timer_(io),
      heartbeat_timer_(io),
      sync_timer_(io),
      websocket_timer_(io),
      register_backoff_(options_.retry),
      sync_backoff_(options_.retry),
      websocket_backoff_(options_.retry),
      alive_(std::make_shared<bool>(true)) {}

ControlPlane::~ControlPlane() {
  *alive_ = false;
  if (websocket_) {
    websocket_->close();
  }
}

void ControlPlane::after(boost::asio::steady_timer& timer, Duration delay,
                         std::function<void()> action) {
  timer.expires_after(delay);
  std::weak_ptr<bool> alive = alive_;
  timer.async_wait([this, alive, action = std::move(action)](const boost::system::error_code& e) {
    if (!e && alive.lock() && *alive.lock() && !stopping_) {
      action();
    }
  });
}

void ControlPlane::start() {
  register_now();
}

// ---- registration and heartbeat -----------------------------------------------------------

void ControlPlane::register_now() {
  if (registering_ || stopping_) {
    return;
  }
  registering_ = true;
  std::weak_ptr<bool> alive = alive_;
  api_.register_server([this, alive](const Status& status) {
    if (!alive.lock() || !*alive.lock() || stopping_) {
      return;
    }
    registering_ = false;
    if (!status) {
      const Duration delay = register_backoff_.next_delay(random_);
      spdlog::warn("register with API server failed: {}; retry in {}",
                   io::redact_urls(status.error().message), millis_text(delay));
      after(register_timer_, delay, [this] { register_now(); });
      return;
    }
    register_backoff_.reset();
    on_registered();
  });
}

void ControlPlane::on_registered() {
  const bool first = !registered_ && !websocket_;
  registered_ = true;
  ever_registered_ = true;
  api_reachable_ = true;
  spdlog::info("registered with the API server at {} as {}",
               io::redact_url(api_.options().base_url), api_.options().server_id);
  schedule_heartbeat();
  resync();
  if (first) {
    connect_websocket();
    schedule_sync();
  }
}

void ControlPlane::schedule_heartbeat() {
  after(heartbeat_timer_, options_.heartbeat_interval, [this] { send_heartbeat(); });
}

void ControlPlane::publisher_changed() {
  if (!registered_ || stopping_) {
    return;  // registration sends its own heartbeat cycle; shutdown sends the last one
  }
  if (heartbeat_in_flight_) {
    heartbeat_again_ = true;  // the one in flight may carry the old value
    return;
  }
  heartbeat_timer_.cancel();
  send_heartbeat();
}

void ControlPlane::send_heartbeat() {
  std::weak_ptr<bool> alive = alive_;
  const bool publisher_active = options_.publisher_active();
  heartbeat_in_flight_ = true;
  api_.heartbeat(publisher_active, stages_.connected_count(),
                 [this, alive, publisher_active](const HeartbeatOutcome& outcome) {
                   if (alive.lock() && *alive.lock() && !stopping_) {
                     on_heartbeat_answer(publisher_active, outcome);
                   }
                 });
}

void ControlPlane::on_heartbeat_answer(bool publisher_active, const HeartbeatOutcome& outcome) {
  heartbeat_in_flight_ = false;
  if (outcome.forgotten) {
    spdlog::warn("heartbeat refused ({}); registering again", outcome.error);
    registered_ = false;
    heartbeat_again_ = false;
    register_now();
    return;  // on_registered() restarts the heartbeat
  }
  if (!outcome.ok) {
    // Not ready while the API server is unreachable: tokens and stage lists would fail too.
    api_reachable_ = false;
    spdlog::warn("heartbeat failed: {}", outcome.error);
  } else {
    if (!api_reachable_) {
      spdlog::info("API server reachable again");
    }
    api_reachable_ = true;
    spdlog::debug("heartbeat sent (publisherActive {}, {} connected stages)", publisher_active,
                  stages_.connected_count());
  }
  if (heartbeat_again_) {
    heartbeat_again_ = false;
    send_heartbeat();
    return;
  }
  schedule_heartbeat();
}

// ---- stage list ---------------------------------------------------------------------------

void ControlPlane::resync() {
  if (stopping_) {
    return;
  }
  if (sync_in_flight_) {
    sync_again_ = true;  // the answer in flight may predate what triggered this resync
    return;
  }
  sync_in_flight_ = true;
  events_during_sync_.clear();
  sync_timer_.cancel();  // a retry pending from an earlier failure is superseded
  std::weak_ptr<bool> alive = alive_;
  api_.list_stages([this, alive](Result<StageList> list) {
    if (!alive.lock() || !*alive.lock() || stopping_) {
      return;
    }
    sync_in_flight_ = false;
    if (!list) {
      const Duration delay = sync_backoff_.next_delay(random_);
      spdlog::warn("stage list failed: {}; retry in {}", list.error().message, millis_text(delay));
      after(sync_timer_, delay, [this] { resync(); });
      return;
    }
    sync_backoff_.reset();
    if (list->skipped_items > 0) {
      spdlog::warn("stage list: ignored {} items without a stage ARN", list->skipped_items);
    }
    last_sync_ = io::wall_now();
    if (!events_during_sync_.empty()) {
      spdlog::debug(
          "stage list: {} WebSocket events arrived while it was in flight; applied on top",
          events_during_sync_.size());
    }
    stages_.sync(list_after_events(std::move(list->stage_arns), events_during_sync_));
    events_during_sync_.clear();
    if (sync_again_) {
      sync_again_ = false;
      resync();
    } else {
      schedule_sync();
    }
  });
}

void ControlPlane::schedule_sync() {
  if (options_.auto_sync && !sync_in_flight_) {
    after(sync_timer_, options_.stage_sync_interval, [this] { resync(); });
  }
}

// ---- WebSocket ----------------------------------------------------------------------------

void ControlPlane::connect_websocket() {
  if (stopping_) {
    return;
  }
  io::WebSocketClient::Options options;
  options.url = options_.websocket_url;
  options.headers = options_.websocket_headers;
  options.connect_timeout = api_.options().request_timeout;
  std::weak_ptr<bool> alive = alive_;
  auto guard = [this, alive] { return alive.lock() && *alive.lock() && !stopping_; };
  io::WebSocketClient::Callbacks callbacks;
  callbacks.on_open = [this, guard] {
    if (!guard()) {
      return;
    }
    websocket_open_ = true;
    websocket_opened_at_ = io::monotonic_now();
    spdlog::info("WebSocket connected to {}", io::redact_url(options_.websocket_url));
    resync();  // events sent while we were away are lost: the list is the truth
  };
  callbacks.on_message = [this, guard](std::string_view text) {
    if (guard()) {
      on_websocket_message(text);
    }
  };
  callbacks.on_close = [this, guard](const std::string& reason) {
    if (guard()) {
      on_websocket_closed(reason);
    }
  };
  websocket_ = io::WebSocketClient::create(io_, std::move(options), std::move(callbacks));
  websocket_->connect();
}

void ControlPlane::on_websocket_message(std::string_view text) {
  auto message = parse_notification(text);
  if (!message) {
    spdlog::warn("WebSocket: ignoring message: {}", message.error().message);
    return;
  }
  if (sync_in_flight_ && message->kind != StageNotification::Kind::other) {
    events_during_sync_.push_back(*message);
  }
  switch (message->kind) {
    case StageNotification::Kind::stage_created:
      spdlog::info("WebSocket: stage_created {}", message->stage_arn);
      stages_.add(message->stage_arn);
      break;
    case StageNotification::Kind::stage_deleted:
      spdlog::info("WebSocket: stage_deleted {}", message->stage_arn);
      stages_.remove(message->stage_arn);
      break;
    case StageNotification::Kind::other:
      spdlog::debug("WebSocket: ignoring message of type \"{}\"", message->type);
      break;
  }
}

void ControlPlane::on_websocket_closed(const std::string& reason) {
  const bool was_open = websocket_open_;
  websocket_open_ = false;
  // A connection that held for a while earns a fresh start; a flapping one keeps backing off.
  if (websocket_opened_at_ && io::monotonic_now() - *websocket_opened_at_ >= options_.retry.max) {
    websocket_backoff_.reset();
  }
  websocket_opened_at_.reset();
  const Duration delay = websocket_backoff_.next_delay(random_);
  spdlog::warn("WebSocket {}: {}; reconnecting in {}", was_open ? "closed" : "connect failed",
               io::redact_urls(reason), millis_text(delay));
  after(websocket_timer_, delay, [this] { connect_websocket(); });
}

// ---- shutdown -----------------------------------------------------------------------------

void ControlPlane::begin_stop() {
  stopping_ = true;
  register_timer_.cancel();
  heartbeat_timer_.cancel();
  sync_timer_.cancel();
  websocket_timer_.cancel();
}

void ControlPlane::finish_stop(std::function<void()> done) {
  stopping_ = true;
  auto close_websocket = [this, alive = std::weak_ptr<bool>(alive_), done = std::move(done)] {
    if (alive.lock() && *alive.lock() && websocket_) {
      websocket_->close();
      websocket_open_ = false;
      spdlog::info("WebSocket closed");
    }
    done();
  };
  if (!registered_) {
    close_websocket();
    return;
  }
  // The publisher was closed before this (MediaServer::stop), so publisherActive is false.
  api_.heartbeat(options_.publisher_active(), 0, [close_websocket](HeartbeatOutcome outcome) {
    if (outcome.ok) {
      spdlog::info("final heartbeat sent (connectedStages 0)");
    } else {
      spdlog::warn("final heartbeat failed: {}", outcome.error);
    }
    close_websocket();
  });
}

}  // namespace ivs::app
