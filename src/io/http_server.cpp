// Placeholder until the session code lands (same API).
#include "io/http_server.hpp"

#include <boost/asio/io_context.hpp>

namespace ivs::io {

struct HttpServer::State {
  Options options;
  Handler handler;
};

HttpServer::HttpServer(boost::asio::io_context&, Options options, Handler handler)
    : state_(std::make_shared<State>(State{std::move(options), std::move(handler)})) {}
HttpServer::~HttpServer() = default;
void HttpServer::add_websocket_route(std::string, WebSocketRoute) {}
Status HttpServer::start() {
  return make_error("HttpServer: not implemented yet");
}
std::uint16_t HttpServer::port() const {
  return 0;
}
void HttpServer::stop() {}
std::size_t HttpServer::active_connections() const {
  return 0;
}

}  // namespace ivs::io
