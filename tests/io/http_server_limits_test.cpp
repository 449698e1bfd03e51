// HttpServer's overload defences over real loopback sockets (issue 13, docs/security.md): the
// header deadline, shedding header-waiting connections at the limit, reserved slots that serve
// only /health*, the per-address connection cap and request rate, and the header check that
// answers before any body is read. The admission policy itself is unit tested without sockets
// in connection_table_test.cpp.
#include <gtest/gtest.h>

#include <memory>
#include <optional>

#include "io/http_router.hpp"
#include "io/http_server.hpp"
#include "io/io_test_support.hpp"

namespace ivs::io {
namespace {

using testing::parse_responses;
using testing::RawClient;
using testing::run_until;

class HttpServerLimitsTest : public ::testing::Test {
 protected:
  void start(HttpServer::Options options) {
    options.bind_address = "127.0.0.1";
    router_.get("/health/live", [](const HttpRequest&, const RequestContext&) {
      return json_response(http::status::ok, "{\"status\":\"healthy\"}");
    });
    router_.get("/hello", [](const HttpRequest&, const RequestContext&) {
      return json_response(http::status::ok, "{}");
    });
    router_.post("/upload", [this](const HttpRequest& request, const RequestContext&) {
      ++bodies_read_;
      return text_response(http::status::ok, std::to_string(request.body().size()), "text/plain");
    });
    server_ = std::make_unique<HttpServer>(io_, options, router_.as_handler());
    const auto started = server_->start();
    ASSERT_TRUE(started.ok()) << started.error().message;
  }

  boost::asio::io_context io_;
  HttpRouter router_;
  std::unique_ptr<HttpServer> server_;
  int bodies_read_ = 0;
};

// Issue 13, attack 1: 1,100 sockets that sent a partial header held every slot for the whole
// 30 s request timeout, and /health/live went unanswered until they timed out. Now a connection
// still waiting for its header is the first thing shed when a new one needs its slot.
TEST_F(HttpServerLimitsTest, AtTheLimitTheLongestHeaderWaitingConnectionIsShed) {
  HttpServer::Options options;
  options.max_connections = 3;
  options.reserved_connections = 0;
  start(options);
  std::vector<std::unique_ptr<RawClient>> slow;
  for (int i = 0; i < 3; ++i) {
    slow.push_back(std::make_unique<RawClient>(io_));
    slow.back()->connect(server_->port());
    slow.back()->write("GET /hello HTTP/1.1\r\nHost: h\r\n");  // never finished
    ASSERT_TRUE(run_until(io_, [&] { return server_->active_connections() == slow.size(); }));
  }
  RawClient probe(io_);
  probe.connect(server_->port());
  probe.write("GET /health/live HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n");
  ASSERT_TRUE(run_until(io_, [&] { return probe.closed(); }));
  const auto responses = parse_responses(probe.received());
  ASSERT_EQ(responses.size(), 1u);
  EXPECT_EQ(responses[0].result(), http::status::ok);
  EXPECT_TRUE(run_until(io_, [&] { return slow[0]->closed(); })) << "the oldest is shed first";
  EXPECT_FALSE(slow[2]->closed());
  EXPECT_EQ(server_->stats().evicted, 1u);
}

// When every general slot is doing work (nothing to shed), a reserved slot still answers
// /health* and refuses anything else with 503 + Retry-After.
TEST_F(HttpServerLimitsTest, ReservedSlotsServeOnlyHealth) {
  HttpServer::Options options;
  options.max_connections = 1;
  options.reserved_connections = 1;
  bool header_seen = false;
  options.header_check = [&](const HttpRequest&, const RequestContext&) {
    header_seen = true;
    return std::optional<HttpResponse>();
  };
  start(options);
  RawClient busy(io_);
  busy.connect(server_->port());
  busy.write("POST /upload HTTP/1.1\r\nHost: h\r\nContent-Length: 100\r\n\r\nab");  // stalls
  ASSERT_TRUE(run_until(io_, [&] { return header_seen; }));

  RawClient other(io_);
  other.connect(server_->port());
  other.write("GET /hello HTTP/1.1\r\nHost: h\r\n\r\n");
  ASSERT_TRUE(run_until(io_, [&] { return other.closed(); }));
  auto responses = parse_responses(other.received());
  ASSERT_EQ(responses.size(), 1u);
  EXPECT_EQ(responses[0].result(), http::status::service_unavailable);
  EXPECT_EQ(responses[0][http::field::retry_after], "1");
  // Its slot is free again once the lingering close is over.
  ASSERT_TRUE(run_until(io_, [&] { return server_->active_connections() == 1; }));

  RawClient probe(io_);
  probe.connect(server_->port());
  probe.write("GET /health/live HTTP/1.1\r\nHost: h\r\n\r\n");  // keep-alive asked, not given
  ASSERT_TRUE(run_until(io_, [&] { return probe.closed(); }));
  responses = parse_responses(probe.received());
  ASSERT_EQ(responses.size(), 1u);
  EXPECT_EQ(responses[0].result(), http::status::ok);
  EXPECT_EQ(server_->stats().reserved_refused, 1u);
  EXPECT_FALSE(busy.closed());
}

TEST_F(HttpServerLimitsTest, PerAddressCapClosesTheExtraConnection) {
  HttpServer::Options options;
  options.max_connections_per_ip = 2;
  start(options);
  RawClient a(io_);
  RawClient b(io_);
  a.connect(server_->port());
  b.connect(server_->port());
  ASSERT_TRUE(run_until(io_, [&] { return server_->active_connections() == 2; }));
  RawClient c(io_);
  c.connect(server_->port());
  ASSERT_TRUE(run_until(io_, [&] { return c.closed(); }));
  EXPECT_TRUE(c.received().empty());
  EXPECT_FALSE(a.closed());
  EXPECT_EQ(server_->stats().refused_per_ip, 1u);
}

// The header has its own deadline; a client whose header is in has the (longer) request
// timeout for its body.
TEST_F(HttpServerLimitsTest, HeaderDeadlineIsSeparateFromTheBodyDeadline) {
  HttpServer::Options options;
  options.header_timeout = std::chrono::milliseconds(300);
  options.request_timeout = std::chrono::seconds(20);
  start(options);
  RawClient trickler(io_);
  trickler.connect(server_->port());
  trickler.write("GET /hello HTTP/1.1\r\n");
  RawClient uploader(io_);
  uploader.connect(server_->port());
  uploader.write("POST /upload HTTP/1.1\r\nHost: h\r\nContent-Length: 4\r\n\r\nab");
  ASSERT_TRUE(run_until(
      io_, [&] { return trickler.closed(); }, std::chrono::seconds(5)));
  EXPECT_EQ(server_->stats().header_timeouts, 1u);
  EXPECT_FALSE(uploader.closed()) << "the body deadline is request_timeout, not header_timeout";
  uploader.write("cd");
  ASSERT_TRUE(run_until(io_, [&] { return parse_responses(uploader.received()).size() == 1; }));
  EXPECT_EQ(parse_responses(uploader.received())[0].body(), "4");
}

// Issue 13, attack 2: a POST announcing ~1 MiB and sending nothing more made the server reserve
// the body before the token was checked (300 of them: RSS 23 -> 329 MB). The header check now
// answers from the header alone, the body is never read, and the connection is closed.
TEST_F(HttpServerLimitsTest, HeaderCheckAnswersBeforeAnyBodyIsRead) {
  HttpServer::Options options;
  options.max_body_bytes = std::size_t{2} << 20;
  options.header_check = [](const HttpRequest& request,
                            const RequestContext&) -> std::optional<HttpResponse> {
    if (request[http::field::authorization] != "Bearer right") {
      return json_error(http::status::unauthorized, "no");
    }
    return std::nullopt;
  };
  start(options);
  RawClient client(io_);
  client.connect(server_->port());
  client.write("POST /upload HTTP/1.1\r\nHost: h\r\nContent-Length: 1000000\r\n\r\n");
  ASSERT_TRUE(run_until(
      io_, [&] { return client.closed(); }, std::chrono::seconds(5)));
  const auto responses = parse_responses(client.received());
  ASSERT_EQ(responses.size(), 1u);
  EXPECT_EQ(responses[0].result(), http::status::unauthorized);
  EXPECT_EQ(bodies_read_, 0);
  EXPECT_EQ(server_->stats().rejected_before_body, 1u);

  // Without a body the connection stays usable, and a good request gets through.
  RawClient keep(io_);
  keep.connect(server_->port());
  keep.write("POST /upload HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n");
  ASSERT_TRUE(run_until(io_, [&] { return parse_responses(keep.received()).size() == 1; }));
  EXPECT_FALSE(keep.closed());
  keep.write(
      "POST /upload HTTP/1.1\r\nHost: h\r\nAuthorization: Bearer right\r\n"
      "Content-Length: 3\r\n\r\nabc");
  ASSERT_TRUE(run_until(io_, [&] { return parse_responses(keep.received()).size() == 2; }));
  EXPECT_EQ(parse_responses(keep.received())[1].result(), http::status::ok);
  EXPECT_EQ(bodies_read_, 1);
}

TEST_F(HttpServerLimitsTest, PerAddressRateLimitAnswers429ButNotOnHealth) {
  HttpServer::Options options;
  options.rate_limit_per_ip = 1;  // a bucket of 2
  start(options);
  RawClient client(io_);
  client.connect(server_->port());
  std::string burst;
  for (int i = 0; i < 3; ++i) {
    burst += "GET /hello HTTP/1.1\r\nHost: h\r\n\r\n";
  }
  burst += "GET /health/live HTTP/1.1\r\nHost: h\r\n\r\n";
  client.write(burst);
  ASSERT_TRUE(run_until(io_, [&] { return parse_responses(client.received()).size() == 4; }));
  const auto responses = parse_responses(client.received());
  EXPECT_EQ(responses[0].result(), http::status::ok);
  EXPECT_EQ(responses[1].result(), http::status::ok);
  EXPECT_EQ(responses[2].result(), http::status::too_many_requests);
  EXPECT_EQ(responses[2][http::field::retry_after], "1");
  EXPECT_EQ(responses[3].result(), http::status::ok) << "health probes are not rate limited";
  EXPECT_FALSE(client.closed());
  EXPECT_EQ(server_->stats().rate_limited, 1u);
}

}  // namespace
}  // namespace ivs::io
