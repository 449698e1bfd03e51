// Internal to http_server.cpp and websocket_server.cpp: the state shared between the listener
// and its sessions, and the hand-off from an HTTP session to a WebSocket session after an
// upgrade request was accepted. Not for use outside io/.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

#include "engine/rate_limit.hpp"
#include "io/connection_table.hpp"
#include "io/http_server.hpp"

namespace ivs::io {

using PlainStream = boost::beast::tcp_stream;
using TlsStream = boost::beast::ssl_stream<boost::beast::tcp_stream>;

struct HttpServer::State : std::enable_shared_from_this<HttpServer::State> {
  State(boost::asio::io_context& io_context, Options server_options, Handler request_handler)
      : io(io_context),
        options(std::move(server_options)),
        handler(std::move(request_handler)),
        acceptor(io_context),
        retry_timer(io_context),
        table(ConnectionLimits{options.max_connections, options.reserved_connections,
                               options.max_connections_per_ip}),
        rate_limiter(
            engine::TokenBucketConfig{options.rate_limit_per_ip, options.rate_limit_per_ip * 2}) {}

  // Each open connection registers a function that closes it, so stop() can end them all,
  // eviction can close the one chosen, and active_connections() can count them. `remote` is
  // the client's address (per-address limits); a WebSocket takes a general slot that never
  // waits for a header.
  std::uint64_t register_connection(const boost::asio::ip::tcp::endpoint& remote, SlotKind slot,
                                    std::function<void()> closer);
  void unregister_connection(std::uint64_t id);
  // The connection started (true) or finished (false) waiting for a request header.
  void awaiting_header(std::uint64_t id, bool awaiting);
  const WebSocketRoute* find_websocket_route(std::string_view path) const;

  void do_accept();
  void on_accept(boost::system::error_code error, boost::asio::ip::tcp::socket socket);

  boost::asio::io_context& io;
  Options options;
  Handler handler;
  std::map<std::string, WebSocketRoute, std::less<>> websocket_routes;
  boost::asio::ip::tcp::acceptor acceptor;
  boost::asio::steady_timer retry_timer;
  bool running = false;
  std::uint16_t bound_port = 0;
  ConnectionTable table;
  engine::RequestRateLimiter rate_limiter;
  HttpServer::Stats stats;
  // Accept refusals are logged once per interval with a count (http_listener.cpp).
  Instant refusal_logged_at{};
  std::uint64_t refusals_held_back = 0;
};

// The address part of an endpoint as text ("1.2.3.4", "::1"): the key of per-address limits.
std::string address_text(const boost::asio::ip::tcp::endpoint& endpoint);

// Runs the HTTP/1.1 session loop on an admitted connection (http_server.cpp).
void start_http_session(std::shared_ptr<HttpServer::State> state,
                        boost::asio::ip::tcp::socket socket, SlotKind slot);

// Takes over an HTTP connection whose upgrade request `route.accept` approved: performs the
// WebSocket handshake (answering 101) and runs the message loop. Defined in websocket_server.cpp.
void start_websocket_session(std::shared_ptr<HttpServer::State> state, PlainStream stream,
                             HttpRequest request, const WebSocketRoute& route);
void start_websocket_session(std::shared_ptr<HttpServer::State> state, TlsStream stream,
                             HttpRequest request, const WebSocketRoute& route);

// "1.2.3.4:80" / "[::1]:80", for logs and WebSocketPeer::remote().
std::string endpoint_text(const boost::asio::ip::tcp::endpoint& endpoint);

}  // namespace ivs::io
