// WebSocketClient against HttpServer's WebSocket routes, and against a raw test server that
// misbehaves on purpose (garbage frames, a connection cut mid-message, a peer that never
// answers pings). Real loopback sockets on port 0; every wait is on an event with a deadline.
#include "io/websocket_client.hpp"

#include <gtest/gtest.h>

#include <openssl/evp.h>
#include <openssl/sha.h>
#include <boost/asio/read_until.hpp>
#include <boost/asio/streambuf.hpp>

#include "io/http_server.hpp"
#include "io/io_test_support.hpp"
#include "io/tls_test_support.hpp"

namespace ivs::io {
namespace {

using namespace std::chrono_literals;
using testing::run_until;
namespace asio = boost::asio;
using tcp = asio::ip::tcp;

// What a client saw, in order.
struct ClientLog {
  int opens = 0;
  std::vector<std::string> messages;
  std::vector<std::string> closes;

  WebSocketClient::Callbacks callbacks() {
    return {.on_open = [this] { ++opens; },
            .on_message = [this](std::string_view text) { messages.emplace_back(text); },
            .on_close = [this](std::string reason) { closes.push_back(std::move(reason)); }};
  }
};

// A WebSocket "server" that completes the opening handshake by hand and then misbehaves.
class RawWebSocketServer {
 public:
  enum class Behaviour { kSilent, kGarbage, kCutMidMessage };

  RawWebSocketServer(asio::io_context& io, Behaviour behaviour)
      : acceptor_(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)),
        socket_(io),
        behaviour_(behaviour) {
    acceptor_.async_accept(socket_, [this](boost::system::error_code error) {
      if (!error) {
        read_upgrade();
      }
    });
  }

  std::uint16_t port() const { return acceptor_.local_endpoint().port(); }

 private:
  static std::string accept_key(const std::string& key) {
    const std::string input = key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
    unsigned char digest[SHA_DIGEST_LENGTH];
    SHA1(reinterpret_cast<const unsigned char*>(input.data()), input.size(), digest);
    unsigned char encoded[64] = {};
    EVP_EncodeBlock(encoded, digest, SHA_DIGEST_LENGTH);
    return reinterpret_cast<char*>(encoded);
  }

  void read_upgrade() {
    asio::async_read_until(socket_, asio::dynamic_buffer(request_), "\r\n\r\n",
                           [this](boost::system::error_code error, std::size_t) {
                             if (!error) {
                               answer();
                             }
                           });
  }

  void answer() {
    const auto start = request_.find("Sec-WebSocket-Key: ") + 19;
    const auto key = request_.substr(start, request_.find("\r\n", start) - start);
    reply_ =
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        "Sec-WebSocket-Accept: " +
        accept_key(key) + "\r\n\r\n";
    if (behaviour_ == Behaviour::kGarbage) {
      reply_ += std::string("\x8f\x00", 2);  // FIN + reserved opcode 0xF, empty
    } else if (behaviour_ == Behaviour::kCutMidMessage) {
      reply_ += std::string("\x01\x05hel", 5);  // text, FIN=0, 5 bytes announced, 3 sent
    }
    asio::async_write(socket_, asio::buffer(reply_),
                      [this](boost::system::error_code, std::size_t) {
                        if (behaviour_ == Behaviour::kCutMidMessage) {
                          boost::system::error_code ignored;
                          socket_.close(ignored);
                        }
                      });
  }

  tcp::acceptor acceptor_;
  tcp::socket socket_;
  Behaviour behaviour_;
  std::string request_;
  std::string reply_;
};

class WebSocketTest : public ::testing::Test {
 protected:
  void start_server(std::shared_ptr<asio::ssl::context> tls = nullptr) {
    HttpServer::Options options;
    options.bind_address = "127.0.0.1";
    options.max_body_bytes = 1000;
    options.tls_context = std::move(tls);
    server_ =
        std::make_unique<HttpServer>(io_, options, [](const HttpRequest&, const RequestContext&) {
          return json_error(http::status::not_found, "no");
        });
    server_->add_websocket_route(
        "/ws", {.accept =
                    [this](const HttpRequest& request) {
                      seen_api_key_ = std::string(request["x-api-key"]);
                      seen_type_ = query_param(request, "type").value_or("");
                      return seen_api_key_ == "secret";
                    },
                .on_open = [this](std::shared_ptr<WebSocketPeer> peer,
                                  const HttpRequest&) { peers_.push_back(peer); },
                .on_message =
                    [](std::shared_ptr<WebSocketPeer> peer, std::string_view text) {
                      if (text == "bye") {
                        return peer->close();
                      }
                      peer->send_text("echo:" + std::string(text));
                    },
                .on_close = [this](std::shared_ptr<WebSocketPeer>) { ++server_closes_; }});
    ASSERT_TRUE(server_->start().ok());
  }

  std::shared_ptr<WebSocketClient> make_client(ClientLog& log, std::string url,
                                               std::string api_key = "secret") {
    WebSocketClient::Options options;
    options.url = std::move(url);
    options.headers = {{"x-api-key", api_key}, {"serverId", "media-1"}};
    options.connect_timeout = 2s;
    return WebSocketClient::create(io_, options, log.callbacks());
  }

  std::string server_url(std::string_view scheme = "ws") const {
    return std::string(scheme) + "://127.0.0.1:" + std::to_string(server_->port()) +
           "/ws?type=media-server";
  }

  asio::io_context io_;
  std::unique_ptr<HttpServer> server_;
  std::vector<std::shared_ptr<WebSocketPeer>> peers_;
  std::string seen_api_key_;
  std::string seen_type_;
  int server_closes_ = 0;
};

TEST_F(WebSocketTest, EchoesThroughAServerRouteAndAcceptSeesHeaders) {
  start_server();
  ClientLog log;
  auto client = make_client(log, server_url());
  client->send_text("queued before open");
  client->connect();
  ASSERT_TRUE(run_until(io_, [&] { return log.messages.size() == 1 || !log.closes.empty(); }));
  EXPECT_EQ(log.opens, 1);
  EXPECT_EQ(seen_api_key_, "secret");
  EXPECT_EQ(seen_type_, "media-server");
  client->send_text("second");
  ASSERT_TRUE(run_until(io_, [&] { return log.messages.size() == 2; }));
  EXPECT_EQ(log.messages, (std::vector<std::string>{"echo:queued before open", "echo:second"}));
  ASSERT_EQ(peers_.size(), 1u);
  EXPECT_TRUE(peers_[0]->is_open());
  EXPECT_TRUE(log.closes.empty());
}

TEST_F(WebSocketTest, RejectedUpgradeGets401AndOnCloseOnce) {
  start_server();
  ClientLog log;
  auto client = make_client(log, server_url(), "wrong");
  client->connect();
  ASSERT_TRUE(run_until(io_, [&] { return !log.closes.empty(); }));
  run_until(
      io_, [] { return false; }, 100ms);
  EXPECT_EQ(log.opens, 0);
  ASSERT_EQ(log.closes.size(), 1u);
  EXPECT_NE(log.closes[0].find("upgrade rejected: 401"), std::string::npos) << log.closes[0];
  EXPECT_EQ(server_closes_, 0);
}

TEST_F(WebSocketTest, ServerCloseIsReportedWithTheCode) {
  start_server();
  ClientLog log;
  auto client = make_client(log, server_url());
  client->connect();
  client->send_text("bye");
  ASSERT_TRUE(run_until(io_, [&] { return !log.closes.empty() && server_closes_ == 1; }));
  EXPECT_EQ(log.closes, (std::vector<std::string>{"closed by peer: 1000"}));
  EXPECT_TRUE(run_until(io_, [&] { return server_->active_connections() == 0; }));
}

TEST_F(WebSocketTest, ClientCloseEndsBothSidesOnce) {
  start_server();
  ClientLog log;
  auto client = make_client(log, server_url());
  client->connect();
  ASSERT_TRUE(run_until(io_, [&] { return log.opens == 1 && peers_.size() == 1; }));
  client->close();
  client->close();
  ASSERT_TRUE(run_until(io_, [&] { return !log.closes.empty() && server_closes_ == 1; }));
  run_until(
      io_, [] { return false; }, 100ms);
  EXPECT_EQ(log.closes, (std::vector<std::string>{"closed locally"}));
  EXPECT_EQ(server_closes_, 1);
  EXPECT_FALSE(peers_[0]->is_open());
  peers_[0]->send_text("ignored after close");  // must be a harmless no-op
}

TEST_F(WebSocketTest, ServerStopClosesPeers) {
  start_server();
  ClientLog log;
  auto client = make_client(log, server_url());
  client->connect();
  ASSERT_TRUE(run_until(io_, [&] { return log.opens == 1 && peers_.size() == 1; }));
  server_->stop();
  ASSERT_TRUE(run_until(io_, [&] { return !log.closes.empty() && server_closes_ == 1; }));
  EXPECT_EQ(log.closes.size(), 1u);
}

TEST_F(WebSocketTest, OversizedMessageFromClientClosesTheServerSide) {
  start_server();  // the server's limit is max_body_bytes = 1000
  ClientLog log;
  auto client = make_client(log, server_url());
  client->connect();
  client->send_text(std::string(5000, 'x'));
  ASSERT_TRUE(run_until(io_, [&] { return !log.closes.empty() && server_closes_ == 1; }));
  // The client may see "closed by peer: 1009" or, when the server's close races the rest of
  // the oversized message, a reset; either way it ends exactly once and nothing is delivered.
  run_until(
      io_, [] { return false; }, 100ms);
  EXPECT_TRUE(log.messages.empty());
  EXPECT_EQ(log.closes.size(), 1u);
  EXPECT_EQ(server_closes_, 1);
}

TEST_F(WebSocketTest, ConnectionRefusedIsReportedOnce) {
  std::uint16_t closed_port = 0;
  {
    tcp::acceptor probe(io_, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    closed_port = probe.local_endpoint().port();
  }
  ClientLog log;
  auto client = make_client(log, "ws://127.0.0.1:" + std::to_string(closed_port) + "/ws");
  client->connect();
  ASSERT_TRUE(run_until(io_, [&] { return !log.closes.empty(); }));
  EXPECT_EQ(log.opens, 0);
  EXPECT_NE(log.closes[0].find("Connection refused"), std::string::npos) << log.closes[0];
}

// Beast answers a protocol violation with close 1002 and then waits for the server to close the
// TCP connection; a server that stays silent is cut off by the keepalive, so the bound is
// ping_interval + pong_timeout.
TEST_F(WebSocketTest, GarbageFromServerEndsTheConnectionOnce) {
  RawWebSocketServer raw(io_, RawWebSocketServer::Behaviour::kGarbage);
  ClientLog log;
  WebSocketClient::Options options;
  options.url = "ws://127.0.0.1:" + std::to_string(raw.port()) + "/ws";
  options.ping_interval = 50ms;
  options.pong_timeout = 50ms;
  auto client = WebSocketClient::create(io_, options, log.callbacks());
  client->connect();
  ASSERT_TRUE(run_until(
      io_, [&] { return !log.closes.empty(); }, 5s));
  run_until(
      io_, [] { return false; }, 100ms);
  EXPECT_EQ(log.opens, 1);
  ASSERT_EQ(log.closes.size(), 1u);
  EXPECT_TRUE(log.messages.empty());
}

TEST_F(WebSocketTest, ConnectionCutMidMessageEndsTheConnectionOnce) {
  RawWebSocketServer raw(io_, RawWebSocketServer::Behaviour::kCutMidMessage);
  ClientLog log;
  auto client = make_client(log, "ws://127.0.0.1:" + std::to_string(raw.port()) + "/ws");
  client->connect();
  ASSERT_TRUE(run_until(io_, [&] { return !log.closes.empty(); }));
  run_until(
      io_, [] { return false; }, 100ms);
  EXPECT_EQ(log.opens, 1);
  ASSERT_EQ(log.closes.size(), 1u);
  EXPECT_TRUE(log.messages.empty());
}

TEST_F(WebSocketTest, SilentPeerIsDroppedAfterPongTimeout) {
  RawWebSocketServer raw(io_, RawWebSocketServer::Behaviour::kSilent);
  ClientLog log;
  WebSocketClient::Options options;
  options.url = "ws://127.0.0.1:" + std::to_string(raw.port()) + "/ws";
  options.ping_interval = 50ms;
  options.pong_timeout = 50ms;
  auto client = WebSocketClient::create(io_, options, log.callbacks());
  client->connect();
  ASSERT_TRUE(run_until(
      io_, [&] { return !log.closes.empty(); }, 5s));
  EXPECT_EQ(log.opens, 1);
  ASSERT_EQ(log.closes.size(), 1u);
  EXPECT_NE(log.closes[0].find("pong timeout"), std::string::npos) << log.closes[0];
}

TEST_F(WebSocketTest, AnsweringPeerSurvivesManyPingIntervals) {
  start_server();
  ClientLog log;
  WebSocketClient::Options options;
  options.url = server_url();
  options.headers = {{"x-api-key", "secret"}};
  options.ping_interval = 20ms;
  options.pong_timeout = 200ms;
  auto client = WebSocketClient::create(io_, options, log.callbacks());
  client->connect();
  // Nothing should end the connection for ten ping intervals.
  EXPECT_FALSE(run_until(
      io_, [&] { return !log.closes.empty(); }, 200ms));
  EXPECT_EQ(log.opens, 1);
}

TEST_F(WebSocketTest, SecureWebSocketVerifiesTheCertificate) {
  const auto certificate = testing::make_self_signed_certificate("DNS:localhost,IP:127.0.0.1");
  start_server(testing::make_server_tls_context(certificate));

  ClientLog rejected;
  auto untrusting = make_client(rejected, server_url("wss"));
  untrusting->connect();
  ASSERT_TRUE(run_until(io_, [&] { return !rejected.closes.empty(); }));
  EXPECT_NE(rejected.closes[0].find("certificate verify failed"), std::string::npos)
      << rejected.closes[0];

  ClientLog accepted;
  WebSocketClient::Options options;
  options.url = server_url("wss");
  options.headers = {{"x-api-key", "secret"}};
  options.tls_context = testing::make_client_tls_context_trusting(certificate);
  auto trusting = WebSocketClient::create(io_, options, accepted.callbacks());
  trusting->connect();
  trusting->send_text("over tls");
  ASSERT_TRUE(
      run_until(io_, [&] { return !accepted.messages.empty() || !accepted.closes.empty(); }));
  EXPECT_EQ(accepted.messages, (std::vector<std::string>{"echo:over tls"}));
}

TEST_F(WebSocketTest, DestroyingTheClientSuppressesCallbacks) {
  start_server();
  ClientLog log;
  auto client = make_client(log, server_url());
  client->connect();
  ASSERT_TRUE(run_until(io_, [&] { return log.opens == 1; }));
  client.reset();
  ASSERT_TRUE(run_until(io_, [&] { return server_closes_ == 1; }));
  EXPECT_TRUE(log.closes.empty());
}

}  // namespace
}  // namespace ivs::io
