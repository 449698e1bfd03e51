// HTTP/1.1 server (RFC 9112 message framing via Boost.Beast) with WebSocket upgrades (RFC 6455
// §4.2) on registered paths. One listener, async sessions on a caller-provided io_context; no
// threads are created here.
//
// Why the handler is a plain function: it keeps every route testable without sockets, and the
// session loop below stays the only code that knows about bytes and timeouts:
//
//   accept -> [read header (limit, timeout)] -> too large/malformed -> 4xx JSON, close
//                    |                          body over limit      -> 413 JSON, close
//                    v
//             websocket route?  -- yes -> accept()? -> upgrade / 401 JSON
//                    | no
//                    v
//             handler(request, context) (exception -> 500 JSON + log)
//                    v
//             add Server + Content-Length, write (HEAD: header only), keep-alive? loop : close
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

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
    // Time allowed to receive one whole request (also the keep-alive idle limit).
    std::chrono::seconds request_timeout{30};
    // Connections beyond this are accepted and closed at once.
    std::size_t max_connections = 1024;
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
  // Stops accepting and closes every connection (WebSocket peers get on_close).
  void stop();
  // Open connections, HTTP and WebSocket.
  std::size_t active_connections() const;

  struct State;  // shared with sessions, which may outlive a stop() by a few handlers

 private:
  std::shared_ptr<State> state_;
};

}  // namespace ivs::io
