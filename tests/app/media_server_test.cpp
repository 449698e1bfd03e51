// The `serve` role over real loopback sockets (port 0): health endpoints before and after
// registration, stage sync through the tolerant client, WebSocket events, tracking-only honesty
// and the graceful shutdown sequence (last heartbeat with connectedStages 0). A small in-test
// API server stands in for the reference one. No sleeps: the loop runs until a condition holds,
// with a deadline.
#include "app/roles/media_server.hpp"

#include <gtest/gtest.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/json/parse.hpp>

#include <array>
#include <atomic>
#include <chrono>
#include <functional>
#include <future>
#include <thread>

#include "app/egress/tracking_only_egress.hpp"
#include "io/http_router.hpp"
#include "io/http_server.hpp"
#include "webrtc_test_peer.hpp"

namespace ivs::app {
namespace {

namespace json = boost::json;

bool run_until(boost::asio::io_context& io, const std::function<bool()>& done,
               std::chrono::seconds limit = std::chrono::seconds(10)) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) {
      return false;
    }
    io.restart();
    io.run_for(std::chrono::milliseconds(20));
  }
  return true;
}

Config test_config(const std::string& api_url, const Environment& overrides = {}) {
  Environment environment = {{"PORT", "0"},
                             {"API_SERVER_URL", api_url},
                             {"API_SECRET_KEY", "key-1"},
                             {"MEDIA_SERVER_SECRET", "media-1"},
                             {"SERVER_IP", "127.0.0.1"},
                             {"RTC_BIND_IP", "127.0.0.1"},
                             {"RTC_UDP_PORT", "0"},
                             {"WHIP_INGEST_TOKEN", "ingest-token"},
                             // WHEP is closed by default (issue 13); these tests view openly.
                             {"WHEP_OPEN", "true"},
                             {"HEARTBEAT_INTERVAL", "200"},
                             {"API_REQUEST_TIMEOUT", "2000"}};
  for (const auto& [name, value] : overrides) {
    environment[name] = value;
  }
  auto config = load_config(environment);
  EXPECT_TRUE(config.ok());
  return *config;
}

struct Fetched {
  bool done = false;
  unsigned status = 0;
  std::string body;
};

Fetched get(boost::asio::io_context& io, io::HttpClient& client, std::uint16_t port,
            const std::string& path) {
  Fetched out;
  io::HttpClient::Request request;
  request.url = "http://127.0.0.1:" + std::to_string(port) + path;
  request.timeout = std::chrono::milliseconds(3000);
  client.request(request, [&](Result<io::HttpClient::Response> r) {
    out.done = true;
    if (r) {
      out.status = r->status;
      out.body = r->body;
    }
  });
  EXPECT_TRUE(run_until(io, [&] { return out.done; }));
  return out;
}

std::optional<engine::StageState> state_of(const MediaServer& server, const std::string& arn) {
  for (const auto& view : server.status_snapshot().stages) {
    if (view.status.stage_arn == arn) {
      return view.status.state;
    }
  }
  return std::nullopt;
}

TEST(MediaServer, HealthWhileTheApiServerRefusesConnections) {
  boost::asio::io_context io;
  MediaServer server(io, test_config("http://127.0.0.1:1"));
  ASSERT_TRUE(server.start().ok());
  ASSERT_NE(server.port(), 0);
  io::HttpClient client(io);

  auto live = get(io, client, server.port(), "/health/live");
  EXPECT_EQ(live.status, 200u);
  EXPECT_EQ(json::parse(live.body).at("service").as_string(), "Media Server");
  auto ready = get(io, client, server.port(), "/health/ready");
  EXPECT_EQ(ready.status, 503u);
  EXPECT_EQ(json::parse(ready.body).at("status").as_string(), "not_ready");
  EXPECT_EQ(get(io, client, server.port(), "/health").status, 200u);
  auto missing = get(io, client, server.port(), "/no/such/path");
  EXPECT_EQ(missing.status, 404u);
  EXPECT_TRUE(json::parse(missing.body).as_object().contains("error"));
  auto status = get(io, client, server.port(), "/api/status");
  EXPECT_EQ(status.status, 200u);
  EXPECT_EQ(json::parse(status.body).at("egress").at("mode").as_string(), "tracking-only");

  bool stopped = false;
  server.stop([&] { stopped = true; });
  EXPECT_TRUE(run_until(io, [&] { return stopped; }));
}

// A minimal API server: canonical shapes, records what it receives.
struct FakeApiServer {
  explicit FakeApiServer(boost::asio::io_context& io) {
    router.post("/api/media/register", [this](const io::HttpRequest& r, const io::RequestContext&) {
      ++registrations;
      register_media_auth = std::string(r["x-media-auth"]);
      register_body = r.body();
      return io::json_response(io::http::status::ok, R"({"success":true})");
    });
    router.get("/api/media/stages", [this](const io::HttpRequest& r, const io::RequestContext&) {
      stages_had_media_auth = r.find("x-media-auth") != r.end();
      const std::string body = stages_body;  // the list as it stands when the request arrives
      if (before_stages_answer) {
        before_stages_answer();
      }
      return io::json_response(io::http::status::ok, body);
    });
    router.post("/api/media/token", [this](const io::HttpRequest& r, const io::RequestContext&) {
      ++tokens;
      return io::json_response(io::http::status::ok,
                               R"({"token":"tok","participantId":"p","whipUrl":"https://w/"})");
    });
    router.post(
        "/api/media/heartbeat", [this](const io::HttpRequest& r, const io::RequestContext&) {
          heartbeats.push_back(r.body());
          return io::json_response(
              forget_next_heartbeat ? io::http::status::not_found : io::http::status::ok, "{}");
        });
    io::HttpServer::Options options;
    options.bind_address = "127.0.0.1";
    server = std::make_unique<io::HttpServer>(io, options, router.as_handler());
    io::WebSocketRoute route;
    route.accept = [](const io::HttpRequest& r) {
      return r["x-api-key"] == "key-1" && r["x-media-auth"] == "media-1" &&
             r["serverId"] == "media-server-01";
    };
    route.on_open = [this](std::shared_ptr<io::WebSocketPeer> p, const io::HttpRequest&) {
      peer = p;
      ++websocket_opens;
    };
    route.on_close = [this](std::shared_ptr<io::WebSocketPeer>) { peer.reset(); };
    server->add_websocket_route("/ws", route);
    EXPECT_TRUE(server->start().ok());
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(server->port()); }

  io::HttpRouter router;
  std::unique_ptr<io::HttpServer> server;
  std::string stages_body = R"({"stages":[{"stageArn":"arn:a","name":"s0"}]})";
  int registrations = 0;
  int tokens = 0;
  int websocket_opens = 0;
  bool forget_next_heartbeat = false;
  bool stages_had_media_auth = true;
  std::string register_media_auth;
  std::string register_body;
  std::vector<std::string> heartbeats;
  std::shared_ptr<io::WebSocketPeer> peer;
  std::function<void()> before_stages_answer;  // set before the server starts
};

TEST(MediaServer, RegistersSyncsFollowsEventsAndShutsDownGracefully) {
  boost::asio::io_context io;
  FakeApiServer api(io);
  MediaServer server(io, test_config(api.url()));
  ASSERT_TRUE(server.start().ok());

  ASSERT_TRUE(run_until(io, [&] { return server.health_snapshot().registered; }));
  EXPECT_EQ(api.register_media_auth, "media-1");
  const auto reg = json::parse(api.register_body);
  EXPECT_EQ(reg.at("port").to_number<int>(), server.port());
  EXPECT_EQ(reg.at("ipAddress").as_string(), "127.0.0.1");

  // The listed stage is tracked, never reported as connected.
  ASSERT_TRUE(
      run_until(io, [&] { return state_of(server, "arn:a") == engine::StageState::tracked; }));
  EXPECT_FALSE(api.stages_had_media_auth);
  EXPECT_EQ(server.health_snapshot().connected_stages, 0u);
  EXPECT_EQ(server.health_snapshot().active_connections, 1u);

  // WebSocket: created adds, deleted removes, garbage and unknown types are ignored.
  ASSERT_TRUE(run_until(io, [&] { return api.peer != nullptr; }));
  api.peer->send_text("this is not json");
  api.peer->send_text(R"({"type":"hello","data":{}})");
  api.peer->send_text(R"({"type":"stage_created","data":{"stageArn":"arn:b","timestamp":"t"}})");
  ASSERT_TRUE(
      run_until(io, [&] { return state_of(server, "arn:b") == engine::StageState::tracked; }));
  api.peer->send_text(R"({"type":"stage_deleted","data":{"stageArn":"arn:a"}})");
  ASSERT_TRUE(run_until(io, [&] { return !state_of(server, "arn:a").has_value(); }));
  EXPECT_GE(api.tokens, 2);

  // A heartbeat answered 404 makes the server register again.
  api.forget_next_heartbeat = true;
  ASSERT_TRUE(run_until(io, [&] { return api.registrations >= 2; }));
  api.forget_next_heartbeat = false;

  // Graceful shutdown: ready turns 503 at once; the last heartbeat says 0 stages.
  bool stopped = false;
  server.stop([&] { stopped = true; });
  EXPECT_EQ(health_response(HealthProbe::ready, server.health_snapshot()).result(),
            io::http::status::service_unavailable);
  ASSERT_TRUE(run_until(io, [&] { return stopped; }));
  ASSERT_FALSE(api.heartbeats.empty());
  EXPECT_EQ(json::parse(api.heartbeats.back()).at("connectedStages").to_number<int>(), 0);
  EXPECT_EQ(server.status_snapshot().stages.size(), 0u);
  EXPECT_TRUE(run_until(io, [&] { return api.peer == nullptr; }));
}

TEST(MediaServer, WebSocketReconnectTriggersAFullResync) {
  boost::asio::io_context io;
  FakeApiServer api(io);
  MediaServer server(io, test_config(api.url()));
  ASSERT_TRUE(server.start().ok());
  ASSERT_TRUE(run_until(io, [&] { return api.peer != nullptr; }));
  ASSERT_TRUE(run_until(io, [&] { return state_of(server, "arn:a").has_value(); }));
  // While disconnected the stage set changes; the reconnect's resync must pick it up.
  api.stages_body = R"(["arn:c"])";
  api.peer->close();
  ASSERT_TRUE(run_until(
      io, [&] { return api.websocket_opens >= 2; }, std::chrono::seconds(15)));
  ASSERT_TRUE(run_until(io, [&] {
    return state_of(server, "arn:c").has_value() && !state_of(server, "arn:a").has_value();
  }));
  bool stopped = false;
  server.stop([&] { stopped = true; });
  EXPECT_TRUE(run_until(io, [&] { return stopped; }));
}

// The fake API server's loop on two threads of its own (one may be held in a handler while the
// other serves), stopped and joined however the test ends.
class ApiServerThreads {
 public:
  explicit ApiServerThreads(boost::asio::io_context& io)
      : io_(io), work_(boost::asio::make_work_guard(io)) {
    for (auto& thread : threads_) {
      thread = std::thread([this] { io_.run(); });
    }
  }
  ApiServerThreads(const ApiServerThreads&) = delete;
  ApiServerThreads& operator=(const ApiServerThreads&) = delete;
  ~ApiServerThreads() {
    work_.reset();
    io_.stop();
    for (auto& thread : threads_) {
      thread.join();
    }
  }

 private:
  boost::asio::io_context& io_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_;
  std::array<std::thread, 2> threads_;
};

// A gate a handler waits at until the test opens it; opened at the latest when it goes out of
// scope, so a failed assertion never leaves a thread waiting.
class Gate {
 public:
  Gate() : opened_(promise_.get_future().share()) {}
  Gate(const Gate&) = delete;
  Gate& operator=(const Gate&) = delete;
  ~Gate() { open(); }
  void open() {
    if (!open_) {
      open_ = true;
      promise_.set_value();
    }
  }
  void wait() const { opened_.wait(); }

 private:
  std::promise<void> promise_;
  std::shared_future<void> opened_;
  bool open_ = false;
};

// CI story: under ThreadSanitizer a stage created through the reference API server was ended
// 1 ms after the media server started connecting it. The media server's periodic stage list
// request was answered (without the stage) just before the stage was created, but the answer
// reached the media server after the WebSocket's stage_created did; the sync then treated the
// stage as gone. A list answer must not undo the events that arrived while it was in flight.
// Here the API server holds the list answer on one of its two threads until the media server
// has seen the event, so the stale answer arrives last every time.
TEST(MediaServer, AStaleStageListDoesNotUndoAWebSocketEventThatOvertookIt) {
  boost::asio::io_context io;
  boost::asio::io_context api_io;
  FakeApiServer api(api_io);
  std::atomic<bool> hold_next_list{false};
  std::promise<void> list_requested;
  std::future<void> requested = list_requested.get_future();
  ApiServerThreads api_threads(api_io);
  Gate release_list;  // after the threads: opened before they are joined
  api.before_stages_answer = [&] {
    if (hold_next_list.exchange(false)) {
      list_requested.set_value();
      release_list.wait();
    }
  };

  MediaServer server(io, test_config(api.url(), {{"STAGE_SYNC_INTERVAL", "100"}}));
  ASSERT_TRUE(server.start().ok());
  ASSERT_TRUE(run_until(io, [&] {
    return server.status_snapshot().websocket_connected && state_of(server, "arn:a").has_value();
  }));
  hold_next_list = true;
  ASSERT_TRUE(run_until(io, [&] {
    return requested.wait_for(std::chrono::seconds(0)) == std::future_status::ready;
  }));
  // The stage is created while the list answer (without it) is on its way.
  boost::asio::post(api_io, [&api] {
    api.peer->send_text(R"({"type":"stage_created","data":{"stageArn":"arn:b"}})");
  });
  ASSERT_TRUE(run_until(io, [&] { return state_of(server, "arn:b").has_value(); }));
  const std::string sync_before = server.status_snapshot().last_sync_iso8601;
  release_list.open();
  ASSERT_TRUE(
      run_until(io, [&] { return server.status_snapshot().last_sync_iso8601 != sync_before; }));
  EXPECT_EQ(state_of(server, "arn:b"), engine::StageState::tracked);
  EXPECT_EQ(state_of(server, "arn:a"), engine::StageState::tracked);

  bool stopped = false;
  server.stop([&] { stopped = true; });
  EXPECT_TRUE(run_until(io, [&] { return stopped; }));
}

Fetched post_offer(boost::asio::io_context& io, io::HttpClient& client, std::uint16_t port,
                   const std::string& path, const std::string& sdp, const std::string& token,
                   std::string* location = nullptr) {
  Fetched out;
  io::HttpClient::Request request;
  request.method = io::http::verb::post;
  request.url = "http://127.0.0.1:" + std::to_string(port) + path;
  request.timeout = std::chrono::milliseconds(3000);
  if (!token.empty()) {
    request.headers = {{"Authorization", "Bearer " + token}};
  }
  request.body = sdp;
  request.content_type = "application/sdp";
  client.request(request, [&](Result<io::HttpClient::Response> r) {
    out.done = true;
    if (r) {
      out.status = r->status;
      out.body = r->body;
      if (location) {
        *location = r->header("location").value_or("");
      }
    }
  });
  EXPECT_TRUE(run_until(io, [&] { return out.done; }));
  return out;
}

// WHIP ingest and WHEP on the serve role's listener, with real peers: the publisher shows on
// /health and /api/status, a viewer is counted, and shutdown closes both with a close_notify.
TEST(MediaServer, WhipIngestAndWhepOnTheServeListener) {
  boost::asio::io_context io;
  MediaServer server(io, test_config("http://127.0.0.1:1"));
  ASSERT_TRUE(server.start().ok());
  ASSERT_NE(server.media_plane(), nullptr);
  io::HttpClient client(io);
  test::TestPeer publisher(io, test::TestPeer::Mode::publisher, 1);
  EXPECT_EQ(post_offer(io, client, server.port(), "/whip", publisher.offer(), "wrong").status,
            401u);
  std::string location;
  auto created =
      post_offer(io, client, server.port(), "/whip", publisher.offer(), "ingest-token", &location);
  ASSERT_EQ(created.status, 201u) << created.body;
  EXPECT_EQ(location.rfind("http://127.0.0.1:" + std::to_string(server.port()) + "/whip/", 0), 0u)
      << location;
  ASSERT_TRUE(publisher.accept(created.body));
  ASSERT_TRUE(run_until(io, [&] { return server.health_snapshot().publisher_active; }));
  auto health = json::parse(get(io, client, server.port(), "/health").body);
  EXPECT_TRUE(health.at("stats").at("publisherActive").as_bool());

  test::TestPeer viewer(io, test::TestPeer::Mode::viewer, 2);
  auto watched = post_offer(io, client, server.port(), "/whep", viewer.offer(), "");
  ASSERT_EQ(watched.status, 201u) << watched.body;
  ASSERT_TRUE(viewer.accept(watched.body));
  ASSERT_TRUE(run_until(io, [&] { return server.status_snapshot().channel.viewers == 1; }));
  auto status = json::parse(get(io, client, server.port(), "/api/status").body);
  EXPECT_TRUE(status.at("publisher").at("live").as_bool());
  EXPECT_EQ(status.at("publisher").at("codec").as_string(), "H264");
  EXPECT_EQ(status.at("viewers").to_number<int>(), 1);

  bool stopped = false;
  server.stop([&] { stopped = true; });
  EXPECT_TRUE(run_until(io, [&] { return stopped && publisher.closed && viewer.closed; }));
}

TEST(MediaServer, IngestIsDisabledWithoutAToken) {
  boost::asio::io_context io;
  auto config = test_config("http://127.0.0.1:1");
  config.whip_ingest_token.clear();
  MediaServer server(io, config);
  ASSERT_TRUE(server.start().ok());
  io::HttpClient client(io);
  auto refused = post_offer(io, client, server.port(), "/whip",
                            test::read_testdata("sdp/obs-offer.sdp"), "anything");
  EXPECT_EQ(refused.status, 503u);
  EXPECT_NE(refused.body.find("WHIP_INGEST_TOKEN"), std::string::npos);
  bool stopped = false;
  server.stop([&] { stopped = true; });
  EXPECT_TRUE(run_until(io, [&] { return stopped; }));
}

TEST(MediaServer, TheEgressHookGetsTheRelayChannelAfterItExists) {
  boost::asio::io_context io;
  EgressMediaSource* seen = nullptr;
  MediaServer server(io, test_config("http://127.0.0.1:1"), [&](EgressMediaSource& source) {
    seen = &source;
    return std::make_unique<TrackingOnlyEgress>(io);
  });
  EXPECT_EQ(seen, nullptr);
  ASSERT_TRUE(server.start().ok());
  EXPECT_EQ(seen, static_cast<EgressMediaSource*>(server.channel()));
  bool stopped = false;
  server.stop([&] { stopped = true; });
  EXPECT_TRUE(run_until(io, [&] { return stopped; }));
}

TEST(MediaServer, ABusyRtcPortStopsTheStartNamingTheAddress) {
  boost::asio::io_context io;
  MediaServer first(io, test_config("http://127.0.0.1:1"));
  ASSERT_TRUE(first.start().ok());
  auto config = test_config("http://127.0.0.1:1");
  config.rtc_udp_port = first.media_plane()->local_address().port();
  MediaServer second(io, config);
  auto started = second.start();
  ASSERT_FALSE(started.ok());
  EXPECT_NE(started.error().message.find(first.media_plane()->local_address().to_string()),
            std::string::npos)
      << started.error().message;
  bool stopped = false;
  first.stop([&] { stopped = true; });
  EXPECT_TRUE(run_until(io, [&] { return stopped; }));
}

}  // namespace
}  // namespace ivs::app
