// The server side of one accepted WebSocket connection (RFC 6455), as seen by the application.
// Writes are queued: send_text() may be called at any time from the io_context's thread, even
// from inside on_message, and messages go out in order one at a time. The object stays valid
// (calls become no-ops) after the connection is gone, so the application may hold it in a map
// until its on_close runs.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "io/http_types.hpp"

namespace ivs::io {

class WebSocketPeer {
 public:
  virtual ~WebSocketPeer() = default;

  // Queues one text message. Dropped (and counted in the log) once the peer is closing.
  virtual void send_text(std::string text) = 0;
  // Starts a normal close handshake (code 1000); on_close follows when it completes.
  virtual void close() = 0;
  // "ip:port" of the remote end, for logs.
  virtual std::string remote() const = 0;
  // False once a close was started by either side or the connection failed.
  virtual bool is_open() const = 0;
  // A process-unique number for this connection, handy as a map key in logs.
  virtual std::uint64_t id() const = 0;
};

// A WebSocket endpoint on HttpServer. All callbacks run on the io_context; they may call
// send_text()/close() on the peer (re-entrancy is safe: writes are queued, close is deferred).
struct WebSocketRoute {
  // Decides from the upgrade request (auth headers, query); false -> 401 JSON and no upgrade.
  // Unset means "accept everything".
  std::function<bool(const HttpRequest&)> accept;
  // After the handshake completed.
  std::function<void(std::shared_ptr<WebSocketPeer>, const HttpRequest&)> on_open;
  // One complete text (or binary, delivered as bytes) message.
  std::function<void(std::shared_ptr<WebSocketPeer>, std::string_view text)> on_message;
  // Exactly once per opened peer, however the connection ended.
  std::function<void(std::shared_ptr<WebSocketPeer>)> on_close;
};

}  // namespace ivs::io
