// `media-server stage`: a local stand-in for Amazon IVS Real-Time stages (DESIGN.md §3, §4), so
// the whole system (API server -> tokens -> media server WHIP egress -> stages) runs and is
// tested on one machine. It is the same engine as `serve`: ONE MediaPlane (one UDP port, one
// certificate, one PeerSessionRouter) and one RelayChannel per stage, created on the first
// authorized WHIP POST for a stage id (never by a WHEP POST: issue 13, an unauthenticated client
// must not create state). The WHIP/WHEP handlers are app/web/whip_routes' with per-stage paths:
//
//   POST   /whip/{stage}             Bearer participant JWT (app/control/stage_auth.hpp):
//                                    201, 401, 403, 503 (verification key not loaded yet;
//                                    Retry-After)
//   DELETE /whip/{stage}/{resource}  200 / 404 (counted in "deletes")
//   POST   /whep/{stage}             no auth; 409 + Retry-After while the stage has no publisher
//                                    (also for a stage not created yet: nothing is created)
//   DELETE /whep/{stage}/{resource}
//   GET    /api/stages               {"stages":[{"id","live","viewers","publishes","deletes",
//                                     "videoPackets","keyframes","whepUrl"}]}
//   GET    /health                   200 {"status":"healthy",...}
//   + whatever the caller adds to router() before start() (the stage page, app/web/web_routes).
//
// One publisher per stage; a new one replaces the old once it connects (make-before-break
// republishing by the media server needs exactly that). The verification key comes from the
// API server's GET /api/keys (retried with backoff until it answers, since the two usually start
// together) or from a PEM file. Everything runs on one io_context thread.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "app/control/jwt.hpp"
#include "app/control/stage_auth.hpp"
#include "app/web/auth_guard.hpp"
#include "io/http_client.hpp"
#include "io/http_router.hpp"
#include "proto/result.hpp"

namespace boost::asio {
class io_context;
}

namespace ivs::io {
class HttpServer;
}

namespace ivs::app {

class MediaPlane;
class RelayChannel;

struct StageOptions {
  std::string bind_ip = "0.0.0.0";                       // STAGE_BIND_IP: HTTP and RTC
  std::uint16_t http_port = 3002;                        // STAGE_PORT
  std::uint16_t rtc_udp_port = 50002;                    // STAGE_RTC_UDP_PORT
  std::string announced_ip;                              // STAGE_ANNOUNCED_IP
  std::string api_server_url = "http://localhost:3000";  // STAGE_API_SERVER_URL
  std::string public_key_file;  // STAGE_PUBLIC_KEY_FILE (PEM); wins over the API server
  std::map<std::string, StageFault> faults;  // STAGE_FAULTS
  std::size_t max_stages = 256;              // stages created by authorized WHIP POSTs
};

// Reads the STAGE_* variables from `lookup` (the environment). Errors name the variable.
Result<StageOptions> load_stage_options(
    const std::function<std::optional<std::string>(const std::string&)>& lookup);
std::string stage_usage();

class StageServer {
 public:
  StageServer(boost::asio::io_context& io, StageOptions options);
  ~StageServer();
  StageServer(const StageServer&) = delete;
  StageServer& operator=(const StageServer&) = delete;

  // Add routes (e.g. the stage page) here before start().
  io::HttpRouter& router() { return router_; }

  // Loads the key file (or starts fetching /api/keys), binds the UDP port and the HTTP listener.
  Status start();
  // Closes every session and the listener.
  void stop();

  // Installs the verification key (tests; the fetch and the file use this too).
  void set_key(jwt::Es384Key key);
  bool has_key() const { return key_ != nullptr; }
  std::uint16_t http_port() const;
  std::size_t stage_count() const { return channels_.size(); }
  // The channel of a stage, or nullptr.
  RelayChannel* channel(const std::string& stage_id);

 private:
  struct Stage;
  void add_routes();
  RelayChannel* channel_for_whip(const std::string& stage_id);
  RelayChannel* create_channel(const std::string& stage_id);
  std::optional<io::HttpResponse> authorize_whip(const io::HttpRequest& request,
                                                 const io::RequestContext& context);
  io::HttpResponse stages_json(const io::HttpRequest& request) const;
  io::HttpResponse health_json(const io::HttpRequest& request) const;
  void fetch_key();
  io::HttpClient::Request keys_request() const;  // GET <STAGE_API_SERVER_URL>/api/keys
  // A participant token failed verification: the API server may have a new signing key (it was
  // restarted without its key file, or the key was rotated). GET /api/keys once, at most every
  // kKeyRefreshInterval, and verify with the new key if it differs; the publisher's retry then
  // succeeds. Not with STAGE_PUBLIC_KEY_FILE (the operator pinned the key).
  void refresh_key_after_refusal();
  void on_keys_answer(Result<io::HttpClient::Response> response, bool refresh);

  boost::asio::io_context& io_;
  StageOptions options_;
  io::HttpRouter router_;
  std::unique_ptr<MediaPlane> plane_;
  std::unique_ptr<io::HttpServer> http_;
  std::map<std::string, std::unique_ptr<RelayChannel>> channels_;
  std::unique_ptr<jwt::Es384Key> key_;
  // Failed participant tokens: counted, logged at a rate limit, throttled per address.
  std::shared_ptr<AuthGuard> auth_guard_ = std::make_shared<AuthGuard>();
  struct KeyFetch;
  std::shared_ptr<KeyFetch> fetch_;
};

// The role entry point (argv[0] is the role name). `add_pages` adds the stage page routes.
int run_stage_role(int argc, char** argv, const std::function<void(io::HttpRouter&)>& add_pages);

}  // namespace ivs::app
