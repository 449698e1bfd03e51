// The HTTP/1.1 session loop (see http_server.hpp for the flow; the listener and admission are
// in http_listener.cpp). Template-heavy Beast code lives here and in websocket_server.cpp only,
// to keep compile times down.
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

#include "engine/rate_limit.hpp"
#include "io/clock.hpp"
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

HttpResponse with_retry_after(HttpResponse response, Duration wait) {
  response.set(http::field::retry_after, std::to_string(engine::retry_after_seconds(wait)));
  return response;
}

template <class Stream>
class HttpSession : public std::enable_shared_from_this<HttpSession<Stream>> {
 public:
  HttpSession(std::shared_ptr<HttpServer::State> state, Stream stream, SlotKind slot)
      : state_(std::move(state)), stream_(std::move(stream)), slot_(slot) {
    error_code ignored;
    remote_ = lowest().socket().remote_endpoint(ignored);
    local_ = lowest().socket().local_endpoint(ignored);
  }
  ~HttpSession() { state_->unregister_connection(id_); }

  void run() {
    std::weak_ptr<HttpSession> weak = this->shared_from_this();
    id_ = state_->register_connection(remote_, slot_, [weak] {
      if (auto self = weak.lock(); self && !self->upgraded_) {
        self->close_now();
      }
    });
    if constexpr (std::is_same_v<Stream, TlsStream>) {
      lowest().expires_after(state_->options.header_timeout);
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
    state_->awaiting_header(id_, true);
    lowest().expires_after(state_->options.header_timeout);
    http::async_read_header(stream_, buffer_, *parser_,
                            [self = this->shared_from_this()](error_code error, std::size_t) {
                              self->on_header(error);
                            });
  }

  void on_header(const error_code& error) {
    if (error) {
      if (error == beast::error::timeout) {
        ++state_->stats.header_timeouts;
      }
      return on_read_error(error);
    }
    state_->awaiting_header(id_, false);
    lowest().expires_after(state_->options.request_timeout);
    if (auto early = answer_before_body()) {
      // The body (if any) is never read: the connection closes after the answer unless the
      // request announced none.
      const auto& header = parser_->get();
      const bool keep_alive =
          parser_->is_done() && header.keep_alive() && slot_ == SlotKind::general;
      return send(std::move(*early), header.version(), keep_alive,
                  header.method() == http::verb::head);
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

  // The answer owed before the body is read: the reserved-slot rule, the per-address request
  // rate, then the application's header_check. nullopt: read the body and dispatch.
  std::optional<HttpResponse> answer_before_body() {
    const HttpRequest& header = parser_->get();
    const std::string_view path = request_path(header);
    const auto& options = state_->options;
    const bool reserved_path = options.reserved_path && options.reserved_path(path);
    if (slot_ == SlotKind::reserved && !reserved_path) {
      ++state_->stats.reserved_refused;
      return with_retry_after(json_error(http::status::service_unavailable,
                                         "the server is at its connection limit; retry shortly"),
                              std::chrono::seconds(1));
    }
    if (!reserved_path) {
      if (const auto wait = state_->rate_limiter.admit(address_text(remote_), monotonic_now())) {
        ++state_->stats.rate_limited;
        return with_retry_after(
            json_error(http::status::too_many_requests,
                       "too many requests from this address; slow down and retry later"),
            *wait);
      }
    }
    if (options.header_check) {
      const RequestContext context = make_context(header);
      try {
        if (auto answer = options.header_check(header, context)) {
          ++state_->stats.rejected_before_body;
          return answer;
        }
      } catch (const std::exception& exception) {
        spdlog::error("http: header check for {} {} threw: {}", header.method_string(),
                      header.target(), exception.what());
        return json_error(http::status::internal_server_error, "internal error");
      }
    }
    return std::nullopt;
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
    const bool keep_alive = request.keep_alive() && slot_ == SlotKind::general;
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

  RequestContext make_context(const HttpRequest& request) const {
    RequestContext context;
    context.remote = remote_;
    const bool tls = static_cast<bool>(state_->options.tls_context);
    std::string host(request[http::field::host]);
    if (host.empty()) {
      host = endpoint_text(local_);
    }
    context.scheme_host = (tls ? "https://" : "http://") + host;
    return context;
  }

  HttpResponse call_handler(const HttpRequest& request) {
    const RequestContext context = make_context(request);
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
  SlotKind slot_ = SlotKind::general;
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

void start_http_session(std::shared_ptr<HttpServer::State> state,
                        boost::asio::ip::tcp::socket socket, SlotKind slot) {
  if (state->options.tls_context) {
    auto& tls = *state->options.tls_context;
    std::make_shared<HttpSession<TlsStream>>(std::move(state), TlsStream(std::move(socket), tls),
                                             slot)
        ->run();
  } else {
    std::make_shared<HttpSession<PlainStream>>(std::move(state), PlainStream(std::move(socket)),
                                               slot)
        ->run();
  }
}

}  // namespace ivs::io
