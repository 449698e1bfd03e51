// A small simulated network for two-peer engine tests on a simulated clock (STYLE.md §7).
//
// It is a queue of datagrams, each with from/to SocketAddress and the Instant it is delivered.
// Sending applies the link model (delay + jitter, loss, duplication, reordering by extra delay)
// with a seeded generator, so a test run reproduces bit for bit. It knows nothing about ICE,
// DTLS or RTP: tests move datagrams between engines themselves:
//
//   network.send(now, from, to, bytes);             // what an engine's poll_transmit() gave
//   while (auto datagram = network.poll_delivery(now)) { engine.handle_packet(...); }
//   now = min(network.next_delivery(), engine.poll_timeout());
//
// Extras used by ICE tests and useful elsewhere: a one-to-one NAT mapping (packets from `inside`
// leave as `outside`; packets to `outside` arrive at `inside`), and blocking a host so that it
// "goes silent" in both directions.
#pragma once

#include <cstdint>
#include <optional>
#include <queue>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "engine/random.hpp"
#include "proto/bytes.hpp"
#include "proto/socket_address.hpp"
#include "proto/time.hpp"

namespace ivs::test {

struct SimLinkModel {
  Duration delay = milliseconds(10);
  Duration jitter = Duration::zero();  // Uniform extra delay in [0, jitter).
  double loss = 0.0;                   // Probability a datagram is dropped.
  double duplicate = 0.0;              // Probability a datagram is delivered twice.
  double reorder = 0.0;                // Probability a datagram is held back by reorder_delay.
  Duration reorder_delay = milliseconds(40);
};

struct SimDatagram {
  SocketAddress from;
  SocketAddress to;
  Bytes payload;
  Instant deliver_at;
};

struct SimNetworkCounters {
  std::uint64_t sent = 0;
  std::uint64_t delivered = 0;
  std::uint64_t lost = 0;
  std::uint64_t duplicated = 0;
  std::uint64_t reordered = 0;
  std::uint64_t blocked = 0;
};

class SimNetwork {
 public:
  explicit SimNetwork(std::uint64_t seed, SimLinkModel model = {});

  void set_model(const SimLinkModel& model) { model_ = model; }
  const SimLinkModel& model() const { return model_; }
  // Datagrams from or to a blocked address are dropped (counted as blocked).
  void set_blocked(const SocketAddress& host, bool blocked);
  void add_nat(const SocketAddress& inside, const SocketAddress& outside);

  void send(Instant now, const SocketAddress& from, const SocketAddress& to, ByteSpan payload);
  // The earliest datagram due at or before `now`, in delivery order (ties in send order).
  std::optional<SimDatagram> poll_delivery(Instant now);
  std::optional<Instant> next_delivery() const;
  std::size_t in_flight() const { return queue_.size(); }
  const SimNetworkCounters& counters() const { return counters_; }

 private:
  struct Entry {
    SimDatagram datagram;
    std::uint64_t sequence;
  };
  struct Later {
    bool operator()(const Entry& a, const Entry& b) const {
      if (a.datagram.deliver_at != b.datagram.deliver_at) {
        return a.datagram.deliver_at > b.datagram.deliver_at;
      }
      return a.sequence > b.sequence;
    }
  };
  void enqueue(Instant at, const SocketAddress& from, const SocketAddress& to, ByteSpan payload);
  bool is_blocked(const SocketAddress& address) const;

  engine::SeededRandom random_;
  SimLinkModel model_;
  std::priority_queue<Entry, std::vector<Entry>, Later> queue_;
  std::uint64_t next_sequence_ = 0;
  std::unordered_set<SocketAddress, SocketAddressHash> blocked_;
  std::unordered_map<SocketAddress, SocketAddress, SocketAddressHash> nat_out_;  // inside->outside
  std::unordered_map<SocketAddress, SocketAddress, SocketAddressHash> nat_in_;   // outside->inside
  SimNetworkCounters counters_;
};

// Earliest of two optional instants; handy when a test loop picks the next time to advance to.
inline std::optional<Instant> earliest(std::optional<Instant> a, std::optional<Instant> b) {
  if (!a) {
    return b;
  }
  if (!b) {
    return a;
  }
  return *a < *b ? a : b;
}

}  // namespace ivs::test
