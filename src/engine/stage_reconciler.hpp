// The StageManager's brain (DESIGN.md §2.1 "Reconciliation, not event trust"): drives the set of
// egress sessions toward the desired set of stages, level-triggered like a Kubernetes controller.
// Sans-I/O: inputs + `now` in; commands, events and a wake-up time out (engine/transmit.hpp
// states the drain rule: after any input, drain poll_command() and poll_event(), then re-arm the
// timer from poll_timeout()).
//
// Desired set: a full stage list replaces it (stale stages removed, missing ones added);
// `stage_created` adds one at once; `stage_deleted` removes one at once. The WebSocket is a hint,
// the list is the truth, so both paths are idempotent.
//
// Per-stage state machine:
//
//             add                 slot free: FetchToken         TokenFetched: OpenEgress
//   (absent) ─────► pending ──────────────────────► connecting ───────────────┐
//                     ▲                               │   │                   │ EgressConnected
//                     │ backoff expires               │   │ fail / timeout    ▼
//                     └────────── backoff ◄───────────┘   │          connected | tracked
//                                   ▲                     │ permanent token     │
//                                   └─── EgressFailed ────┼─────────────────────┘
//                                                         ▼
//                                                       failed (re-armed by the next add/list)
//   remove: pending/backoff/failed/token phase → gone at once; egress open → closing
//           (CloseEgress) → gone on EgressClosed or after close_timeout.
//
// Make-before-break republish (DESIGN.md §3: an IVS publish session lasts at most 24 h): once a
// `connected` stage's session is `max_session_age` old, a second attempt (own attempt id, fresh
// token) is started while the old session keeps publishing. When it connects, the old one is
// closed and the new one becomes the stage's session; when it fails, the old one keeps running
// and the republish is retried after its own backoff. If the old session dies while a republish
// is in flight, the republish attempt simply becomes the stage's connecting attempt.
//
// Fairness and isolation: at most `max_concurrent_connects` stages are in `connecting`; waiting
// stages form one FIFO queue; a slow attempt holds only its own slot and is cut off by
// `attempt_timeout`, so no stage ever waits on another stage's connect. A token is fetched for
// EVERY attempt (IVS tokens are checked at join and may have expired since the last one).
// Every command and result carries an attempt id, so a late result of an abandoned attempt is
// recognised and ignored instead of corrupting the current one.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "engine/backoff.hpp"
#include "engine/random.hpp"
#include "proto/time.hpp"

namespace ivs::engine {

enum class StageState {
  pending,     // desired, waiting for a connect slot
  connecting,  // token being fetched or egress being opened
  connected,   // egress session publishing to the stage
  tracked,     // egress session open in tracking-only mode: stage known, nothing published
  backoff,     // last attempt failed; retry scheduled
  failed,      // permanent failure (e.g. token refused for good); re-armed by the next add/list
  closing,     // removed from the desired set; waiting for the egress session to close
};
const char* to_string(StageState state);

// Commands for the owner (the StageManager in app/).
struct FetchToken {
  std::string stage_arn;
  std::uint64_t attempt = 0;
};
struct OpenEgress {
  std::string stage_arn;
  std::uint64_t attempt = 0;
  std::string token;
  std::string whip_url;
};
struct CloseEgress {
  std::string stage_arn;
  std::uint64_t attempt = 0;
};
using StageCommand = std::variant<FetchToken, OpenEgress, CloseEgress>;

// Results the owner feeds back, each naming the attempt it answers.
struct TokenFetched {
  std::string stage_arn;
  std::uint64_t attempt = 0;
  std::string token;
  std::string whip_url;
};
struct TokenFailed {
  std::string stage_arn;
  std::uint64_t attempt = 0;
  std::string reason;
  bool permanent = false;  // e.g. the API server says the stage does not exist
};
struct EgressConnected {
  std::string stage_arn;
  std::uint64_t attempt = 0;
  bool publishing = true;  // false: tracking-only session (state `tracked`)
  std::string note;        // shown on the status page
};
struct EgressFailed {
  std::string stage_arn;
  std::uint64_t attempt = 0;
  std::string reason;
};
struct EgressClosed {
  std::string stage_arn;
  std::uint64_t attempt = 0;
};
using StageResult =
    std::variant<TokenFetched, TokenFailed, EgressConnected, EgressFailed, EgressClosed>;

// Event: a stage changed state (the owner logs these: "connecting to stage", "stage connected").
struct StageTransition {
  std::string stage_arn;
  std::optional<StageState> from;  // nullopt: the stage just appeared
  std::optional<StageState> to;    // nullopt: the stage is gone
  std::string reason;
};

struct StageStatus {
  std::string stage_arn;
  StageState state = StageState::pending;
  Instant since{};
  std::string last_error;
  std::string note;
  std::uint32_t attempts = 0;           // connection attempts made for this stage so far
  std::uint32_t failures = 0;           // consecutive failures (what the backoff is based on)
  std::optional<Instant> next_event;    // retry time in backoff, deadline otherwise
  bool republishing = false;            // a make-before-break attempt is in flight
  std::optional<Instant> republish_at;  // connected: when the next republish starts
};

struct StageReconcilerOptions {
  std::size_t max_concurrent_connects = 8;
  BackoffPolicy backoff{};                              // 1 s → 30 s, full jitter
  Duration attempt_timeout = std::chrono::seconds(30);  // token + open, per attempt
  Duration close_timeout = std::chrono::seconds(5);
  // A connection that stayed up this long resets the stage's backoff when it later fails.
  Duration stable_after = std::chrono::seconds(30);
  // Republish (make-before-break) a connected stage whose session reached this age; zero turns
  // it off. Fed from STAGE_REPUBLISH_INTERVAL (IVS ends publish sessions after 24 h).
  Duration max_session_age = std::chrono::hours(23);
  BackoffPolicy republish_backoff{std::chrono::seconds(5), std::chrono::minutes(5), 2.0,
                                  Jitter::full};
};

class StageReconciler {
 public:
  // `random` must outlive the reconciler (jitter source).
  StageReconciler(StageReconcilerOptions options, RandomSource& random);

  // Desired-set inputs.
  void replace_desired(Instant now, const std::vector<std::string>& stage_arns);
  void add_stage(Instant now, std::string_view stage_arn);
  void remove_stage(Instant now, std::string_view stage_arn);
  // Empties the desired set for good: every egress is closed; adds are ignored afterwards.
  void shutdown(Instant now);

  void handle_result(Instant now, const StageResult& result);
  void handle_timeout(Instant now);

  std::optional<StageCommand> poll_command();
  std::optional<StageTransition> poll_event();
  std::optional<Instant> poll_timeout() const;

  std::vector<StageStatus> snapshot() const;
  std::size_t count_in(StageState state) const;
  std::size_t stage_count() const { return stages_.size(); }
  std::size_t connecting_count() const { return connecting_; }
  bool shutting_down() const { return shutting_down_; }

 private:
  struct Stage {
    std::string arn;
    StageState state = StageState::pending;
    Instant since{};
    std::string last_error;
    std::string note;
    std::uint32_t attempts = 0;
    std::uint64_t attempt_id = 0;
    bool token_phase = false;        // connecting: still waiting for the token
    bool readd_after_close = false;  // re-added while closing
    Instant deadline{};
    std::optional<Instant> connected_since;
    Backoff backoff;
    // Make-before-break republish (connected stages only).
    std::optional<Instant> republish_at;  // due time; nullopt: none planned
    bool republish_due = false;           // due, waiting for a connect slot
    std::uint64_t republish_attempt = 0;  // 0: none in flight
    bool republish_token_phase = false;
    Instant republish_deadline{};
    Backoff republish_backoff;
  };

  void set_state(Instant now, Stage& stage, StageState to, std::string reason);
  void erase(Stage& stage, std::string reason);
  void enqueue(Instant now, Stage& stage);
  void start_attempt(Instant now, Stage& stage);
  void fail_attempt(Instant now, Stage& stage, std::string reason, bool permanent);
  void begin_close(Instant now, Stage& stage, std::string reason);
  void finish_close(Instant now, Stage& stage);
  void pump(Instant now);
  Stage* current(const std::string& arn, std::uint64_t attempt);
  Stage* republishing(const std::string& arn, std::uint64_t attempt);
  bool on_republish(Instant now, const StageResult& result);
  void start_republish(Instant now, Stage& stage);
  void fail_republish(Instant now, Stage& stage, const std::string& reason);
  void abandon_republish(Stage& stage);
  void promote_republish(Instant now, Stage& stage);
  void republish_timeouts(Instant now);
  std::optional<Instant> republish_timeout() const;

  void on(Instant now, const TokenFetched& result);
  void on(Instant now, const TokenFailed& result);
  void on(Instant now, const EgressConnected& result);
  void on(Instant now, const EgressFailed& result);
  void on(Instant now, const EgressClosed& result);

  StageReconcilerOptions options_;
  RandomSource& random_;
  std::map<std::string, Stage, std::less<>> stages_;
  std::deque<std::string> queue_;  // pending stages, first come first served
  std::deque<StageCommand> commands_;
  std::deque<StageTransition> events_;
  std::size_t connecting_ = 0;
  std::uint64_t next_attempt_ = 1;
  bool shutting_down_ = false;
};

}  // namespace ivs::engine
