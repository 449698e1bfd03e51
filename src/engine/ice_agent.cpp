// Full ICE agent: inputs (packets, timeouts), gathering, role conflicts, consent and outputs.
// The checklist itself lives in ice_agent_checks.cpp. See ice_agent.hpp for the design.
#include "engine/ice_agent.hpp"

#include <algorithm>

namespace ivs::engine {

using proto::StunClass;
using proto::StunMessage;

IceAgent::IceAgent(IceAgentConfig config, RandomSource& random)
    : config_(std::move(config)), random_(random) {
  tie_breaker_ = random_.next_u64();
  for (std::size_t i = 0; i < config_.host_addresses.size(); ++i) {
    IceCandidate candidate;
    candidate.type = IceCandidateType::kHost;
    candidate.foundation = std::to_string(i + 1);
    candidate.priority =
        ice_candidate_priority(IceCandidateType::kHost, static_cast<std::uint32_t>(65535 - i));
    candidate.address = config_.host_addresses[i];
    candidate.base = config_.host_addresses[i];
    local_.push_back(candidate);
  }
}

IceAgent::~IceAgent() = default;

void IceAgent::start_gathering(Instant now) {
  const std::size_t hosts = local_.size();
  for (std::size_t i = 0; config_.stun_server && i < hosts; ++i) {
    if (local_[i].type != IceCandidateType::kHost ||
        local_[i].address.family() != config_.stun_server->family()) {
      continue;
    }
    Transaction transaction;
    transaction.kind = Transaction::Kind::kGather;
    transaction.id = new_transaction_id();
    transaction.index = i;
    transaction.source = local_[i].address;
    transaction.destination = *config_.stun_server;
    proto::StunBuilder builder(proto::kStunBindingMethod, StunClass::kRequest, transaction.id);
    builder.add_fingerprint();
    transaction.request = std::move(builder).take();
    transaction.rto = config_.rto;
    transaction.next_at = now + config_.rto;
    send(transaction.source, transaction.destination, transaction.request);
    transactions_.push_back(std::move(transaction));
    gathering_ = true;
  }
  if (gathering_) {
    gathering_deadline_ = now + config_.gathering_timeout;
  } else {
    emit({IceAgentEvent::Kind::kGatheringComplete, state_, {}, {}});
  }
}

void IceAgent::set_remote_credentials(IceCredentials remote) {
  remote_credentials_ = std::move(remote);
}

void IceAgent::add_remote_candidate(const IceCandidate& candidate) {
  if (candidate.component != 1) {
    return;  // rtcp-mux only: component 2 candidates are never used.
  }
  for (auto& known : remote_) {
    if (known.address == candidate.address) {
      return;
    }
  }
  if (remote_.size() >= config_.max_remote_candidates) {
    return;  // Bounded: a hostile answer must not grow the checklist without limit.
  }
  remote_.push_back(candidate);
  pair_with_hosts(remote_.size() - 1);
}

void IceAgent::start(Instant now) {
  if (state_ != IceAgentState::kNew) {
    return;
  }
  checking_started_ = now;
  next_pacing_ = now;
  set_state(IceAgentState::kChecking);
}

void IceAgent::set_state(IceAgentState state) {
  if (state_ == state) {
    return;
  }
  state_ = state;
  if (state == IceAgentState::kFailed) {
    // Nothing is checked any more: stop every retransmission except gathering.
    std::erase_if(transactions_,
                  [](const Transaction& t) { return t.kind != Transaction::Kind::kGather; });
    triggered_.clear();
  }
  emit({IceAgentEvent::Kind::kStateChanged, state, {}, {}});
}

void IceAgent::send(const SocketAddress& source, const SocketAddress& destination, Bytes payload) {
  transmits_.push_back(IceTransmit{source, destination, std::move(payload)});
}

void IceAgent::handle_packet(Instant now, const SocketAddress& local, const SocketAddress& from,
                             ByteSpan bytes) {
  if (!proto::looks_like_stun(bytes)) {
    return;
  }
  auto message = StunMessage::parse(bytes);
  if (!message || message->method() != proto::kStunBindingMethod) {
    ++counters_.dropped;
    return;
  }
  // ICE messages always carry FINGERPRINT; a plain STUN server's answer may not.
  if (message->has_fingerprint() ? !message->fingerprint_matches()
                                 : message->message_class() == StunClass::kRequest) {
    ++counters_.dropped;
    return;
  }
  switch (message->message_class()) {
    case StunClass::kRequest:
      handle_request(now, local, from, *message);
      break;
    case StunClass::kSuccessResponse:
    case StunClass::kErrorResponse:
      handle_response(now, local, from, *message);
      break;
    case StunClass::kIndication:
      break;
  }
  // A success may allow nomination right away rather than at the next timer.
  if (state_ == IceAgentState::kChecking) {
    maybe_nominate(now);
  }
}

bool IceAgent::resolve_role_conflict(const StunMessage& request) {
  // RFC 8445 §7.3.1.1: the larger tie-breaker wins the controlling role.
  if (controlling_ && request.ice_controlling()) {
    ++counters_.role_conflicts;
    if (tie_breaker_ >= *request.ice_controlling()) {
      return false;
    }
    controlling_ = false;
    recompute_priorities();
  } else if (!controlling_ && request.ice_controlled()) {
    ++counters_.role_conflicts;
    if (tie_breaker_ < *request.ice_controlled()) {
      return false;
    }
    controlling_ = true;
    recompute_priorities();
  }
  return true;
}

void IceAgent::handle_request(Instant now, const SocketAddress& local, const SocketAddress& from,
                              const StunMessage& request) {
  auto reject = [&](int code, std::optional<std::string_view> pwd) {
    ++counters_.requests_rejected;
    send(local, from, make_binding_error(integrity_, request, code, pwd));
  };
  const auto host = find_host(local);
  const auto username = request.username();
  if (!host || !username || !request.message_integrity()) {
    return reject(proto::stun_error::kBadRequest, std::nullopt);
  }
  const auto parts = split_ice_username(*username);
  if (!parts || parts->receiver_ufrag != config_.local.ufrag ||
      (remote_credentials_ && parts->sender_ufrag != remote_credentials_->ufrag) ||
      !integrity_.verify(request, as_bytes(config_.local.pwd))) {
    return reject(proto::stun_error::kUnauthenticated, std::nullopt);
  }
  if (!request.priority()) {
    return reject(proto::stun_error::kBadRequest, std::nullopt);
  }
  if (!resolve_role_conflict(request)) {
    return reject(proto::stun_error::kRoleConflict, config_.local.pwd);
  }
  ++counters_.requests_answered;
  send(local, from, make_binding_success(integrity_, request, from, config_.local.pwd));
  if (state_ == IceAgentState::kFailed) {
    return;
  }
  const auto remote_index = learn_remote(from, *request.priority());
  if (!remote_index) {
    return;
  }
  const std::size_t pair = find_or_add_pair(*host, *remote_index);
  if (!controlling_ && request.use_candidate()) {
    on_peer_nomination(now, pair);
  }
  // Triggered check (§7.3.1.4) unless the pair already succeeded or is being checked.
  Pair& triggered = pairs_[pair];
  if (triggered.state != PairState::kSucceeded && triggered.state != PairState::kInProgress) {
    triggered.state = PairState::kWaiting;
    if (std::find(triggered_.begin(), triggered_.end(), pair) == triggered_.end()) {
      triggered_.push_back(pair);
    }
  }
}

void IceAgent::handle_response(Instant now, const SocketAddress& local, const SocketAddress& from,
                               const StunMessage& response) {
  auto it = std::find_if(transactions_.begin(), transactions_.end(),
                         [&](const Transaction& t) { return t.id == response.transaction_id(); });
  if (it == transactions_.end()) {
    ++counters_.dropped;
    return;
  }
  if (it->kind == Transaction::Kind::kGather) {
    const Transaction transaction = std::move(*it);
    transactions_.erase(it);
    on_gather_response(transaction, response);
    return;
  }
  // Checks and consent are authenticated with the peer's password (§7.2.5.1).
  if (!remote_credentials_ || !integrity_.verify(response, as_bytes(remote_credentials_->pwd))) {
    ++counters_.dropped;
    return;
  }
  const Transaction transaction = std::move(*it);
  transactions_.erase(it);
  if (transaction.kind == Transaction::Kind::kConsent) {
    if (response.message_class() == StunClass::kSuccessResponse) {
      last_consent_ = now;
    }
    return;
  }
  if (response.message_class() == StunClass::kErrorResponse) {
    const auto error = response.error_code();
    if (error && error->code == proto::stun_error::kRoleConflict) {
      // §7.2.5.1: switch to the role opposite to the one the request claimed, and retry.
      ++counters_.role_conflicts;
      controlling_ = !transaction.sent_controlling;
      recompute_priorities();
      pairs_[transaction.index].state = PairState::kWaiting;
      triggered_.push_back(transaction.index);
      return;
    }
    on_check_failure(transaction.index);
    return;
  }
  // §7.2.5.2.1: the response must come from where the request went, to where it came from.
  if (from != transaction.destination || local != transaction.source) {
    on_check_failure(transaction.index);
    return;
  }
  on_check_success(now, transaction, response);
}

void IceAgent::on_gather_response(const Transaction& transaction, const StunMessage& response) {
  auto mapped = response.xor_mapped_address();
  if (!mapped) {
    mapped = response.mapped_address();
  }
  const IceCandidate& host = local_[transaction.index];
  if (response.message_class() != StunClass::kSuccessResponse || !mapped ||
      *mapped == host.address) {
    return;
  }
  IceCandidate reflexive;
  reflexive.type = IceCandidateType::kServerReflexive;
  reflexive.foundation = "s" + host.foundation;
  reflexive.priority =
      ice_candidate_priority(IceCandidateType::kServerReflexive, (host.priority >> 8) & 0xFFFF);
  reflexive.address = *mapped;
  reflexive.base = host.address;
  find_or_add_local(reflexive);
}

void IceAgent::handle_timeout(Instant now) {
  retransmit_or_expire(now);
  const bool gathering_left = std::any_of(transactions_.begin(), transactions_.end(), [](auto& t) {
    return t.kind == Transaction::Kind::kGather;
  });
  if (gathering_ && (!gathering_left || now >= gathering_deadline_)) {
    gathering_ = false;
    std::erase_if(transactions_,
                  [](const Transaction& t) { return t.kind == Transaction::Kind::kGather; });
    emit({IceAgentEvent::Kind::kGatheringComplete, state_, {}, {}});
  }
  if (state_ == IceAgentState::kChecking || state_ == IceAgentState::kConnected) {
    maybe_nominate(now);
    pace_checks(now);
  }
  check_failure(now);
  run_consent(now);
}

void IceAgent::retransmit_or_expire(Instant now) {
  std::vector<std::size_t> failed_pairs;
  for (auto it = transactions_.begin(); it != transactions_.end();) {
    if (it->next_at > now) {
      ++it;
      continue;
    }
    if (it->final_wait) {
      if (it->kind == Transaction::Kind::kCheck) {
        failed_pairs.push_back(it->index);
      }
      it = transactions_.erase(it);
      continue;
    }
    send(it->source, it->destination, it->request);
    ++counters_.retransmissions;
    ++it->transmissions;
    if (it->transmissions >= config_.max_transmissions) {
      it->final_wait = true;
      it->next_at = now + config_.last_wait_factor * it->rto;
    } else {
      it->next_at = now + it->rto * (1 << (it->transmissions - 1));
    }
    ++it;
  }
  for (const std::size_t pair : failed_pairs) {
    on_check_failure(pair);
  }
}

void IceAgent::check_failure(Instant now) {
  if (state_ != IceAgentState::kChecking || selected_) {
    return;
  }
  const bool work_left = !triggered_.empty() || nominating_ ||
                         std::any_of(pairs_.begin(), pairs_.end(), [](const Pair& p) {
                           return p.valid || p.state == PairState::kFrozen ||
                                  p.state == PairState::kWaiting ||
                                  p.state == PairState::kInProgress;
                         });
  if (now >= checking_started_ + config_.checking_timeout || (!pairs_.empty() && !work_left)) {
    set_state(IceAgentState::kFailed);
  }
}

Duration IceAgent::jittered_consent_interval() {
  const double factor = 0.8 + 0.4 * random_.unit_interval();
  return std::chrono::duration_cast<Duration>(config_.consent_interval * factor);
}

void IceAgent::run_consent(Instant now) {
  if (state_ != IceAgentState::kConnected || !selected_) {
    return;
  }
  if (now - last_consent_ >= config_.consent_timeout) {
    std::erase_if(transactions_,
                  [](const Transaction& t) { return t.kind == Transaction::Kind::kConsent; });
    set_state(IceAgentState::kFailed);
    const auto pair = *selected_pair();
    emit({IceAgentEvent::Kind::kConsentLost, state_, pair.first, pair.second});
    return;
  }
  if (now < next_consent_) {
    return;
  }
  const Pair& pair = pairs_[*selected_];
  Transaction transaction;
  transaction.kind = Transaction::Kind::kConsent;
  transaction.id = new_transaction_id();
  transaction.index = *selected_;
  transaction.source = local_[pair.local].base;
  transaction.destination = remote_[pair.remote].address;
  transaction.request = build_request(transaction.id, local_[pair.local].priority, false);
  // Retransmitted like any STUN transaction, so one lost datagram does not cost a whole
  // interval; whichever transaction is answered refreshes consent.
  transaction.rto = config_.rto;
  transaction.next_at = now + config_.rto;
  send(transaction.source, transaction.destination, transaction.request);
  transactions_.push_back(std::move(transaction));
  ++counters_.consent_requests;
  next_consent_ = now + jittered_consent_interval();
}

std::optional<IceTransmit> IceAgent::poll_transmit() {
  if (transmits_.empty()) {
    return std::nullopt;
  }
  IceTransmit transmit = std::move(transmits_.front());
  transmits_.pop_front();
  return transmit;
}

std::optional<IceAgentEvent> IceAgent::poll_event() {
  if (events_.empty()) {
    return std::nullopt;
  }
  IceAgentEvent event = events_.front();
  events_.pop_front();
  return event;
}

std::optional<Instant> IceAgent::poll_timeout() const {
  std::optional<Instant> next;
  auto consider = [&](Instant at) {
    if (!next || at < *next) {
      next = at;
    }
  };
  for (const auto& transaction : transactions_) {
    consider(transaction.next_at);
  }
  if (gathering_) {
    consider(gathering_deadline_);
  }
  if (state_ == IceAgentState::kChecking) {
    if (!selected_) {
      consider(checking_started_ + config_.checking_timeout);
    }
    const bool have_valid =
        std::any_of(pairs_.begin(), pairs_.end(), [](const Pair& p) { return p.valid; });
    if (controlling_ && !selected_ && !nominating_ && first_valid_at_ && have_valid) {
      consider(*first_valid_at_ + config_.nomination_delay);
    }
  }
  if ((state_ == IceAgentState::kChecking || state_ == IceAgentState::kConnected) && next_pacing_ &&
      has_check_to_send()) {
    consider(*next_pacing_);
  }
  if (state_ == IceAgentState::kConnected) {
    consider(next_consent_);
    consider(last_consent_ + config_.consent_timeout);
  }
  return next;
}

std::optional<std::pair<SocketAddress, SocketAddress>> IceAgent::selected_pair() const {
  if (!selected_) {
    return std::nullopt;
  }
  const Pair& pair = pairs_[*selected_];
  return std::make_pair(local_[pair.local].base, remote_[pair.remote].address);
}

proto::StunTransactionId IceAgent::new_transaction_id() {
  proto::StunTransactionId id{};
  random_.fill(id);
  return id;
}

Bytes IceAgent::build_request(const proto::StunTransactionId& id, std::uint32_t priority,
                              bool use_candidate) {
  proto::StunBuilder builder(proto::kStunBindingMethod, StunClass::kRequest, id);
  builder.add_username(remote_credentials_->ufrag + ":" + config_.local.ufrag);
  builder.add_priority(priority);
  if (controlling_) {
    builder.add_ice_controlling(tie_breaker_);
  } else {
    builder.add_ice_controlled(tie_breaker_);
  }
  if (use_candidate) {
    builder.add_use_candidate();
  }
  integrity_.sign_with_fingerprint(builder, as_bytes(remote_credentials_->pwd));
  return std::move(builder).take();
}

}  // namespace ivs::engine
