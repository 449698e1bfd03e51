// HTTP/1.1 server (RFC 9112 message framing via Boost.Beast) with WebSocket upgrades (RFC 6455
// §4.2) on registered paths. One listener, async sessions on a caller-provided io_context; no
// threads are created here.
//
// Why the handler is a plain function: it keeps every route testable without sockets, and the
// session loop below stays the only code that knows about bytes and timeouts:
//
//   accept -> admission (io/connection_table.hpp: per-IP cap, evict the longest header-waiting
//     |       connection when full, reserved slots for /health*) -> refused: closed at once
//     v
//   [read header (limit, header_timeout)] -> too large/malformed -> 4xx JSON, close
//                    |                      no header in time    -> closed (counted)
//                    v
//             reserved slot and not a reserved path -> 503, close
//             per-IP request rate exceeded          -> 429 + Retry-After
//             header_check(request w/o body)        -> its answer, body never read (401, 413)
//                    v
//   [read body (limit, request_timeout)] -> body over limit -> 413 JSON, close
//                    v
//             websocket route?  -- yes -> accept()? -> upgrade / 401 JSON
//                    | no
//                    v
//             handler(request, context) (exception -> 500 JSON + log)
//                    v
//             add Server + Content-Length, write (HEAD: header only), keep-alive? loop : close
//
// Why the header has its own deadline and a check before the body: a client that trickles a
// header (slowloris) or announces a body it never sends must not hold a slot or memory for the
// whole request timeout, and a request without valid credentials must be refused before the
// server buffers a byte of its body (Beast reserves the announced Content-Length).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "io/http_types.hpp"
#include "io/websocket_peer.hpp"
#include "proto/result.hpp"

namespace boost::asio {
class io_context;
}
namespace boost::asio::ssl {
class context;
}

namespace ivs::io {

class HttpServer {
 public:
  struct Options {
    std::string bind_address = "0.0.0.0";
    std::uint16_t port = 0;  // 0 -> an ephemeral port; read it back with port()
    std::size_t max_body_bytes = 1 << 20;
    std::size_t max_header_bytes = std::size_t{16} * 1024;
    // Time allowed to receive a request's header, counted from when the server starts waiting
    // for it; also the keep-alive idle limit and the TLS handshake limit.
    std::chrono::milliseconds header_timeout{10000};
    // Time allowed to receive the body once the header is in, and to write the response.
    std::chrono::milliseconds request_timeout{30000};
    // General connection slots; beyond them the longest header-waiting connection is evicted,
    // then reserved slots are used, then new connections are closed at once.
    std::size_t max_connections = 1024;
    // Open connections one client address may hold; 0: no limit.
    std::size_t max_connections_per_ip = 64;
    // Extra slots that serve one request each, and only to a path reserved_path() accepts
    // (health probes keep working when every general slot is busy).
    std::size_t reserved_connections = 32;
    std::function<bool(std::string_view path)> reserved_path = [](std::string_view path) {
      return path == "/health" || path.starts_with("/health/");
    };
    // Requests per second per client address (token bucket of twice that size); 0: no limit.
    // Requests to reserved paths are not counted. Beyond it: 429 + Retry-After.
    double rate_limit_per_ip = 0;
    // Runs once a request's header is complete and before any byte of its body is read. A
    // response returned here is sent as the answer (the connection is closed when a body was
    // announced, so the body is never read). Checking credentials and Content-Length here keeps
    // unauthenticated bodies out of memory.
    std::function<std::optional<HttpResponse>(const HttpRequest&, const RequestContext&)>
        header_check;
    // Value of the Server header on every response.
    std::string server_name = "ivs-media-server";
    // When set, every connection is TLS (HTTPS / WSS) with this context.
    std::shared_ptr<boost::asio::ssl::context> tls_context;
  };

  // Pure request -> response. May throw: the session answers 500 JSON and logs the message.
  using Handler = std::function<HttpResponse(const HttpRequest&, const RequestContext&)>;

  HttpServer(boost::asio::io_context& io, Options options, Handler handler);
  ~HttpServer();  // stop()s
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Registers a WebSocket endpoint on an exact path (query ignored). Call before start().
  void add_websocket_route(std::string path, WebSocketRoute route);

  // Binds and listens. The error names the address and the reason
  // ("listen 0.0.0.0:3001: bind: Address already in use").
  Status start();
  // The bound port (the ephemeral one when Options::port was 0); 0 before start().
  std::uint16_t port() const;
  // Serves connections accepted from now on with `tls_context` (a renewed certificate, read again
  // on SIGHUP); open connections keep the context they were accepted with. Safe while they live:
  // each connection's OpenSSL object holds its own reference to the SSL_CTX, and these server
  // contexts carry no callbacks that the old asio context would free. Null: plain HTTP.
  void set_tls_context(std::shared_ptr<boost::asio::ssl::context> tls_context);
  // Stops accepting and closes every connection (WebSocket peers get on_close).
  void stop();
  // Open connections, HTTP and WebSocket.
  std::size_t active_connections() const;

  // What the overload defences did since start() (docs/security.md; /metrics shows them).
  struct Stats {
    std::uint64_t refused_per_ip = 0;        // connections closed at accept: per-address cap
    std::uint64_t refused_full = 0;          // connections closed at accept: every slot taken
    std::uint64_t evicted = 0;               // header-waiting connections closed to make room
    std::uint64_t header_timeouts = 0;       // connections closed: no whole header in time
    std::uint64_t rate_limited = 0;          // requests answered 429 (per-address rate)
    std::uint64_t rejected_before_body = 0;  // requests answered by header_check
    std::uint64_t reserved_refused = 0;      // reserved-slot requests to other paths (503)
  };
  Stats stats() const;

  struct State;  // shared with sessions, which may outlive a stop() by a few handlers

 private:
  std::shared_ptr<State> state_;
};

}  // namespace ivs::io
