// The ICE checklist (RFC 8445 §6.1.2 forming pairs, §6.1.4 scheduling, §7.2.5 processing
// responses, §8.1 nomination). See ice_agent.hpp for the design.
#include <algorithm>

#include "engine/ice_agent.hpp"

namespace ivs::engine {

std::size_t IceAgent::find_or_add_local(const IceCandidate& candidate) {
  for (std::size_t i = 0; i < local_.size(); ++i) {
    if (local_[i].address == candidate.address) {
      return i;
    }
  }
  local_.push_back(candidate);
  return local_.size() - 1;
}

std::optional<std::size_t> IceAgent::find_host(const SocketAddress& address) const {
  for (std::size_t i = 0; i < local_.size(); ++i) {
    if (local_[i].type == IceCandidateType::kHost && local_[i].address == address) {
      return i;
    }
  }
  return std::nullopt;
}

std::size_t IceAgent::find_or_add_pair(std::size_t local, std::size_t remote) {
  for (std::size_t i = 0; i < pairs_.size(); ++i) {
    if (pairs_[i].local == local && pairs_[i].remote == remote) {
      return i;
    }
  }
  Pair pair;
  pair.local = local;
  pair.remote = remote;
  pair.foundation = local_[local].foundation + ":" + remote_[remote].foundation;
  // §6.1.2.6: only one pair per foundation starts waiting; the others wait frozen for it.
  const bool sibling_active = std::any_of(pairs_.begin(), pairs_.end(), [&](const Pair& p) {
    return p.foundation == pair.foundation &&
           (p.state == PairState::kWaiting || p.state == PairState::kInProgress ||
            p.state == PairState::kFrozen);
  });
  pair.state = sibling_active ? PairState::kFrozen : PairState::kWaiting;
  pairs_.push_back(pair);
  recompute_priorities();
  return pairs_.size() - 1;
}

std::optional<std::size_t> IceAgent::learn_remote(const SocketAddress& from,
                                                  std::uint32_t priority) {
  const auto known = std::find_if(remote_.begin(), remote_.end(),
                                  [&](const IceCandidate& c) { return c.address == from; });
  if (known != remote_.end()) {
    return static_cast<std::size_t>(known - remote_.begin());
  }
  if (remote_.size() >= config_.max_remote_candidates) {
    return std::nullopt;
  }
  // A source we do not know is a peer-reflexive remote candidate (§7.3.1.3).
  IceCandidate learned;
  learned.type = IceCandidateType::kPeerReflexive;
  learned.foundation = "prflx" + std::to_string(remote_.size());
  learned.priority = priority;
  learned.address = from;
  learned.base = from;
  remote_.push_back(learned);
  return remote_.size() - 1;
}

void IceAgent::on_peer_nomination(Instant now, std::size_t pair) {
  // Nominated by the controlling peer: select the valid pair with this base and remote, or
  // remember to once our own check on it succeeds.
  const std::size_t remote = pairs_[pair].remote;
  const SocketAddress base = local_[pairs_[pair].local].base;
  for (std::size_t i = 0; i < pairs_.size(); ++i) {
    if (pairs_[i].valid && pairs_[i].remote == remote && local_[pairs_[i].local].base == base) {
      pairs_[i].nominated = true;
      select(now, i);
    }
  }
  pairs_[pair].nominate_on_success = !pairs_[pair].nominated;
}

void IceAgent::pair_with_hosts(std::size_t remote) {
  const std::size_t locals = local_.size();
  for (std::size_t i = 0; i < locals; ++i) {
    if (local_[i].type == IceCandidateType::kHost &&
        local_[i].address.family() == remote_[remote].address.family()) {
      find_or_add_pair(i, remote);
    }
  }
}

void IceAgent::recompute_priorities() {
  for (auto& pair : pairs_) {
    const std::uint32_t ours = local_[pair.local].priority;
    const std::uint32_t theirs = remote_[pair.remote].priority;
    pair.priority =
        controlling_ ? ice_pair_priority(ours, theirs) : ice_pair_priority(theirs, ours);
  }
}

bool IceAgent::has_check_to_send() const {
  if (!remote_credentials_) {
    return false;
  }
  if (!triggered_.empty()) {
    return true;
  }
  return !selected_ && std::any_of(pairs_.begin(), pairs_.end(), [](const Pair& p) {
    return p.state == PairState::kWaiting || p.state == PairState::kFrozen;
  });
}

std::optional<std::size_t> IceAgent::next_ordinary_check() {
  if (selected_) {
    return std::nullopt;  // Once a pair is selected only triggered checks still go out.
  }
  std::optional<std::size_t> best;
  for (const PairState wanted : {PairState::kWaiting, PairState::kFrozen}) {
    for (std::size_t i = 0; i < pairs_.size(); ++i) {
      if (pairs_[i].state == wanted && (!best || pairs_[i].priority > pairs_[*best].priority)) {
        best = i;
      }
    }
    if (best) {
      return best;
    }
  }
  return std::nullopt;
}

void IceAgent::pace_checks(Instant now) {
  if (!remote_credentials_ || !next_pacing_ || now < *next_pacing_) {
    return;
  }
  std::optional<std::size_t> pair;
  while (!triggered_.empty() && !pair) {
    const std::size_t candidate = triggered_.front();
    triggered_.pop_front();
    const PairState state = pairs_[candidate].state;
    if (candidate == nominating_ ||
        (state != PairState::kSucceeded && state != PairState::kInProgress)) {
      pair = candidate;
    }
  }
  if (!pair) {
    pair = next_ordinary_check();
  }
  if (!pair) {
    return;
  }
  const bool use_candidate = controlling_ && (config_.aggressive_nomination || nominating_ == pair);
  send_check(now, *pair, use_candidate);
  next_pacing_ = now + config_.ta;
}

void IceAgent::send_check(Instant now, std::size_t index, bool use_candidate) {
  Pair& pair = pairs_[index];
  if (pair.state != PairState::kSucceeded) {
    pair.state = PairState::kInProgress;
  }
  // §14.3: RTO = MAX(500 ms, Ta × number of pairs still being checked).
  const auto active = static_cast<int>(std::count_if(pairs_.begin(), pairs_.end(), [](auto& p) {
    return p.state == PairState::kWaiting || p.state == PairState::kInProgress;
  }));
  Transaction transaction;
  transaction.kind = Transaction::Kind::kCheck;
  transaction.id = new_transaction_id();
  transaction.index = index;
  transaction.source = local_[pair.local].base;
  transaction.destination = remote_[pair.remote].address;
  // §7.1.1: PRIORITY is what a peer-reflexive candidate from this base would get.
  transaction.priority = ice_candidate_priority(IceCandidateType::kPeerReflexive,
                                                (local_[pair.local].priority >> 8) & 0xFFFF);
  transaction.use_candidate = use_candidate;
  transaction.sent_controlling = controlling_;
  transaction.request = build_request(transaction.id, transaction.priority, use_candidate);
  transaction.rto = std::max(config_.rto, config_.ta * active);
  transaction.next_at = now + transaction.rto;
  send(transaction.source, transaction.destination, transaction.request);
  transactions_.push_back(std::move(transaction));
  ++counters_.checks_sent;
}

void IceAgent::on_check_success(Instant now, const Transaction& transaction,
                                const proto::StunMessage& response) {
  Pair& generating = pairs_[transaction.index];
  generating.state = PairState::kSucceeded;
  // §7.2.5.3.1: a mapped address that is no local candidate is a local peer-reflexive one.
  std::size_t local = generating.local;
  const auto mapped = response.xor_mapped_address();
  if (mapped && *mapped != local_[local].address) {
    IceCandidate learned;
    learned.type = IceCandidateType::kPeerReflexive;
    learned.foundation = "p" + local_[local].foundation;
    learned.priority = transaction.priority;
    learned.address = *mapped;
    learned.base = local_[local].base;
    local = find_or_add_local(learned);
  }
  const std::size_t remote = generating.remote;
  const std::string foundation = generating.foundation;  // find_or_add_pair may reallocate.
  const bool nominate_on_success = generating.nominate_on_success;
  const std::size_t valid = find_or_add_pair(local, remote);
  pairs_[valid].state = PairState::kSucceeded;
  pairs_[valid].valid = true;
  if (!first_valid_at_) {
    first_valid_at_ = now;
  }
  for (auto& pair : pairs_) {  // §7.2.5.3.3: unfreeze pairs with the same foundation.
    if (pair.state == PairState::kFrozen && pair.foundation == foundation) {
      pair.state = PairState::kWaiting;
    }
  }
  const bool nominated = controlling_ ? transaction.use_candidate : nominate_on_success;
  if (nominated) {
    pairs_[valid].nominated = true;
    if (nominating_ == transaction.index) {
      nominating_.reset();
    }
    select(now, valid);
  }
  if (selected_ == valid) {
    last_consent_ = now;
  }
}

void IceAgent::on_check_failure(std::size_t index) {
  pairs_[index].state = PairState::kFailed;
  pairs_[index].valid = false;
  if (nominating_ == index) {
    nominating_.reset();
  }
}

void IceAgent::maybe_nominate(Instant now) {
  if (!controlling_ || config_.aggressive_nomination || selected_ || nominating_ ||
      !first_valid_at_) {
    return;
  }
  std::optional<std::size_t> best;
  for (std::size_t i = 0; i < pairs_.size(); ++i) {
    if (pairs_[i].valid && (!best || pairs_[i].priority > pairs_[*best].priority)) {
      best = i;
    }
  }
  if (!best) {
    return;
  }
  // Wait while a better pair may still succeed, but not longer than nomination_delay.
  const bool better_pending = std::any_of(pairs_.begin(), pairs_.end(), [&](const Pair& p) {
    return p.priority > pairs_[*best].priority &&
           (p.state == PairState::kFrozen || p.state == PairState::kWaiting ||
            p.state == PairState::kInProgress);
  });
  if (better_pending && now < *first_valid_at_ + config_.nomination_delay) {
    return;
  }
  nominating_ = best;
  triggered_.push_front(*best);
  if (!next_pacing_) {
    next_pacing_ = now;
  }
}

void IceAgent::select(Instant now, std::size_t index) {
  if (selected_ == index || (selected_ && pairs_[*selected_].priority >= pairs_[index].priority)) {
    return;
  }
  selected_ = index;
  last_consent_ = now;
  next_consent_ = now + jittered_consent_interval();
  const auto pair = *selected_pair();
  emit({IceAgentEvent::Kind::kSelectedPair, state_, pair.first, pair.second});
  if (state_ == IceAgentState::kChecking) {
    set_state(IceAgentState::kConnected);
  }
}

}  // namespace ivs::engine
