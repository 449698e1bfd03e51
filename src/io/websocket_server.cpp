// Server-side WebSocket sessions (RFC 6455) behind HttpServer's upgrade routes. One read loop
// per peer, a queue of outgoing text messages written one at a time (Beast allows a single
// outstanding write), and a close that waits for the queue to drain.
#include <deque>

#include <spdlog/spdlog.h>
#include <boost/asio/ssl/context.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>

#include "io/http_server_state.hpp"

namespace ivs::io {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using boost::system::error_code;

template <class Stream>
class WebSocketSession : public WebSocketPeer,
                         public std::enable_shared_from_this<WebSocketSession<Stream>> {
 public:
  WebSocketSession(std::shared_ptr<HttpServer::State> state, Stream stream,
                   const WebSocketRoute& route)
      : state_(std::move(state)), ws_(std::move(stream)), route_(route) {
    error_code ignored;
    remote_ = endpoint_text(beast::get_lowest_layer(ws_).socket().remote_endpoint(ignored));
  }
  ~WebSocketSession() override { state_->unregister_connection(id_); }

  void start(HttpRequest request) {
    std::weak_ptr<WebSocketSession> weak = this->shared_from_this();
    error_code ignored;
    const auto remote = beast::get_lowest_layer(ws_).socket().remote_endpoint(ignored);
    id_ = state_->register_connection(remote, SlotKind::general, [weak] {
      if (auto self = weak.lock()) {
        error_code close_ignored;
        beast::get_lowest_layer(self->ws_).socket().close(close_ignored);
      }
    });
    state_->awaiting_header(id_, false);  // a WebSocket is never shed as an idle connection
    // Beast's suggested server settings: handshake deadline, and pings when idle so a dead
    // client is noticed.
    ws_.set_option(websocket::stream_base::timeout::suggested(beast::role_type::server));
    ws_.set_option(websocket::stream_base::decorator(
        [name = state_->options.server_name](websocket::response_type& response) {
          response.set(http::field::server, name);
        }));
    ws_.read_message_max(state_->options.max_body_bytes);
    request_ = std::move(request);
    ws_.async_accept(
        request_, [self = this->shared_from_this()](error_code error) { self->on_accept(error); });
  }

  void send_text(std::string text) override {
    if (!open_ || closing_) {
      spdlog::debug("websocket: dropping a message to closed peer {}", remote_);
      return;
    }
    queue_.push_back(std::move(text));
    if (!writing_) {
      write_next();
    }
  }

  void close() override {
    if (!open_ || closing_) {
      return;
    }
    closing_ = true;
    if (!writing_) {
      start_close();
    }
  }

  std::string remote() const override { return remote_; }
  bool is_open() const override { return open_ && !closing_; }
  std::uint64_t id() const override { return id_; }

 private:
  void on_accept(const error_code& error) {
    if (error) {
      spdlog::debug("websocket: handshake with {} failed: {}", remote_, error.message());
      return;
    }
    open_ = true;
    if (route_.on_open) {
      route_.on_open(this->shared_from_this(), request_);
    }
    read_next();
  }

  void read_next() {
    ws_.async_read(buffer_, [self = this->shared_from_this()](error_code error, std::size_t) {
      if (error) {
        return self->finish(error);
      }
      const auto data = self->buffer_.cdata();
      const std::string_view text(static_cast<const char*>(data.data()), data.size());
      if (self->route_.on_message && self->open_) {
        self->route_.on_message(self->shared_from_this(), text);
      }
      self->buffer_.consume(self->buffer_.size());
      self->read_next();
    });
  }

  void write_next() {
    writing_ = true;
    ws_.text(true);
    ws_.async_write(asio::buffer(queue_.front()),
                    [self = this->shared_from_this()](error_code error, std::size_t) {
                      self->writing_ = false;
                      if (error) {
                        return self->finish(error);
                      }
                      self->queue_.pop_front();
                      if (!self->queue_.empty()) {
                        return self->write_next();
                      }
                      if (self->closing_) {
                        self->start_close();
                      }
                    });
  }

  void start_close() {
    ws_.async_close(websocket::close_code::normal, [self = this->shared_from_this()](error_code) {
      // The read loop ends with websocket::error::closed and calls finish().
    });
  }

  // Runs on_close exactly once, whatever ended the connection first.
  void finish(const error_code& error) {
    const bool was_open = open_;
    open_ = false;
    // The application may keep the peer object alive long after the connection is gone; it no
    // longer counts as a connection.
    state_->unregister_connection(id_);
    if (!finished_ && was_open) {
      finished_ = true;
      spdlog::debug("websocket: {} closed: {}", remote_, error.message());
      if (route_.on_close) {
        route_.on_close(this->shared_from_this());
      }
    }
    error_code ignored;
    beast::get_lowest_layer(ws_).socket().close(ignored);
  }

  std::shared_ptr<HttpServer::State> state_;
  websocket::stream<Stream> ws_;
  // Copied, so that a route replaced after start() cannot dangle.
  WebSocketRoute route_;
  HttpRequest request_;
  std::string remote_;
  std::uint64_t id_ = 0;
  beast::flat_buffer buffer_;
  std::deque<std::string> queue_;
  bool open_ = false;
  bool closing_ = false;
  bool writing_ = false;
  bool finished_ = false;
};

template <class Stream>
void start_session(std::shared_ptr<HttpServer::State> state, Stream stream, HttpRequest request,
                   const WebSocketRoute& route) {
  auto session =
      std::make_shared<WebSocketSession<Stream>>(std::move(state), std::move(stream), route);
  session->start(std::move(request));
}

}  // namespace

void start_websocket_session(std::shared_ptr<HttpServer::State> state, PlainStream stream,
                             HttpRequest request, const WebSocketRoute& route) {
  start_session(std::move(state), std::move(stream), std::move(request), route);
}

void start_websocket_session(std::shared_ptr<HttpServer::State> state, TlsStream stream,
                             HttpRequest request, const WebSocketRoute& route) {
  start_session(std::move(state), std::move(stream), std::move(request), route);
}

}  // namespace ivs::io
