// The listener and the HTTP/1.1 session loop (see http_server.hpp for the flow). Template-heavy
// Beast code lives here and in websocket_server.cpp only, to keep compile times down.
#include "io/http_server.hpp"

#include <exception>
#include <optional>

#include <spdlog/spdlog.h>
#include <boost/asio/ssl/context.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/websocket/rfc6455.hpp>

#include "io/http_server_state.hpp"

namespace ivs::io {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
using tcp = asio::ip::tcp;
using boost::system::error_code;

// How long a closing connection keeps reading (and discarding) what the client still sends, so
// that our error response is not destroyed by a TCP reset (the "lingering close" of RFC 9112
// §9.6).
constexpr auto kLingerTime = std::chrono::seconds(2);

// Maps a read error to the answer we owe the client, or nullopt to close silently.
std::optional<HttpResponse> error_response(const error_code& error) {
  if (error == http::error::body_limit) {
    return json_error(http::status::payload_too_large, "request body too large");
  }
  if (error == http::error::header_limit) {
    return json_error(http::status::request_header_fields_too_large, "request header too large");
  }
  if (error.category() == http::make_error_code(http::error::bad_method).category() &&
      error != http::error::end_of_stream && error != http::error::partial_message) {
    return json_error(http::status::bad_request, "malformed request: " + error.message());
  }
  return std::nullopt;
}

template <class Stream>
class HttpSession : public std::enable_shared_from_this<HttpSession<Stream>> {
 public:
  HttpSession(std::shared_ptr<HttpServer::State> state, Stream stream)
      : state_(std::move(state)), stream_(std::move(stream)) {
    error_code ignored;
    remote_ = lowest().socket().remote_endpoint(ignored);
    local_ = lowest().socket().local_endpoint(ignored);
  }
  ~HttpSession() { state_->unregister_connection(id_); }

  void run() {
    std::weak_ptr<HttpSession> weak = this->shared_from_this();
    id_ = state_->register_connection([weak] {
      if (auto self = weak.lock(); self && !self->upgraded_) {
        self->close_now();
      }
    });
    if constexpr (std::is_same_v<Stream, TlsStream>) {
      lowest().expires_after(state_->options.request_timeout);
      stream_.async_handshake(asio::ssl::stream_base::server,
                              [self = this->shared_from_this()](error_code error) {
                                if (error) {
                                  spdlog::debug("http: TLS handshake from {} failed: {}",
                                                endpoint_text(self->remote_), error.message());
                                  return;
                                }
                                self->read_header();
                              });
    } else {
      read_header();
    }
  }

 private:
  beast::tcp_stream& lowest() { return beast::get_lowest_layer(stream_); }

  void read_header() {
    parser_.emplace();
    parser_->header_limit(static_cast<std::uint32_t>(state_->options.max_header_bytes));
    parser_->body_limit(state_->options.max_body_bytes);
    lowest().expires_after(state_->options.request_timeout);
    http::async_read_header(stream_, buffer_, *parser_,
                            [self = this->shared_from_this()](error_code error, std::size_t) {
                              self->on_header(error);
                            });
  }

  void on_header(const error_code& error) {
    if (error) {
      return on_read_error(error);
    }
    // curl and libcurl-based encoders (OBS) send "Expect: 100-continue" with larger bodies and
    // wait for this interim answer before sending the body.
    const auto& header = parser_->get();
    if (beast::iequals(header[http::field::expect], "100-continue") && !parser_->is_done()) {
      continue_response_.emplace(http::status::continue_, header.version());
      http::async_write(stream_, *continue_response_,
                        [self = this->shared_from_this()](error_code error, std::size_t) {
                          if (error) {
                            return self->close_now();
                          }
                          self->read_body();
                        });
      return;
    }
    read_body();
  }

  void read_body() {
    http::async_read(stream_, buffer_, *parser_,
                     [self = this->shared_from_this()](error_code error, std::size_t) {
                       if (error) {
                         return self->on_read_error(error);
                       }
                       self->on_request(self->parser_->release());
                     });
  }

  void on_read_error(const error_code& error) {
    auto response = error_response(error);
    if (!response) {
      return close_gracefully();
    }
    spdlog::debug("http: {} from {}: {}", response->result_int(), endpoint_text(remote_),
                  error.message());
    send(std::move(*response), 11, false, false);
  }

  void on_request(HttpRequest request) {
    const std::string_view path = request_path(request);
    if (beast::websocket::is_upgrade(request)) {
      if (const WebSocketRoute* route = state_->find_websocket_route(path)) {
        return on_upgrade(std::move(request), *route);
      }
    }
    const bool keep_alive = request.keep_alive();
    auto response = call_handler(request);
    send(std::move(response), request.version(), keep_alive, request.method() == http::verb::head);
  }

  void on_upgrade(HttpRequest request, const WebSocketRoute& route) {
    bool accepted = true;
    try {
      accepted = !route.accept || route.accept(request);
    } catch (const std::exception& exception) {
      spdlog::error("http: WebSocket accept() for {} threw: {}", request_path(request),
                    exception.what());
      return send(json_error(http::status::internal_server_error, "internal error"),
                  request.version(), false, false);
    }
    if (!accepted) {
      return send(json_error(http::status::unauthorized, "unauthorized"), request.version(), false,
                  false);
    }
    lowest().expires_never();
    upgraded_ = true;  // stream_ is moved out; nothing below may touch it again
    start_websocket_session(state_, std::move(stream_), std::move(request), route);
  }

  HttpResponse call_handler(const HttpRequest& request) {
    RequestContext context;
    context.remote = remote_;
    const bool tls = static_cast<bool>(state_->options.tls_context);
    std::string host(request[http::field::host]);
    if (host.empty()) {
      host = endpoint_text(local_);
    }
    context.scheme_host = (tls ? "https://" : "http://") + host;
    try {
      return state_->handler(request, context);
    } catch (const std::exception& exception) {
      spdlog::error("http: handler for {} {} threw: {}", request.method_string(), request.target(),
                    exception.what());
    } catch (...) {
      spdlog::error("http: handler for {} {} threw a non-standard exception",
                    request.method_string(), request.target());
    }
    return json_error(http::status::internal_server_error, "internal error");
  }

  // Adds Server/Content-Length/Connection and writes; HEAD gets the header only (with the
  // Content-Length the body would have had, RFC 9110 §9.3.2).
  void send(HttpResponse response, unsigned version, bool keep_alive, bool head_only) {
    response.version(version == 10 ? 10 : 11);
    response.set(http::field::server, state_->options.server_name);
    response.keep_alive(keep_alive);
    try {
      response.prepare_payload();
    } catch (const std::exception&) {
      // A body on 1xx/204/304 is not allowed; drop it rather than fail the connection.
      response.body().clear();
      response.prepare_payload();
    }
    response_.emplace(std::move(response));
    serializer_.emplace(*response_);
    lowest().expires_after(state_->options.request_timeout);
    auto on_written = [self = this->shared_from_this(), keep_alive](error_code error, std::size_t) {
      if (error) {
        return self->close_now();
      }
      if (!keep_alive) {
        return self->close_gracefully();
      }
      self->read_header();
    };
    if (head_only) {
      http::async_write_header(stream_, *serializer_, std::move(on_written));
    } else {
      http::async_write(stream_, *serializer_, std::move(on_written));
    }
  }

  void close_now() {
    error_code ignored;
    lowest().socket().close(ignored);
  }

  // TLS: send close_notify. TCP: half-close, then drain what the client still sends so the
  // kernel does not answer it with a reset that could destroy our last response.
  void close_gracefully() {
    if constexpr (std::is_same_v<Stream, TlsStream>) {
      lowest().expires_after(kLingerTime);
      stream_.async_shutdown([self = this->shared_from_this()](error_code) { self->close_now(); });
    } else {
      error_code ignored;
      lowest().socket().shutdown(tcp::socket::shutdown_send, ignored);
      lowest().expires_after(kLingerTime);
      drain();
    }
  }

  void drain() {
    lowest().async_read_some(asio::buffer(drain_buffer_),
                             [self = this->shared_from_this()](error_code error, std::size_t) {
                               if (error) {
                                 return self->close_now();
                               }
                               self->drain();
                             });
  }

  std::shared_ptr<HttpServer::State> state_;
  Stream stream_;
  std::uint64_t id_ = 0;
  bool upgraded_ = false;
  tcp::endpoint remote_;
  tcp::endpoint local_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::optional<http::response<http::empty_body>> continue_response_;
  std::optional<HttpResponse> response_;
  std::optional<http::response_serializer<http::string_body>> serializer_;
  std::array<char, 4096> drain_buffer_{};
};

}  // namespace

std::string endpoint_text(const tcp::endpoint& endpoint) {
  const auto address = endpoint.address();
  std::string text = address.is_v6() ? "[" + address.to_string() + "]" : address.to_string();
  return text + ":" + std::to_string(endpoint.port());
}

std::uint64_t HttpServer::State::register_connection(std::function<void()> closer) {
  const std::uint64_t id = next_connection_id++;
  connections.emplace(id, std::move(closer));
  return id;
}

void HttpServer::State::unregister_connection(std::uint64_t id) {
  connections.erase(id);
}

const WebSocketRoute* HttpServer::State::find_websocket_route(std::string_view path) const {
  const auto found = websocket_routes.find(path);
  return found == websocket_routes.end() ? nullptr : &found->second;
}

void HttpServer::State::do_accept() {
  acceptor.async_accept(io, [self = shared_from_this()](error_code error, tcp::socket socket) {
    self->on_accept(error, std::move(socket));
  });
}

void HttpServer::State::on_accept(error_code error, tcp::socket socket) {
  if (!running || error == asio::error::operation_aborted) {
    return;
  }
  if (error) {
    // Typically EMFILE: back off briefly instead of spinning on the error.
    spdlog::warn("http: accept on port {}: {}", bound_port, error.message());
    retry_timer.expires_after(std::chrono::milliseconds(100));
    retry_timer.async_wait([self = shared_from_this()](error_code wait_error) {
      if (!wait_error && self->running) {
        self->do_accept();
      }
    });
    return;
  }
  if (connections.size() >= options.max_connections) {
    spdlog::warn("http: connection limit {} reached; closing a new connection",
                 options.max_connections);
  } else if (options.tls_context) {
    std::make_shared<HttpSession<TlsStream>>(shared_from_this(),
                                             TlsStream(std::move(socket), *options.tls_context))
        ->run();
  } else {
    std::make_shared<HttpSession<PlainStream>>(shared_from_this(), PlainStream(std::move(socket)))
        ->run();
  }
  do_accept();
}

HttpServer::HttpServer(asio::io_context& io, Options options, Handler handler)
    : state_(std::make_shared<State>(io, std::move(options), std::move(handler))) {}

HttpServer::~HttpServer() {
  stop();
}

void HttpServer::add_websocket_route(std::string path, WebSocketRoute route) {
  state_->websocket_routes[std::move(path)] = std::move(route);
}

Status HttpServer::start() {
  const auto& options = state_->options;
  const std::string where = "listen " + options.bind_address + ":" + std::to_string(options.port);
  error_code error;
  const auto address = asio::ip::make_address(options.bind_address, error);
  if (error) {
    return make_error(where + ": bad address: " + error.message());
  }
  const tcp::endpoint endpoint(address, options.port);
  auto& acceptor = state_->acceptor;
  const auto fail = [&](std::string_view step) {
    error_code ignored;
    acceptor.close(ignored);
    return make_error(where + ": " + std::string(step) + ": " + error.message());
  };
  acceptor.open(endpoint.protocol(), error);
  if (error) {
    return fail("open");
  }
  acceptor.set_option(asio::socket_base::reuse_address(true), error);
  if (error) {
    return fail("setsockopt");
  }
  acceptor.bind(endpoint, error);
  if (error) {
    return fail("bind");
  }
  acceptor.listen(asio::socket_base::max_listen_connections, error);
  if (error) {
    return fail("listen");
  }
  state_->bound_port = acceptor.local_endpoint(error).port();
  state_->running = true;
  state_->do_accept();
  spdlog::info("http: listening on {}:{}{}", options.bind_address, state_->bound_port,
               options.tls_context ? " (TLS)" : "");
  return Ok{};
}

std::uint16_t HttpServer::port() const {
  return state_->bound_port;
}

void HttpServer::stop() {
  state_->running = false;
  error_code ignored;
  state_->acceptor.close(ignored);
  state_->retry_timer.cancel();
  // Closers may unregister themselves synchronously; iterate over a copy.
  auto connections = state_->connections;
  for (auto& [id, closer] : connections) {
    closer();
  }
}

std::size_t HttpServer::active_connections() const {
  return state_->connections.size();
}

}  // namespace ivs::io
