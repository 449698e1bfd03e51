// Which stages this media server publishes when several share the work (SHARD_PEERS,
// docs/scale-out.md): rendezvous, or highest-random-weight, hashing (Thaler and Ravishankar,
// "Using Name-Based Mappings to Increase Hit Rates", IEEE/ACM ToN 6(1), 1998). Each stage goes to
// the peer with the highest weight(peer, stage); every peer computes the same answer from the
// same peer set without talking to the others, and a peer joining or leaving moves only the
// stages it gains or held (1/n of them), never a stage between two other peers.
//
// Make-before-break: when the peer set changes, a stage this peer loses to another is still
// held for `handover_grace`, so its new owner (which sees the same set within one refresh) has
// connected before the old session closes. A stage this peer gains is held at once. Stages of a
// peer that died have nobody to hand over from: the survivors take them at once.
//
// Pure: no clock, no I/O. The owner passes the time in and re-evaluates at next_deadline().
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "proto/time.hpp"

namespace ivs::engine {

// A 64-bit weight of `peer` for `key`: FNV-1a over "peer\0key", then a SplitMix64 finaliser so
// that peers whose names differ in one character still get independent weights. Stable across
// processes, machines and versions (it is part of the wire behaviour of a peer set).
std::uint64_t rendezvous_weight(std::string_view peer, std::string_view key);

// The peer with the highest weight for `key` (ties, which need a 64-bit collision, go to the
// smaller name); "" when `peers` is empty.
std::string_view rendezvous_owner(std::string_view key, std::span<const std::string> peers);

class ShardOwnership {
 public:
  // `self`: this peer's name as it appears in the peer set ("10.0.3.7:8080").
  ShardOwnership(std::string self, Duration handover_grace);

  // The live peer set (any order, duplicates ignored). Before the first call nothing is held:
  // a peer that does not know the set yet would publish stages another already holds.
  void set_peers(Instant now, std::vector<std::string> peers);

  enum class Hold : std::uint8_t { kNone, kOwned, kHandingOver };
  // Whether this peer should hold a session for `stage` at `now`: kOwned, or kHandingOver when
  // it owned it under the previous set and the hand-over grace has not ended.
  Hold hold(Instant now, std::string_view stage) const;
  bool holds(Instant now, std::string_view stage) const { return hold(now, stage) != Hold::kNone; }
  // Whether `stage` is held only for the hand-over (another peer owns it now).
  bool handing_over(Instant now, std::string_view stage) const {
    return hold(now, stage) == Hold::kHandingOver;
  }
  // The owner under the current set ("" before the first set, or when it is empty).
  std::string owner(std::string_view stage) const;

  // When the held set next changes by itself (the hand-over ends); nullopt: not before the
  // next set_peers.
  std::optional<Instant> next_deadline(Instant now) const;

  const std::string& self() const { return self_; }
  const std::vector<std::string>& peers() const { return peers_; }
  bool known() const { return known_; }
  bool self_in_set() const;

 private:
  std::string self_;
  Duration grace_;
  bool known_ = false;
  std::vector<std::string> peers_;           // sorted, unique
  std::vector<std::string> previous_peers_;  // the set before the last change
  Instant changed_at_{};
};

}  // namespace ivs::engine
