// The listener half of HttpServer: bind/listen, accept, connection admission (per-address cap,
// eviction of header-waiting connections, reserved slots; io/connection_table.hpp) and stop().
// The per-connection session loop is in http_server.cpp.
#include <spdlog/spdlog.h>
#include <boost/asio/ssl/context.hpp>

#include "io/clock.hpp"
#include "io/http_server.hpp"
#include "io/http_server_state.hpp"

namespace ivs::io {

namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using boost::system::error_code;

// Refusals are logged at most once per this interval (with a count), so a flood of connections
// does not become a flood of log lines.
constexpr auto kRefusalLogInterval = std::chrono::seconds(10);

}  // namespace

std::string endpoint_text(const tcp::endpoint& endpoint) {
  const auto address = endpoint.address();
  std::string text = address.is_v6() ? "[" + address.to_string() + "]" : address.to_string();
  return text + ":" + std::to_string(endpoint.port());
}

std::string address_text(const tcp::endpoint& endpoint) {
  return endpoint.address().to_string();
}

std::uint64_t HttpServer::State::register_connection(const tcp::endpoint& remote, SlotKind slot,
                                                     std::function<void()> closer) {
  return table.add(address_text(remote), slot, monotonic_now(), std::move(closer));
}

void HttpServer::State::unregister_connection(std::uint64_t id) {
  table.remove(id);
}

void HttpServer::State::awaiting_header(std::uint64_t id, bool awaiting) {
  table.set_awaiting_header(id, awaiting, monotonic_now());
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

namespace {

// One warning per interval naming how many connections were refused for `reason` since the
// last one.
void log_refusal(Instant& last_line, std::uint64_t& held_back, std::string_view reason,
                 std::uint16_t port) {
  ++held_back;
  const Instant now = monotonic_now();
  if (last_line != Instant{} && now - last_line < kRefusalLogInterval) {
    return;
  }
  spdlog::warn("http: port {}: closed {} new connection(s): {}", port, held_back, reason);
  last_line = now;
  held_back = 0;
}

}  // namespace

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
  error_code ignored;
  const auto remote = socket.remote_endpoint(ignored);
  const ConnectionDecision decision = table.decide(address_text(remote));
  using Outcome = ConnectionDecision::Outcome;
  if (decision.outcome == Outcome::refuse_per_ip) {
    ++stats.refused_per_ip;
    log_refusal(refusal_logged_at, refusals_held_back,
                "per-address limit of " + std::to_string(options.max_connections_per_ip) +
                    " reached (last from " + address_text(remote) + ")",
                bound_port);
  } else if (decision.outcome == Outcome::refuse_full) {
    ++stats.refused_full;
    log_refusal(refusal_logged_at, refusals_held_back,
                "every connection slot is busy (" + std::to_string(options.max_connections) +
                    " + " + std::to_string(options.reserved_connections) + " reserved)",
                bound_port);
  } else {
    if (decision.evict) {
      ++stats.evicted;
      if (const auto* closer = table.closer(*decision.evict)) {
        const auto close = *closer;  // closing may unregister the entry
        close();
      }
      table.remove(*decision.evict);  // its slot is free now, even before its handlers run
    }
    start_http_session(shared_from_this(), std::move(socket), decision.slot);
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

void HttpServer::set_tls_context(std::shared_ptr<asio::ssl::context> tls_context) {
  state_->options.tls_context = std::move(tls_context);
}

void HttpServer::stop() {
  state_->running = false;
  error_code ignored;
  state_->acceptor.close(ignored);
  state_->retry_timer.cancel();
  // Closers may unregister themselves synchronously; iterate over a copy.
  for (auto& closer : state_->table.closers()) {
    closer();
  }
}

std::size_t HttpServer::active_connections() const {
  return state_->table.size();
}

HttpServer::Stats HttpServer::stats() const {
  return state_->stats;
}

}  // namespace ivs::io
