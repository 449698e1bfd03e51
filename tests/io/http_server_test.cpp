// HttpServer over real loopback sockets (port 0): framing limits, malformed input, keep-alive,
// HEAD, handler failures, connection accounting. Raw bytes go through RawClient so the tests
// see exactly what the server writes.
#include "io/http_server.hpp"

#include <gtest/gtest.h>

#include <stdexcept>

#include "io/http_router.hpp"
#include "io/io_test_support.hpp"

namespace ivs::io {
namespace {

using testing::parse_responses;
using testing::RawClient;
using testing::run_until;

class HttpServerTest : public ::testing::Test {
 protected:
  void start(HttpServer::Options options = {}) {
    options.bind_address = "127.0.0.1";
    router_.get("/hello", [](const HttpRequest&, const RequestContext& context) {
      return json_response(http::status::ok, "{\"hello\":\"" + context.scheme_host + "\"}");
    });
    router_.post("/echo", [](const HttpRequest& request, const RequestContext&) {
      return text_response(http::status::ok, request.body(), "text/plain");
    });
    router_.get("/throw", [](const HttpRequest&, const RequestContext&) -> HttpResponse {
      throw std::runtime_error("boom");
    });
    server_ = std::make_unique<HttpServer>(io_, options, router_.as_handler());
    const auto started = server_->start();
    ASSERT_TRUE(started.ok()) << started.error().message;
    ASSERT_NE(server_->port(), 0);
  }

  // Sends `bytes` on a new connection and waits until the server closed it.
  std::string exchange_until_closed(std::string bytes) {
    RawClient client(io_);
    client.connect(server_->port());
    EXPECT_TRUE(run_until(io_, [&] { return client.connected() || client.closed(); }));
    client.write(std::move(bytes));
    EXPECT_TRUE(run_until(io_, [&] { return client.closed(); }));
    return client.received();
  }

  boost::asio::io_context io_;
  HttpRouter router_;
  std::unique_ptr<HttpServer> server_;
};

TEST_F(HttpServerTest, AnswersJsonWithServerAndContentLength) {
  start();
  const auto bytes = exchange_until_closed(
      "GET /hello HTTP/1.1\r\nHost: example.test:81\r\nConnection: close\r\n\r\n");
  const auto responses = parse_responses(bytes);
  ASSERT_EQ(responses.size(), 1u);
  EXPECT_EQ(responses[0].result(), http::status::ok);
  EXPECT_EQ(responses[0][http::field::server], "ivs-media-server");
  EXPECT_EQ(responses[0][http::field::content_length], std::to_string(responses[0].body().size()));
  EXPECT_EQ(responses[0].body(), "{\"hello\":\"http://example.test:81\"}");
}

TEST_F(HttpServerTest, UnknownPathIs404AndWrongMethodIs405WithAllow) {
  start();
  const auto bytes = exchange_until_closed(
      "GET /nope HTTP/1.1\r\nHost: h\r\n\r\n"
      "DELETE /hello HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n");
  const auto responses = parse_responses(bytes);
  ASSERT_EQ(responses.size(), 2u);
  EXPECT_EQ(responses[0].result(), http::status::not_found);
  EXPECT_EQ(responses[0][http::field::content_type], "application/json");
  EXPECT_EQ(responses[1].result(), http::status::method_not_allowed);
  EXPECT_EQ(responses[1][http::field::allow], "GET, HEAD");
}

TEST_F(HttpServerTest, KeepAliveServesTwoRequestsOnOneConnection) {
  start();
  RawClient client(io_);
  client.connect(server_->port());
  client.write("GET /hello HTTP/1.1\r\nHost: h\r\n\r\n");
  ASSERT_TRUE(run_until(io_, [&] { return parse_responses(client.received()).size() == 1; }));
  EXPECT_FALSE(client.closed());
  EXPECT_EQ(server_->active_connections(), 1u);
  client.write("POST /echo HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nabcde");
  ASSERT_TRUE(run_until(io_, [&] { return parse_responses(client.received()).size() == 2; }));
  EXPECT_EQ(parse_responses(client.received())[1].body(), "abcde");
  EXPECT_FALSE(client.closed());
}

TEST_F(HttpServerTest, OversizedBodyIs413AndCloses) {
  HttpServer::Options options;
  options.max_body_bytes = 100;
  start(options);
  const auto bytes = exchange_until_closed(
      "POST /echo HTTP/1.1\r\nHost: h\r\nContent-Length: 101\r\n\r\n" + std::string(101, 'x'));
  const auto responses = parse_responses(bytes);
  ASSERT_EQ(responses.size(), 1u);
  EXPECT_EQ(responses[0].result(), http::status::payload_too_large);
  EXPECT_NE(responses[0].body().find("\"error\""), std::string::npos);
  EXPECT_FALSE(responses[0].keep_alive());
}

TEST_F(HttpServerTest, OversizedChunkedBodyIs413) {
  HttpServer::Options options;
  options.max_body_bytes = 10;
  start(options);
  const auto bytes = exchange_until_closed(
      "POST /echo HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
      "8\r\n01234567\r\n8\r\n01234567\r\n0\r\n\r\n");
  const auto responses = parse_responses(bytes);
  ASSERT_EQ(responses.size(), 1u);
  EXPECT_EQ(responses[0].result(), http::status::payload_too_large);
}

TEST_F(HttpServerTest, MalformedBytesAre400AndClose) {
  start();
  const auto bytes = exchange_until_closed("\x01\x02 garbage \xff\r\n\r\n");
  const auto responses = parse_responses(bytes);
  ASSERT_EQ(responses.size(), 1u);
  EXPECT_EQ(responses[0].result(), http::status::bad_request);
  EXPECT_EQ(responses[0][http::field::content_type], "application/json");
}

TEST_F(HttpServerTest, HeaderTooLargeIs431AndCloses) {
  HttpServer::Options options;
  options.max_header_bytes = 1024;
  start(options);
  const auto bytes = exchange_until_closed(
      "GET /hello HTTP/1.1\r\nHost: h\r\nX-Big: " + std::string(4000, 'a') + "\r\n\r\n");
  const auto responses = parse_responses(bytes);
  ASSERT_EQ(responses.size(), 1u);
  EXPECT_EQ(responses[0].result(), http::status::request_header_fields_too_large);
}

TEST_F(HttpServerTest, HandlerExceptionIs500AndServerKeepsServing) {
  start();
  const auto bytes = exchange_until_closed(
      "GET /throw HTTP/1.1\r\nHost: h\r\n\r\nGET /hello HTTP/1.1\r\nHost: h\r\nConnection: "
      "close\r\n\r\n");
  const auto responses = parse_responses(bytes);
  ASSERT_EQ(responses.size(), 2u);
  EXPECT_EQ(responses[0].result(), http::status::internal_server_error);
  EXPECT_EQ(responses[0].body(), "{\"error\":\"internal error\"}");
  EXPECT_EQ(responses[1].result(), http::status::ok);
}

TEST_F(HttpServerTest, HeadSendsHeadersWithContentLengthButNoBody) {
  start();
  const auto bytes =
      exchange_until_closed("HEAD /hello HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n");
  const auto responses = parse_responses(bytes, true);
  ASSERT_EQ(responses.size(), 1u);
  EXPECT_EQ(responses[0].result(), http::status::ok);
  EXPECT_EQ(responses[0][http::field::content_length],
            std::to_string(std::string_view(R"({"hello":"http://h"})").size()));
  EXPECT_EQ(bytes.substr(bytes.size() - 4), "\r\n\r\n");
}

TEST_F(HttpServerTest, ExpectContinueGets100BeforeTheBody) {
  start();
  RawClient client(io_);
  client.connect(server_->port());
  client.write(
      "POST /echo HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\nExpect: 100-continue\r\n\r\n");
  ASSERT_TRUE(
      run_until(io_, [&] { return client.received().find("\r\n\r\n") != std::string::npos; }));
  EXPECT_EQ(client.received().rfind("HTTP/1.1 100 Continue\r\n", 0), 0u);
  client.write("xyz");
  ASSERT_TRUE(run_until(io_, [&] { return client.received().ends_with("xyz"); }));
}

TEST_F(HttpServerTest, IdleConnectionIsClosedAfterHeaderTimeout) {
  HttpServer::Options options;
  options.header_timeout = std::chrono::seconds(1);
  start(options);
  RawClient client(io_);
  client.connect(server_->port());
  client.write("GET /hello HTTP/1.1\r\n");  // never finishes the header
  ASSERT_TRUE(run_until(
      io_, [&] { return client.closed(); }, std::chrono::seconds(5)));
  EXPECT_TRUE(client.received().empty());
}

// Every slot busy with work (a body being read) and no reserved slot: a new connection is
// closed at once. (Header-waiting connections are shed instead: http_server_limits_test.cpp.)
TEST_F(HttpServerTest, ConnectionLimitClosesExtraConnections) {
  HttpServer::Options options;
  options.max_connections = 1;
  options.reserved_connections = 0;
  bool header_seen = false;
  options.header_check = [&](const HttpRequest&, const RequestContext&) {
    header_seen = true;
    return std::optional<HttpResponse>();
  };
  start(options);
  RawClient first(io_);
  first.connect(server_->port());
  first.write("POST /echo HTTP/1.1\r\nHost: h\r\nContent-Length: 10\r\n\r\nab");
  ASSERT_TRUE(run_until(io_, [&] { return header_seen; }));
  RawClient second(io_);
  second.connect(server_->port());
  ASSERT_TRUE(run_until(io_, [&] { return second.closed(); }));
  EXPECT_FALSE(first.closed());
  EXPECT_EQ(server_->stats().refused_full, 1u);
}

TEST_F(HttpServerTest, StopClosesConnections) {
  start();
  RawClient client(io_);
  client.connect(server_->port());
  ASSERT_TRUE(run_until(io_, [&] { return server_->active_connections() == 1; }));
  server_->stop();
  ASSERT_TRUE(run_until(io_, [&] { return client.closed(); }));
  EXPECT_TRUE(run_until(io_, [&] { return server_->active_connections() == 0; }));
}

TEST_F(HttpServerTest, BindFailureNamesAddressAndReason) {
  start();
  HttpServer::Options options;
  options.bind_address = "127.0.0.1";
  options.port = server_->port();
  HttpServer second(io_, options, router_.as_handler());
  const auto started = second.start();
  ASSERT_FALSE(started.ok());
  EXPECT_NE(started.error().message.find("127.0.0.1:" + std::to_string(server_->port())),
            std::string::npos);
  EXPECT_NE(started.error().message.find("in use"), std::string::npos) << started.error().message;
}

}  // namespace
}  // namespace ivs::io
