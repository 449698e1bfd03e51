// The control-plane loop of the `serve` role (DESIGN.md §2.1, seed "APIClientService" usage):
//
//   start ─► register (retry: backoff + jitter) ─► registered ─► heartbeat every HEARTBEAT_INTERVAL
//                                                      │         (401/404 → register again)
//                                                      │         and at once when the publisher
//                                                      │         goes live or ends
//                                                      ├─► GET stages ─► StageManager::sync
//                                                      │   (again every STAGE_SYNC_INTERVAL
//                                                      │    when ENABLE_AUTO_SYNC)
//                                                      └─► WebSocket /ws?type=media-server
//                                                          on open: full resync (the events
//                                                          missed while away are not replayed)
//                                                          stage_created/deleted → add/remove
//                                                          on close: reconnect with backoff
//
// Shutdown in two steps so the MediaServer can close egress sessions in between:
// begin_stop() silences timers and WebSocket events; finish_stop() sends a last heartbeat with
// connectedStages 0 and closes the WebSocket.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "app/control/api_client.hpp"
#include "app/control/api_responses.hpp"
#include "app/control/stage_manager.hpp"
#include "engine/backoff.hpp"
#include "engine/random.hpp"
#include "io/websocket_client.hpp"
#include "proto/time.hpp"

namespace ivs::app {

inline engine::BackoffPolicy control_plane_retry_policy() {
  engine::BackoffPolicy policy;  // from 1 s, full jitter
  policy.max = std::chrono::seconds(10);
  return policy;
}

struct ControlPlaneOptions {
  std::chrono::milliseconds heartbeat_interval{30000};
  std::chrono::milliseconds stage_sync_interval{60000};
  bool auto_sync = true;
  // Register, stage list and WebSocket reconnect: 1 s → 10 s, full jitter. Capped lower than
  // the per-stage 30 s because the API server is our own control plane: after an outage the
  // server should be ready again within seconds, and one client's retries are no burst.
  engine::BackoffPolicy retry = control_plane_retry_policy();
  std::string websocket_url;
  HeaderList websocket_headers;
  // Whether a publisher is live now: the heartbeat's publisherActive. The seed's API server
  // reads it to know the broadcast is on, so it is asked at every heartbeat, never assumed.
  std::function<bool()> publisher_active = [] { return false; };
};

class ControlPlane {
 public:
  ControlPlane(boost::asio::io_context& io, ApiClient& api, StageManager& stages,
               engine::RandomSource& random, ControlPlaneOptions options);
  ~ControlPlane();
  ControlPlane(const ControlPlane&) = delete;
  ControlPlane& operator=(const ControlPlane&) = delete;

  void start();
  void begin_stop();
  void finish_stop(std::function<void()> done);
  // The publisher went live or ended: a heartbeat goes out now rather than up to
  // HEARTBEAT_INTERVAL later, so the API server learns of the broadcast within a round trip.
  void publisher_changed();
  // The headers of the next WebSocket (re)connect, after a reload rotated the API credentials;
  // an open connection stays as it is (it was authenticated when it opened).
  void set_websocket_headers(HeaderList headers) {
    options_.websocket_headers = std::move(headers);
  }

  bool registered() const { return registered_; }
  // Registered and the last heartbeat got through (/health says "degraded" otherwise).
  bool ready() const { return registered_ && api_reachable_; }
  // Registered at least once since start: what /health/ready reports. An API outage after that
  // does not make the server unready (issue 13: whoever can take the API server down must not
  // be able to take every media server out of its load balancer, mid-broadcast).
  bool ever_registered() const { return ever_registered_; }
  bool websocket_connected() const { return websocket_open_; }
  std::optional<WallTime> last_sync() const { return last_sync_; }

 private:
  void register_now();
  void on_registered();
  void resync();
  void schedule_sync();
  void schedule_heartbeat();
  void send_heartbeat();
  void on_heartbeat_answer(bool publisher_active, const HeartbeatOutcome& outcome);
  void connect_websocket();
  void on_websocket_message(std::string_view text);
  void on_websocket_closed(const std::string& reason);
  // Runs `action` after `delay` unless stopped; the timer is one of ours.
  void after(boost::asio::steady_timer& timer, Duration delay, std::function<void()> action);

  boost::asio::io_context& io_;
  ApiClient& api_;
  StageManager& stages_;
  engine::RandomSource& random_;
  ControlPlaneOptions options_;

  boost::asio::steady_timer register_timer_;
  boost::asio::steady_timer heartbeat_timer_;
  boost::asio::steady_timer sync_timer_;
  boost::asio::steady_timer websocket_timer_;
  engine::Backoff register_backoff_;
  engine::Backoff sync_backoff_;
  engine::Backoff websocket_backoff_;

  std::shared_ptr<io::WebSocketClient> websocket_;
  std::optional<Instant> websocket_opened_at_;
  bool websocket_open_ = false;
  bool registered_ = false;
  bool ever_registered_ = false;
  bool api_reachable_ = false;
  bool registering_ = false;
  bool sync_in_flight_ = false;
  bool sync_again_ = false;
  // Stage events that arrived while the list request was in flight, replayed on its answer.
  std::vector<StageNotification> events_during_sync_;
  bool heartbeat_in_flight_ = false;
  bool heartbeat_again_ = false;  // the publisher changed while a heartbeat was in flight
  bool stopping_ = false;
  std::optional<WallTime> last_sync_;
  std::shared_ptr<bool> alive_;
};

}  // namespace ivs::app
