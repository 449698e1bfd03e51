// Placeholder until the client code lands (same API).
#include "io/websocket_client.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

namespace ivs::io {

struct WebSocketClient::Impl {
  boost::asio::io_context& io;
  Options options;
  Callbacks callbacks;
};

std::shared_ptr<WebSocketClient> WebSocketClient::create(boost::asio::io_context& io,
                                                         Options options, Callbacks callbacks) {
  return std::shared_ptr<WebSocketClient>(
      new WebSocketClient(io, std::move(options), std::move(callbacks)));
}
WebSocketClient::WebSocketClient(boost::asio::io_context& io, Options options, Callbacks callbacks)
    : impl_(std::make_shared<Impl>(Impl{io, std::move(options), std::move(callbacks)})) {}
WebSocketClient::~WebSocketClient() = default;
void WebSocketClient::connect() {
  boost::asio::post(impl_->io, [impl = impl_] {
    if (impl->callbacks.on_close) {
      impl->callbacks.on_close("not implemented yet");
    }
  });
}
void WebSocketClient::send_text(std::string) {}
void WebSocketClient::close() {}
bool WebSocketClient::is_open() const {
  return false;
}

}  // namespace ivs::io
