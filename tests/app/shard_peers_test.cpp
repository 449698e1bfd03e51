// ShardPeers over real loopback sockets: names are resolved with the system resolver
// ("localhost" gives 127.0.0.1 and, where configured, ::1), each address but our own is probed
// with GET /health/ready, a peer joins after one good probe and leaves after two failed ones in a
// row, and the first set is reported only after the second round. No sleeps: the loop runs
// until a condition holds, with a deadline.
#include "app/control/shard_peers.hpp"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>

#include <algorithm>
#include <chrono>

#include "h264_feed.hpp"
#include "io/http_router.hpp"
#include "io/http_server.hpp"

namespace ivs::app {
namespace {

using namespace std::chrono_literals;

std::unique_ptr<io::HttpServer> ready_server(boost::asio::io_context& io, int& probes) {
  io::HttpRouter routes;
  routes.get("/health/ready", [&probes](const io::HttpRequest&, const io::RequestContext&) {
    ++probes;
    return io::text_response(io::http::status::ok, "{}", "application/json");
  });
  io::HttpServer::Options options;
  options.bind_address = "127.0.0.1";
  auto server = std::make_unique<io::HttpServer>(io, options, routes.as_handler());
  EXPECT_TRUE(server->start().ok());
  return server;
}

TEST(ShardPeers, ResolvesProbesAndDropsAPeerAfterTwoFailedProbes) {
  boost::asio::io_context io;
  io::HttpClient http(io);
  int probes_self = 0;
  int probes_other = 0;
  auto self_server = ready_server(io, probes_self);
  auto other = ready_server(io, probes_other);
  const std::string self = "127.0.0.1:" + std::to_string(self_server->port());
  const std::string peer = "127.0.0.1:" + std::to_string(other->port());

  ShardPeersOptions options;
  // A name, an address, and an entry where nothing listens.
  options.entries = {"localhost:" + std::to_string(self_server->port()), peer, "127.0.0.1:1"};
  options.self = self;
  options.refresh = 50ms;
  options.probe_timeout = 500ms;
  std::vector<std::vector<std::string>> reports;
  ShardPeers peers(io, http, options,
                   [&](const std::vector<std::string>& live) { reports.push_back(live); });
  peers.start();

  ASSERT_TRUE(test::run_until(
      io, [&] { return !reports.empty(); }, 10s));
  EXPECT_EQ(peers.status().rounds, 2u);  // reported after the second round, not the first
  std::vector<std::string> both{self, peer};
  std::sort(both.begin(), both.end());  // reported sorted
  EXPECT_EQ(reports.back(), both);
  EXPECT_EQ(probes_self, 0);  // we do not probe ourselves
  EXPECT_GE(probes_other, 2);
  const auto& resolved = peers.status().resolved;
  EXPECT_NE(std::find(resolved.begin(), resolved.end(), "127.0.0.1:1"), resolved.end());

  other->stop();
  const std::uint64_t stopped_at = peers.status().rounds;
  ASSERT_TRUE(test::run_until(
      io, [&] { return reports.size() == 2; }, 10s));
  EXPECT_EQ(reports.back(), (std::vector<std::string>{self}));
  EXPECT_GE(peers.status().rounds - stopped_at, 2u);  // two failed probes, not one
  peers.stop();
}

// A dual-stack headless Service names every pod twice (A and AAAA). A pod whose listener answers
// on both families would be two peers, the IPv6 one never recognised as SHARD_SELF, and the
// stages rendezvous gave it held by nobody. Only SHARD_SELF's family is resolved: here a peer
// that answers on ::1 is neither resolved nor probed when SHARD_SELF is IPv4.
TEST(ShardPeers, OnlySelfsAddressFamilyIsAPeer) {
  boost::asio::io_context io;
  io::HttpClient http(io);
  int probes_self = 0;
  int probes_v6 = 0;
  auto self_server = ready_server(io, probes_self);
  io::HttpRouter routes;
  routes.get("/health/ready", [&probes_v6](const io::HttpRequest&, const io::RequestContext&) {
    ++probes_v6;
    return io::text_response(io::http::status::ok, "{}", "application/json");
  });
  io::HttpServer::Options v6_options;
  v6_options.bind_address = "::1";
  io::HttpServer v6_server(io, v6_options, routes.as_handler());
  if (!v6_server.start().ok()) {
    GTEST_SKIP() << "no IPv6 loopback here";
  }
  const std::string self = "127.0.0.1:" + std::to_string(self_server->port());

  ShardPeersOptions options;
  options.entries = {self, "[::1]:" + std::to_string(v6_server.port())};
  options.self = self;
  options.refresh = 50ms;
  options.probe_timeout = 500ms;
  std::vector<std::vector<std::string>> reports;
  ShardPeers peers(io, http, options,
                   [&](const std::vector<std::string>& live) { reports.push_back(live); });
  peers.start();
  ASSERT_TRUE(test::run_until(
      io, [&] { return peers.status().rounds >= 3; }, 10s));
  ASSERT_FALSE(reports.empty());
  EXPECT_EQ(reports.back(), (std::vector<std::string>{self}));
  EXPECT_EQ(peers.status().resolved, (std::vector<std::string>{self}));
  EXPECT_EQ(probes_v6, 0);
  peers.stop();
}

TEST(ShardPeers, ParsesEntriesAndNamesABadOne) {
  auto parsed = parse_shard_peers("a.svc:3001, 10.0.0.2:3001\n[fd00::2]:3001");
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->size(), 3u);
  auto bad = parse_shard_peers("a.svc:3001,b.svc");
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("'b.svc'"), std::string::npos);
}

}  // namespace
}  // namespace ivs::app
