// StageManager (seed "核心組件 2"): the I/O shell around engine::StageReconciler. It turns the
// reconciler's commands into token requests and egress sessions, feeds their outcomes back, arms
// one timer from poll_timeout(), and logs the key events of the seed ("connecting to stage",
// "stage connected"). All on the control plane's single io_context, so no locks. Time comes from
// an io::ControlClock, so its tests run the reconciler's backoff and deadlines on simulated time.
//
//   desired set ──► StageReconciler ──commands──► FetchToken  → TokenSource (API client)
//   (list, WS)          ▲                         OpenEgress  → EgressFactory::open
//                       └────────── results ◄──── CloseEgress → EgressSession::close
#pragma once

#include <boost/asio/io_context.hpp>

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "app/control/api_responses.hpp"
#include "app/egress/egress_session.hpp"
#include "engine/random.hpp"
#include "engine/stage_reconciler.hpp"
#include "io/control_clock.hpp"

namespace ivs::app {

// Fetches one participant token; `permanent` marks failures retrying cannot fix.
using TokenCallback = std::function<void(Result<TokenInfo> token, bool permanent)>;
using TokenSource = std::function<void(const std::string& stage_arn, TokenCallback done)>;

class StageManager {
 public:
  // `clock` (a simulated one in tests) must outlive the manager; null means real time
  // (io::monotonic_now() and steady timers on `io`). `io` runs what the manager posts either way.
  StageManager(boost::asio::io_context& io, engine::StageReconcilerOptions options,
               TokenSource tokens, EgressFactory& egress, engine::RandomSource& random,
               io::ControlClock* clock = nullptr);
  ~StageManager();
  StageManager(const StageManager&) = delete;
  StageManager& operator=(const StageManager&) = delete;

  void sync(const std::vector<std::string>& stage_arns);  // full list: the truth
  void add(const std::string& stage_arn);                 // stage_created
  void remove(const std::string& stage_arn);              // stage_deleted
  // SHARD_PEERS (docs/scale-out.md): only the listed stages `filter` accepts at the manager's
  // time are published. The whole list is kept, so a new peer set needs only refilter().
  // kHandingOver: another server owns the stage now and this one keeps its session only until
  // the new owner is connected; a session that fails then is not retried (the stage role, like
  // any endpoint that allows one publisher, ends the old session when the new one connects).
  enum class StageHold { kNo, kYes, kHandingOver };
  using StageFilter = std::function<StageHold(Instant now, std::string_view stage_arn)>;
  void set_filter(StageFilter filter);
  void refilter();
  // Every stage the source listed, published here or not.
  const std::set<std::string>& listed() const { return listed_; }
  // Closes every egress session; `done` runs once all are closed (or abandoned after the
  // reconciler's close timeout).
  void shutdown(std::function<void()> done);

  std::vector<engine::StageStatus> snapshot() const { return reconciler_.snapshot(); }
  std::size_t connected_count() const;
  // Media figures of the stage's open egress session (the newest, during a make-before-break
  // republish); nothing while it is not publishing.
  std::optional<EgressStats> stats(const std::string& stage_arn) const;
  // The same for every stage in one pass over the sessions: what a status snapshot of a
  // thousand stages needs (a stats() call per stage would be quadratic in total).
  std::unordered_map<std::string, EgressStats> stats_by_stage() const;
  std::size_t open_sessions() const { return sessions_.size() + closing_.size(); }
  std::string egress_mode() const { return egress_.mode(); }

 private:
  void step();  // drain commands and events, re-arm the timer
  void execute(const engine::FetchToken& command);
  void execute(const engine::OpenEgress& command);
  void execute(const engine::CloseEgress& command);
  void log(const engine::StageTransition& event);
  void feed(const engine::StageResult& result);
  void arm_timer();
  std::vector<std::string> held(Instant now) const;  // listed_ through filter_

  boost::asio::io_context& io_;
  std::unique_ptr<io::ControlClock> owned_clock_;  // the real clock, unless one was given
  io::ControlClock& clock_;
  engine::StageReconciler reconciler_;
  TokenSource tokens_;
  EgressFactory& egress_;
  std::unique_ptr<io::ControlTimer> timer_;
  std::map<std::uint64_t, std::unique_ptr<EgressSession>> sessions_;  // by attempt id
  std::map<std::uint64_t, std::unique_ptr<EgressSession>> closing_;   // close() in progress
  std::map<std::string, std::uint64_t> newest_attempt_;               // by stage ARN
  std::map<std::uint64_t, std::string> attempt_stage_;                // open sessions' stage ARNs
  std::function<void()> shutdown_done_;
  std::set<std::string> listed_;
  StageFilter filter_;           // null: every listed stage
  std::shared_ptr<bool> alive_;  // callbacks check it: the manager may be gone when they run
};

}  // namespace ivs::app
