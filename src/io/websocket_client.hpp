// WebSocket client (RFC 6455) over ws:// and wss:// for the control plane's notification
// channel (`GET /ws?type=media-server` on the API server, DESIGN.md §2.1).
//
// Lifecycle, one connection per object (the app layer owns reconnect and backoff):
//
//   create -> connect() -> resolve/connect/TLS/upgrade (connect_timeout) --fail--> on_close
//                                  | ok
//                                  v
//                               on_open -> on_message* ... -> on_close(reason)   (exactly once)
//
// Keepalive: a ping every ping_interval; if no pong (or any frame) arrives within pong_timeout
// the connection is dropped with reason "pong timeout". Messages above max_message_bytes end the
// connection. TLS as in HttpClient: system CAs, SNI, host name verification always on.
// All callbacks run on the io_context and may call send_text()/close() (re-entrancy is safe).
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace boost::asio {
class io_context;
}
namespace boost::asio::ssl {
class context;
}

namespace ivs::io {

class WebSocketClient : public std::enable_shared_from_this<WebSocketClient> {
 public:
  struct Options {
    std::string url;                                           // ws:// or wss://
    std::vector<std::pair<std::string, std::string>> headers;  // sent on the upgrade request
    std::chrono::milliseconds connect_timeout{10000};
    std::chrono::milliseconds ping_interval{20000};
    std::chrono::milliseconds pong_timeout{10000};
    std::size_t max_message_bytes = 1 << 20;
    // TLS context for wss://; null -> system CA store with verification on.
    std::shared_ptr<boost::asio::ssl::context> tls_context;
  };

  struct Callbacks {
    std::function<void()> on_open;
    std::function<void(std::string_view)> on_message;
    // Called exactly once after connect(): after a failed connect, or when an open connection
    // ends for any reason ("connect: Connection refused", "closed by peer: 1001 going away",
    // "pong timeout", "closed locally", ...). Destroying the WebSocketClient first closes the
    // connection silently: no callback runs after the owner let go of the client.
    std::function<void(std::string reason)> on_close;
  };

  static std::shared_ptr<WebSocketClient> create(boost::asio::io_context& io, Options options,
                                                 Callbacks callbacks);
  ~WebSocketClient();

  // Starts connecting; call once.
  void connect();
  // Queues a text message; dropped if not open.
  void send_text(std::string text);
  // Starts a normal close (1000); on_close("closed locally") follows. Safe at any time.
  void close();
  bool is_open() const;

  struct Impl;  // defined in websocket_client.cpp (Beast types stay out of this header)

 private:
  WebSocketClient(boost::asio::io_context& io, Options options, Callbacks callbacks);
  std::shared_ptr<Impl> impl_;
};

}  // namespace ivs::io
