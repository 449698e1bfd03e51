#include "app/control/shard_peers.hpp"

#include <spdlog/spdlog.h>
#include <boost/asio/ip/tcp.hpp>

#include "proto/socket_address.hpp"
#include "proto/text.hpp"

namespace ivs::app {
namespace {

namespace asio = boost::asio;
constexpr int kFailuresBeforeLeaving = 2;
// Peers started together (a StatefulSet's pods, the static list of a test) would each see only
// itself in the first round and take every stage; the set is first reported after the second
// round, one refresh later, when the others answer.
constexpr std::uint64_t kRoundsBeforeReporting = 2;

template <class Range>
std::string joined(const Range& items) {
  std::string out;
  for (const auto& item : items) {
    out += (out.empty() ? "" : ", ") + item;
  }
  return out;
}

// "ip:port" / "[v6]:port" as SocketAddress writes it, so it compares equal to SHARD_SELF.
std::string address_text(const asio::ip::address& ip, unsigned short port) {
  const auto address = SocketAddress::from_ip(ip.to_string(), port);
  return address ? address->to_string() : ip.to_string() + ":" + std::to_string(port);
}

// "host:port" or "[v6]:port" -> (host, port); empty host on malformed input.
std::pair<std::string, std::string> split_host_port(std::string_view entry) {
  const std::size_t colon = entry.rfind(':');
  if (colon == std::string_view::npos || colon + 1 == entry.size() || colon == 0) {
    return {};
  }
  std::string_view host = entry.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  return {std::string(host), std::string(entry.substr(colon + 1))};
}

}  // namespace

Result<std::vector<std::string>> parse_shard_peers(std::string_view value) {
  std::vector<std::string> entries;
  std::string current;
  auto flush = [&]() -> Status {
    if (current.empty()) {
      return Ok{};
    }
    const auto [host, port] = split_host_port(current);
    if (host.empty() || port.find_first_not_of("0123456789") != std::string::npos ||
        port.size() > 5) {
      return Error{"SHARD_PEERS entry '" + current +
                   "' is not host:port (e.g. edges.media.svc.cluster.local:8080)"};
    }
    entries.push_back(current);
    current.clear();
    return Ok{};
  };
  for (const char c : value) {
    if (c == ',' || c == ' ' || c == '\n' || c == '\t') {
      if (auto ok = flush(); !ok) {
        return ok.error();
      }
    } else {
      current.push_back(c);
    }
  }
  if (auto ok = flush(); !ok) {
    return ok.error();
  }
  return entries;
}

// One refresh: the resolutions and probes in flight, and what they found.
struct ShardPeers::Round {
  std::size_t pending = 0;
  std::set<std::string> resolved;
  std::set<std::string> answered;  // probes that got 200
  std::set<std::string> failed;    // probes that did not
  std::string error;
};

ShardPeers::ShardPeers(asio::io_context& io, io::HttpClient& http, ShardPeersOptions options,
                       Listener on_change)
    : io_(io),
      http_(http),
      options_(std::move(options)),
      on_change_(std::move(on_change)),
      timer_(io) {
  if (auto self = SocketAddress::from_string(options_.self)) {
    self_is_ipv4_ = self->is_ipv4();
  }
}

ShardPeers::~ShardPeers() {
  *alive_ = false;
  stop();
}

void ShardPeers::start() {
  stopped_ = false;
  begin_round();
}

void ShardPeers::stop() {
  stopped_ = true;
  timer_.cancel();
}

ShardPeersStatus ShardPeers::status() const {
  return status_;
}

void ShardPeers::schedule() {
  if (stopped_) {
    return;
  }
  timer_.expires_after(options_.refresh);
  timer_.async_wait([this, alive = std::weak_ptr<bool>(alive_)](const auto& error) {
    if (auto flag = alive.lock(); flag && *flag && !error && !stopped_) {
      begin_round();
    }
  });
}

void ShardPeers::begin_round() {
  auto round = std::make_shared<Round>();
  round->pending = options_.entries.size();
  for (const std::string& entry : options_.entries) {
    const auto [host, port] = split_host_port(entry);
    auto resolver = std::make_shared<asio::ip::tcp::resolver>(io_);
    resolver->async_resolve(
        host, port,
        [this, round, resolver, entry = entry, alive = std::weak_ptr<bool>(alive_)](
            const boost::system::error_code& error,
            const asio::ip::tcp::resolver::results_type& results) {
          if (auto flag = alive.lock(); !flag || !*flag) {
            return;
          }
          if (error) {
            round->error = "SHARD_PEERS entry " + entry + " did not resolve: " + error.message();
          }
          for (const auto& result : results) {
            // Only SHARD_SELF's family: a dual-stack Service names every pod twice (A and
            // AAAA), and a pod whose listener answered on both would count as two peers, one
            // of them never recognised as itself, and its share of the stages held by nobody.
            if (!self_is_ipv4_ || result.endpoint().address().is_v4() == *self_is_ipv4_) {
              round->resolved.insert(
                  address_text(result.endpoint().address(), result.endpoint().port()));
            }
          }
          if (--round->pending == 0) {
            resolved(round);
          }
        });
  }
  if (options_.entries.empty()) {
    finish(round);
  }
}

void ShardPeers::resolved(const std::shared_ptr<Round>& round) {
  if (round->resolved.empty()) {
    finish(round);  // keeps the last set (finish knows)
    return;
  }
  for (const std::string& address : round->resolved) {
    if (address != options_.self) {
      ++round->pending;
    }
  }
  if (round->pending == 0) {
    probed(round);
    return;
  }
  for (const std::string& address : round->resolved) {
    if (address == options_.self) {
      continue;
    }
    io::HttpClient::Request request;
    request.url = "http://" + address + "/health/ready";
    request.timeout = options_.probe_timeout;
    request.max_redirects = 0;
    request.max_response_bytes = std::size_t{64} * 1024;
    http_.request(std::move(request), [this, round, address, alive = std::weak_ptr<bool>(alive_)](
                                          Result<io::HttpClient::Response> response) {
      if (auto flag = alive.lock(); !flag || !*flag) {
        return;
      }
      if (response && response->status == 200) {
        round->answered.insert(address);
      } else {
        round->failed.insert(address);
      }
      if (--round->pending == 0) {
        probed(round);
      }
    });
  }
}

void ShardPeers::probed(const std::shared_ptr<Round>& round) {
  for (const std::string& address : round->answered) {
    failures_.erase(address);
  }
  for (const std::string& address : round->failed) {
    ++failures_[address];
  }
  finish(round);
}

void ShardPeers::finish(const std::shared_ptr<Round>& round) {
  ++status_.rounds;
  status_.last_error = round->error;
  if (!round->resolved.empty()) {
    status_.resolved.assign(round->resolved.begin(), round->resolved.end());
    std::set<std::string> live;
    for (const std::string& address : round->resolved) {
      const bool was_live = live_.count(address) > 0;
      const auto failures = failures_.find(address);
      const int failed = failures == failures_.end() ? 0 : failures->second;
      if (address == options_.self || round->answered.count(address) > 0 ||
          (was_live && failed < kFailuresBeforeLeaving)) {
        live.insert(address);
      }
    }
    if (live.count(options_.self) == 0 && status_.rounds == kRoundsBeforeReporting) {
      spdlog::warn(
          "SHARD_SELF {} is not among the SHARD_PEERS addresses ({}): this server holds "
          "no stage until it is (as intended for an origin that only feeds edges)",
          options_.self, joined(round->resolved));
    }
    if (status_.rounds < kRoundsBeforeReporting) {
      live_ = std::move(live);  // not reported yet: peers starting with us may not listen yet
      status_.live.assign(live_.begin(), live_.end());
    } else if (live != live_ || status_.rounds == kRoundsBeforeReporting) {
      live_ = std::move(live);
      status_.live.assign(live_.begin(), live_.end());
      spdlog::info("shard peers: {} live ({})", live_.size(), joined(live_));
      on_change_(status_.live);
    }
  } else if (!round->error.empty()) {
    spdlog::warn("shard peers: {}; keeping the last set of {}", round->error, live_.size());
  }
  schedule();
}

}  // namespace ivs::app
