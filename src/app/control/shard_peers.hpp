// SHARD_PEERS (docs/scale-out.md): the live peers among which the stages are sharded, refreshed
// every SHARD_REFRESH_INTERVAL from what the platform already knows, not from a membership
// protocol of our own.
//
//   every refresh: resolve each entry (a Kubernetes headless Service name lists the ready pods;
//   an IP literal is itself) ─► probe each address but our own with GET /health/ready
//   ─► the live set = our own address (when listed) + peers whose probe answered 200
//   ─► the listener, when the set changed
//
// Why probe as well as resolve: a static list has no readiness of its own, and DNS answers are
// cached (the pod of a `kill -9`ed edge stays in the records until its readiness probe fails
// three times); the probe finds a dead peer within one refresh. A peer leaves the set after two
// failed probes in a row (one slow answer does not move its stages back and forth) and joins
// after one good one. A resolution that fails keeps the last set: a DNS blip must not make every
// peer take every stage. The first set is reported after the second round (one refresh after
// start): peers started together each see only themselves in the first.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "io/http_client.hpp"

namespace ivs::app {

struct ShardPeersOptions {
  std::vector<std::string> entries;  // SHARD_PEERS: "host:port" each
  std::string self;                  // SHARD_SELF: our "ip:port" as the entries resolve to it
  std::chrono::milliseconds refresh{2000};
  std::chrono::milliseconds probe_timeout{1000};
};

struct ShardPeersStatus {
  std::vector<std::string> resolved;  // every address the entries gave in the last round
  std::vector<std::string> live;      // the set the stages are sharded over
  std::uint64_t rounds = 0;
  std::string last_error;  // the last resolution or probe problem, "" when none
};

class ShardPeers {
 public:
  using Listener = std::function<void(const std::vector<std::string>& live)>;
  ShardPeers(boost::asio::io_context& io, io::HttpClient& http, ShardPeersOptions options,
             Listener on_change);
  ~ShardPeers();
  ShardPeers(const ShardPeers&) = delete;
  ShardPeers& operator=(const ShardPeers&) = delete;

  void start();
  void stop();
  ShardPeersStatus status() const;

 private:
  struct Round;
  void begin_round();
  void resolved(const std::shared_ptr<Round>& round);
  void probed(const std::shared_ptr<Round>& round);
  void finish(const std::shared_ptr<Round>& round);
  void schedule();

  boost::asio::io_context& io_;
  io::HttpClient& http_;
  ShardPeersOptions options_;
  std::optional<bool> self_is_ipv4_;  // SHARD_SELF's family: the only one resolved
  Listener on_change_;
  boost::asio::steady_timer timer_;
  bool stopped_ = true;
  std::set<std::string> live_;
  std::map<std::string, int> failures_;  // consecutive failed probes, by address
  ShardPeersStatus status_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

// "host:port" entries of a SHARD_PEERS value (comma- or space-separated); an error names the
// entry that has no port.
Result<std::vector<std::string>> parse_shard_peers(std::string_view value);

}  // namespace ivs::app
