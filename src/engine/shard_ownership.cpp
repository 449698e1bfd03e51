#include "engine/shard_ownership.hpp"

#include <algorithm>

namespace ivs::engine {
namespace {

constexpr std::uint64_t kFnvOffset = 0xcbf29ce484222325ULL;
constexpr std::uint64_t kFnvPrime = 0x100000001b3ULL;

std::uint64_t fnv1a(std::uint64_t hash, std::string_view text) {
  for (const char c : text) {
    hash ^= static_cast<std::uint8_t>(c);
    hash *= kFnvPrime;
  }
  return hash;
}

// SplitMix64's finaliser (Steele, Lea and Flood, OOPSLA 2014): full avalanche on 64 bits.
std::uint64_t splitmix64_finalize(std::uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

}  // namespace

std::uint64_t rendezvous_weight(std::string_view peer, std::string_view key) {
  std::uint64_t hash = fnv1a(kFnvOffset, peer);
  // A zero separator byte (its XOR changes nothing), so ("ab", "c") and ("a", "bc") differ.
  hash *= kFnvPrime;
  return splitmix64_finalize(fnv1a(hash, key));
}

std::string_view rendezvous_owner(std::string_view key, std::span<const std::string> peers) {
  std::string_view best;
  std::uint64_t best_weight = 0;
  bool first = true;
  for (const std::string& peer : peers) {
    const std::uint64_t weight = rendezvous_weight(peer, key);
    if (first || weight > best_weight || (weight == best_weight && peer < best)) {
      best = peer;
      best_weight = weight;
      first = false;
    }
  }
  return best;
}

ShardOwnership::ShardOwnership(std::string self, Duration handover_grace)
    : self_(std::move(self)), grace_(handover_grace) {}

void ShardOwnership::set_peers(Instant now, std::vector<std::string> peers) {
  std::sort(peers.begin(), peers.end());
  peers.erase(std::unique(peers.begin(), peers.end()), peers.end());
  if (known_ && peers == peers_) {
    return;
  }
  previous_peers_ = known_ ? std::move(peers_) : std::vector<std::string>{};
  peers_ = std::move(peers);
  changed_at_ = now;
  known_ = true;
}

ShardOwnership::Hold ShardOwnership::hold(Instant now, std::string_view stage) const {
  if (!known_) {
    return Hold::kNone;
  }
  if (rendezvous_owner(stage, peers_) == self_) {
    return Hold::kOwned;
  }
  const bool in_grace = now < changed_at_ + grace_;
  return in_grace && rendezvous_owner(stage, previous_peers_) == self_ ? Hold::kHandingOver
                                                                       : Hold::kNone;
}

std::string ShardOwnership::owner(std::string_view stage) const {
  return std::string(rendezvous_owner(stage, peers_));
}

std::optional<Instant> ShardOwnership::next_deadline(Instant now) const {
  if (known_ && !previous_peers_.empty() && now < changed_at_ + grace_) {
    return changed_at_ + grace_;
  }
  return std::nullopt;
}

bool ShardOwnership::self_in_set() const {
  return std::binary_search(peers_.begin(), peers_.end(), self_);
}

}  // namespace ivs::engine
