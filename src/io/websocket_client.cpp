// WebSocket client (see websocket_client.hpp): one Impl per connection, holding either a plain
// or a TLS Beast stream, a connect deadline, one keepalive timer and a write queue.
#include "io/websocket_client.hpp"

#include <deque>
#include <optional>

#include <spdlog/spdlog.h>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>

#include "io/client_support.hpp"

namespace ivs::io {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using boost::system::error_code;

struct WebSocketClient::Impl : std::enable_shared_from_this<WebSocketClient::Impl> {
  Impl(asio::io_context& io_context, Options client_options, Callbacks client_callbacks)
      : io(io_context),
        options(std::move(client_options)),
        callbacks(std::move(client_callbacks)),
        resolver(io_context),
        connect_timer(io_context),
        keepalive_timer(io_context) {}

  template <class Function>
  void with_stream(Function&& function) {
    if (secure) {
      function(*secure);
    } else {
      function(*plain);
    }
  }

  void connect();
  void on_resolved(const tcp::resolver::results_type& results);
  void on_tcp_connected();
  void upgrade();
  void on_upgraded(const error_code& error);
  void read_next();
  void write_next();
  void send_text(std::string text);
  void close();
  void arm_keepalive(std::chrono::milliseconds delay);
  void on_keepalive();
  void finish(std::string reason);
  std::string remote_close_reason();
  beast::tcp_stream& lowest() {
    return secure ? beast::get_lowest_layer(*secure) : beast::get_lowest_layer(*plain);
  }

  asio::io_context& io;
  Options options;
  Callbacks callbacks;
  detail::ClientEndpoint endpoint;
  tcp::resolver resolver;
  asio::steady_timer connect_timer;
  asio::steady_timer keepalive_timer;
  std::optional<websocket::stream<beast::tcp_stream>> plain;
  std::optional<websocket::stream<beast::ssl_stream<beast::tcp_stream>>> secure;
  websocket::response_type upgrade_response;
  beast::flat_buffer buffer;
  std::deque<std::string> queue;
  bool started = false;
  bool open = false;
  bool writing = false;
  bool closing_locally = false;
  bool awaiting_pong = false;
  bool finished = false;
  std::uint64_t keepalive_generation = 0;
};

namespace {

std::string error_text(const error_code& error) {
  return error.message();
}

}  // namespace

void WebSocketClient::Impl::connect() {
  auto parsed = detail::parse_client_url(options.url, "ws", "wss");
  if (!parsed) {
    return finish("connect: " + parsed.error().message);
  }
  endpoint = std::move(*parsed);
  connect_timer.expires_after(options.connect_timeout);
  connect_timer.async_wait([weak = weak_from_this()](error_code error) {
    auto self = weak.lock();
    if (self && !error && !self->open) {
      self->finish("connect " + self->options.url + ": timed out after " +
                   std::to_string(self->options.connect_timeout.count()) + " ms");
    }
  });
  resolver.async_resolve(
      endpoint.host, endpoint.port,
      [self = shared_from_this()](error_code error, const tcp::resolver::results_type& results) {
        if (error) {
          return self->finish("connect " + self->options.url + ": resolve: " + error_text(error));
        }
        self->on_resolved(results);
      });
}

void WebSocketClient::Impl::on_resolved(const tcp::resolver::results_type& results) {
  if (finished) {
    return;
  }
  if (endpoint.tls) {
    if (!options.tls_context) {
      options.tls_context = detail::make_default_client_tls_context();
    }
    secure.emplace(io, *options.tls_context);
  } else {
    plain.emplace(io);
  }
  lowest().async_connect(
      results, [self = shared_from_this()](error_code error, const tcp::endpoint&) {
        if (error) {
          return self->finish("connect " + self->options.url + ": connect: " + error_text(error));
        }
        self->on_tcp_connected();
      });
}

void WebSocketClient::Impl::on_tcp_connected() {
  if (finished) {
    return;
  }
  if (!secure) {
    return upgrade();
  }
  auto& tls = secure->next_layer();
  if (auto configured = detail::configure_tls_client(tls.native_handle(), endpoint.host);
      !configured) {
    return finish("connect " + options.url + ": " + configured.error().message);
  }
  tls.async_handshake(
      asio::ssl::stream_base::client, [self = shared_from_this()](error_code error) {
        if (error) {
          return self->finish(
              "connect " + self->options.url + ": TLS handshake: " +
              detail::tls_error_text(self->secure->next_layer().native_handle(), error.message()));
        }
        self->upgrade();
      });
}

void WebSocketClient::Impl::upgrade() {
  with_stream([this](auto& ws) {
    // Our own timers replace Beast's: the connect deadline above and the keepalive below.
    beast::get_lowest_layer(ws).expires_never();
    websocket::stream_base::timeout timeouts{};
    timeouts.handshake_timeout = options.connect_timeout;
    timeouts.idle_timeout = websocket::stream_base::none();
    timeouts.keep_alive_pings = false;
    ws.set_option(timeouts);
    ws.set_option(websocket::stream_base::decorator(
        [headers = options.headers](websocket::request_type& request) {
          request.set(http::field::user_agent, "ivs-media-server");
          for (const auto& [name, value] : headers) {
            request.set(name, value);
          }
        }));
    ws.read_message_max(options.max_message_bytes);
    ws.control_callback([weak = weak_from_this()](websocket::frame_type kind, beast::string_view) {
      auto self = weak.lock();
      if (self && kind == websocket::frame_type::pong) {
        self->awaiting_pong = false;
        self->arm_keepalive(self->options.ping_interval);
      }
    });
    ws.async_handshake(upgrade_response, endpoint.host_header, endpoint.target,
                       [self = shared_from_this()](error_code error) { self->on_upgraded(error); });
  });
}

void WebSocketClient::Impl::on_upgraded(const error_code& error) {
  if (finished) {
    return;
  }
  if (error == websocket::error::upgrade_declined) {
    return finish("connect " + options.url + ": upgrade rejected: " +
                  std::to_string(upgrade_response.result_int()) + " " + upgrade_response.body());
  }
  if (error) {
    return finish("connect " + options.url + ": handshake: " + error_text(error));
  }
  connect_timer.cancel();
  open = true;
  arm_keepalive(options.ping_interval);
  if (callbacks.on_open) {
    callbacks.on_open();
  }
  if (!finished) {
    read_next();
  }
  if (!queue.empty() && !writing && open) {
    write_next();
  }
}

void WebSocketClient::Impl::read_next() {
  with_stream([this](auto& ws) {
    ws.async_read(buffer, [self = shared_from_this()](error_code error, std::size_t) {
      if (error) {
        std::string reason;
        if (error == websocket::error::closed) {
          reason = self->remote_close_reason();
        } else if (error == websocket::error::message_too_big) {
          reason =
              "message larger than " + std::to_string(self->options.max_message_bytes) + " bytes";
        } else {
          reason = "read: " + error_text(error);
        }
        return self->finish(self->closing_locally ? "closed locally" : reason);
      }
      // Any frame from the peer shows it is alive.
      const auto data = self->buffer.cdata();
      const std::string message(static_cast<const char*>(data.data()), data.size());
      self->buffer.consume(self->buffer.size());
      if (self->callbacks.on_message) {
        self->callbacks.on_message(message);
      }
      if (!self->finished) {
        self->read_next();
      }
    });
  });
}

std::string WebSocketClient::Impl::remote_close_reason() {
  websocket::close_reason reason;
  with_stream([&reason](auto& ws) { reason = ws.reason(); });
  std::string text = "closed by peer: " + std::to_string(reason.code);
  if (!reason.reason.empty()) {
    text += " " + std::string(reason.reason.c_str());
  }
  return text;
}

void WebSocketClient::Impl::send_text(std::string text) {
  if (finished || closing_locally) {
    spdlog::debug("websocket client: dropping a message on a closed connection to {}", options.url);
    return;
  }
  // Queued before open too: sent as soon as the handshake completes.
  queue.push_back(std::move(text));
  if (open && !writing) {
    write_next();
  }
}

void WebSocketClient::Impl::write_next() {
  writing = true;
  with_stream([this](auto& ws) {
    ws.text(true);
    ws.async_write(asio::buffer(queue.front()),
                   [self = shared_from_this()](error_code error, std::size_t) {
                     self->writing = false;
                     if (error) {
                       return self->finish(self->closing_locally ? "closed locally"
                                                                 : "write: " + error_text(error));
                     }
                     self->queue.pop_front();
                     if (!self->queue.empty() && !self->finished) {
                       self->write_next();
                     }
                   });
  });
}

void WebSocketClient::Impl::close() {
  if (finished || closing_locally) {
    return;
  }
  closing_locally = true;
  if (!open) {
    return finish("closed locally");
  }
  // Beast allows one close alongside one read and one write; the read loop then ends with
  // websocket::error::closed and reports "closed locally".
  with_stream([this](auto& ws) {
    lowest().expires_after(options.pong_timeout);
    ws.async_close(websocket::close_code::normal, [self = shared_from_this()](error_code error) {
      if (error) {
        self->finish("closed locally");
      }
    });
  });
}

// One timer does both jobs: when it fires while no pong is outstanding it sends a ping and
// waits pong_timeout; when it fires with a pong outstanding the peer is presumed dead.
void WebSocketClient::Impl::arm_keepalive(std::chrono::milliseconds delay) {
  const std::uint64_t generation = ++keepalive_generation;
  keepalive_timer.expires_after(delay);
  keepalive_timer.async_wait([weak = weak_from_this(), generation](error_code error) {
    auto self = weak.lock();
    if (self && !error && generation == self->keepalive_generation) {
      self->on_keepalive();
    }
  });
}

void WebSocketClient::Impl::on_keepalive() {
  if (finished || !open) {
    return;
  }
  if (awaiting_pong) {
    return finish("pong timeout: no answer to a ping within " +
                  std::to_string(options.pong_timeout.count()) + " ms");
  }
  awaiting_pong = true;
  arm_keepalive(options.pong_timeout);
  with_stream([this](auto& ws) {
    ws.async_ping({}, [self = shared_from_this()](error_code error) {
      if (error && !self->finished) {
        self->finish("ping: " + error_text(error));
      }
    });
  });
}

// Reports the end exactly once, then tears down whatever is still running; pending handlers
// see `finished` and return.
void WebSocketClient::Impl::finish(std::string reason) {
  if (finished) {
    return;
  }
  finished = true;
  open = false;
  connect_timer.cancel();
  keepalive_timer.cancel();
  resolver.cancel();
  if (plain || secure) {
    error_code ignored;
    lowest().socket().close(ignored);
  }
  queue.clear();
  spdlog::debug("websocket client {}: {}", options.url, reason);
  auto on_close = std::move(callbacks.on_close);
  callbacks = {};
  if (on_close) {
    on_close(std::move(reason));
  }
}

std::shared_ptr<WebSocketClient> WebSocketClient::create(asio::io_context& io, Options options,
                                                         Callbacks callbacks) {
  return std::shared_ptr<WebSocketClient>(
      new WebSocketClient(io, std::move(options), std::move(callbacks)));
}

WebSocketClient::WebSocketClient(asio::io_context& io, Options options, Callbacks callbacks)
    : impl_(std::make_shared<Impl>(io, std::move(options), std::move(callbacks))) {}

WebSocketClient::~WebSocketClient() {
  // Destruction closes the connection without further callbacks: the owner is gone.
  impl_->callbacks = {};
  impl_->finish("client destroyed");
}

void WebSocketClient::connect() {
  if (impl_->started) {
    return;
  }
  impl_->started = true;
  // Never call back from inside connect() itself.
  asio::post(impl_->io, [impl = impl_] {
    if (!impl->finished) {
      impl->connect();
    }
  });
}

void WebSocketClient::send_text(std::string text) {
  impl_->send_text(std::move(text));
}

void WebSocketClient::close() {
  impl_->close();
}

bool WebSocketClient::is_open() const {
  return impl_->open && !impl_->closing_locally && !impl_->finished;
}

}  // namespace ivs::io
