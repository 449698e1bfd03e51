// Full ICE agent (RFC 8445) for the WHIP-client role, starting CONTROLLING, with consent
// freshness (RFC 7675). One data stream, one component (BUNDLE + rtcp-mux), UDP, no TURN, no
// trickle: candidates are gathered before the offer and the answer's candidates are all there
// is (IVS lists them only in the first m-section; the caller adds them once).
//
//   new ──start()──► checking ──nominated pair succeeds──► connected
//                       │                                     │ no consent response for 30 s
//                       └──all pairs failed / timeout──► failed ◄┘ (kConsentLost event)
//
// Per pair: frozen → waiting → in-progress → succeeded | failed (§6.1.2.6). One check leaves per
// Ta (§6.1.4.2), triggered checks first (§7.3.1.4). Each check is a STUN transaction
// retransmitted at RTO, 2·RTO, 4·RTO… for Rc sends, then given Rm·RTO to answer (RFC 8489
// §6.2.1; RTO ≥ 500 ms per RFC 8445 §14.3).
//
// Why the design is as it is:
// - Sans-I/O (transmit.hpp shape). The agent owns no sockets: host candidates are the addresses
//   of sockets the io layer opened, every transmit names the local socket to send from, and every
//   received datagram says which local socket it arrived on.
// - Local server-reflexive candidates are only advertised; checks are sent from their base, so
//   pairs are formed with host candidates (§6.1.2.4 prunes the srflx ones anyway).
// - Peer-reflexive candidates are learned both ways: a success response whose XOR-MAPPED-ADDRESS
//   is no local candidate adds a local prflx (§7.2.5.3.1); a request from an unknown source adds
//   a remote prflx (§7.3.1.3) with a triggered check. So a peer that lists no candidates at all
//   (OBS-like) still connects, provided it sends checks.
// - Role conflicts (§7.3.1.1, §7.2.5.1) are resolved by tie-breaker, so the agent may end up
//   controlled (it then waits for USE-CANDIDATE instead of nominating).
// - Regular nomination by default: after the first success, wait until no higher-priority pair
//   can still succeed (or nomination_delay passes), then repeat the check with USE-CANDIDATE.
//   Aggressive nomination (every check carries USE-CANDIDATE) is an option for peers that want
//   it.
// - Consent requests go every 5 s ± 20% on the selected pair and are retransmitted like any
//   transaction, so one lost datagram does not cost a whole interval; any authenticated success
//   refreshes consent, 30 s without one is final (kConsentLost).
// - Randomness (transaction ids, tie-breaker, consent jitter) comes from the RandomSource.
#pragma once

#include <deque>
#include <optional>
#include <string>
#include <vector>

#include "engine/ice_candidate.hpp"
#include "engine/ice_common.hpp"
#include "engine/random.hpp"
#include "engine/transmit.hpp"

namespace ivs::engine {

struct IceAgentConfig {
  IceCredentials local;
  std::vector<SocketAddress> host_addresses;  // The bound sockets; one host candidate each.
  std::optional<SocketAddress> stun_server;   // For a server-reflexive candidate.
  bool aggressive_nomination = false;
  Duration ta = milliseconds(50);
  Duration rto = milliseconds(500);
  int max_transmissions = 7;  // Rc
  int last_wait_factor = 16;  // Rm
  Duration checking_timeout = seconds(30);
  Duration nomination_delay = milliseconds(500);
  Duration gathering_timeout = seconds(3);
  Duration consent_interval = seconds(5);  // Jittered to 0.8–1.2 × (RFC 7675 §5.1: 4–6 s).
  Duration consent_timeout = seconds(30);
  std::size_t max_remote_candidates = 32;  // Signalled plus learned peer-reflexive ones.
};

enum class IceAgentState : std::uint8_t { kNew, kChecking, kConnected, kFailed };

struct IceAgentEvent {
  enum class Kind : std::uint8_t {
    kGatheringComplete,  // local_candidates() is final: write the offer now.
    kStateChanged,       // `state` is the new state.
    kSelectedPair,       // Send media from `local` to `remote` from now on.
    kConsentLost,        // No consent response for consent_timeout; state is kFailed.
  };
  Kind kind;
  IceAgentState state = IceAgentState::kNew;
  SocketAddress local;
  SocketAddress remote;
};

// A datagram to send from the local socket `source`.
struct IceTransmit {
  SocketAddress source;
  SocketAddress destination;
  Bytes payload;
};

struct IceAgentCounters {
  std::uint64_t checks_sent = 0;  // First transmissions of connectivity checks.
  std::uint64_t retransmissions = 0;
  std::uint64_t requests_answered = 0;  // Peer checks we answered with success.
  std::uint64_t requests_rejected = 0;  // 400/401/487 sent.
  std::uint64_t dropped = 0;            // Malformed, bad fingerprint, bad integrity, unmatched.
  std::uint64_t role_conflicts = 0;
  std::uint64_t consent_requests = 0;
};

class IceAgent {
 public:
  enum class PairState : std::uint8_t { kFrozen, kWaiting, kInProgress, kSucceeded, kFailed };
  struct Pair {
    std::size_t local = 0;   // Index into local_candidates(); we send from its base.
    std::size_t remote = 0;  // Index into the remote candidates.
    std::uint64_t priority = 0;
    PairState state = PairState::kFrozen;
    bool valid = false;                // A check on it succeeded (it is in the valid list).
    bool nominated = false;            // Nominated: USE-CANDIDATE check succeeded or was received.
    bool nominate_on_success = false;  // Controlled: USE-CANDIDATE came before our success.
    std::string foundation;
  };

  IceAgent(IceAgentConfig config, RandomSource& random);
  ~IceAgent();

  // Sends binding requests to the STUN server, if any; kGatheringComplete follows (at once when
  // there is no server).
  void start_gathering(Instant now);
  const std::vector<IceCandidate>& local_candidates() const { return local_; }

  void set_remote_credentials(IceCredentials remote);
  // Candidates from the answer. May be called before or after start(); duplicates are ignored.
  void add_remote_candidate(const IceCandidate& candidate);
  // Begins connectivity checks (state kChecking).
  void start(Instant now);

  // A datagram that arrived on local socket `local` from `from`. Only STUN is for the agent
  // (demultiplex with proto::classify_packet first); anything else is ignored.
  void handle_packet(Instant now, const SocketAddress& local, const SocketAddress& from,
                     ByteSpan bytes);
  void handle_timeout(Instant now);
  std::optional<IceTransmit> poll_transmit();
  std::optional<IceAgentEvent> poll_event();
  std::optional<Instant> poll_timeout() const;

  // Signalled plus learned peer-reflexive ones (for status pages and logs).
  const std::vector<IceCandidate>& remote_candidates() const { return remote_; }
  IceAgentState state() const { return state_; }
  bool controlling() const { return controlling_; }
  std::uint64_t tie_breaker() const { return tie_breaker_; }
  // The selected pair as (local socket, remote address).
  std::optional<std::pair<SocketAddress, SocketAddress>> selected_pair() const;
  const IceAgentCounters& counters() const { return counters_; }

 private:
  struct Transaction {
    enum class Kind : std::uint8_t { kCheck, kConsent, kGather };
    Kind kind = Kind::kCheck;
    proto::StunTransactionId id{};
    std::size_t index = 0;  // The pair (checks, consent) or the host candidate (gathering).
    SocketAddress source;
    SocketAddress destination;
    Bytes request;
    bool use_candidate = false;
    bool sent_controlling = false;  // The role the request claimed (for a 487 answer).
    std::uint32_t priority = 0;     // PRIORITY sent, for a local peer-reflexive candidate.
    int transmissions = 1;
    Duration rto{};
    Instant next_at{};
    bool final_wait = false;
  };

  // ice_agent.cpp: inputs, timers, outputs.
  void set_state(IceAgentState state);
  void emit(IceAgentEvent event) { events_.push_back(event); }
  void send(const SocketAddress& source, const SocketAddress& destination, Bytes payload);
  void handle_request(Instant now, const SocketAddress& local, const SocketAddress& from,
                      const proto::StunMessage& request);
  bool resolve_role_conflict(const proto::StunMessage& request);
  std::optional<std::size_t> learn_remote(const SocketAddress& from, std::uint32_t priority);
  void on_peer_nomination(Instant now, std::size_t pair);
  void on_gather_response(const Transaction& transaction, const proto::StunMessage& response);
  void handle_response(Instant now, const SocketAddress& local, const SocketAddress& from,
                       const proto::StunMessage& response);
  void retransmit_or_expire(Instant now);
  void check_failure(Instant now);
  void run_consent(Instant now);
  Duration jittered_consent_interval();

  // ice_agent_checks.cpp: the checklist.
  std::size_t find_or_add_local(const IceCandidate& candidate);
  std::optional<std::size_t> find_host(const SocketAddress& address) const;
  std::size_t find_or_add_pair(std::size_t local, std::size_t remote);
  void pair_with_hosts(std::size_t remote);
  void recompute_priorities();
  void pace_checks(Instant now);
  std::optional<std::size_t> next_ordinary_check();
  void send_check(Instant now, std::size_t pair, bool use_candidate);
  void on_check_success(Instant now, const Transaction& transaction,
                        const proto::StunMessage& response);
  void on_check_failure(std::size_t pair);
  void maybe_nominate(Instant now);
  void select(Instant now, std::size_t pair);
  bool has_check_to_send() const;
  Bytes build_request(const proto::StunTransactionId& id, std::uint32_t priority,
                      bool use_candidate);
  proto::StunTransactionId new_transaction_id();

  IceAgentConfig config_;
  RandomSource& random_;
  StunIntegrity integrity_;
  std::uint64_t tie_breaker_ = 0;
  bool controlling_ = true;
  IceAgentState state_ = IceAgentState::kNew;
  std::optional<IceCredentials> remote_credentials_;

  std::vector<IceCandidate> local_;
  std::vector<IceCandidate> remote_;
  std::vector<Pair> pairs_;
  std::deque<std::size_t> triggered_;
  std::vector<Transaction> transactions_;
  bool gathering_ = false;
  Instant gathering_deadline_{};

  Instant checking_started_{};
  std::optional<Instant> next_pacing_;  // When the next paced check may leave.
  std::optional<Instant> first_valid_at_;
  std::optional<std::size_t> nominating_;
  std::optional<std::size_t> selected_;
  Instant last_consent_{};
  Instant next_consent_{};

  std::deque<IceTransmit> transmits_;
  std::deque<IceAgentEvent> events_;
  IceAgentCounters counters_;
};

}  // namespace ivs::engine
