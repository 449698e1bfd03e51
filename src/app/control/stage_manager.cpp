#include "app/control/stage_manager.hpp"

#include <spdlog/spdlog.h>
#include <boost/asio/post.hpp>

#include "app/roles/logging.hpp"
#include "io/redact.hpp"

namespace ivs::app {

using engine::StageState;

StageManager::StageManager(boost::asio::io_context& io, engine::StageReconcilerOptions options,
                           TokenSource tokens, EgressFactory& egress, engine::RandomSource& random,
                           io::ControlClock* clock)
    : io_(io),
      owned_clock_(clock == nullptr ? std::make_unique<io::SteadyControlClock>(io) : nullptr),
      clock_(clock != nullptr ? *clock : *owned_clock_),
      reconciler_(options, random),
      tokens_(std::move(tokens)),
      egress_(egress),
      timer_(clock_.make_timer()),
      alive_(std::make_shared<bool>(true)) {}

StageManager::~StageManager() {
  *alive_ = false;
  timer_->cancel();
}

void StageManager::sync(const std::vector<std::string>& stage_arns) {
  listed_ = std::set<std::string>(stage_arns.begin(), stage_arns.end());
  if (!filter_) {
    spdlog::info("syncing {} stages", stage_arns.size());
    reconciler_.replace_desired(clock_.now(), stage_arns);
  } else {
    const Instant now = clock_.now();
    const std::vector<std::string> held = this->held(now);
    spdlog::info("syncing {} stages, {} of them this server's shard", stage_arns.size(),
                 held.size());
    reconciler_.replace_desired(now, held);
  }
  step();
}

void StageManager::add(const std::string& stage_arn) {
  listed_.insert(stage_arn);
  const Instant now = clock_.now();
  if (filter_ && filter_(now, stage_arn) == StageHold::kNo) {
    spdlog::info("stage {} created: another server's shard", stage_arn);
    return;
  }
  reconciler_.add_stage(now, stage_arn);
  step();
}

void StageManager::remove(const std::string& stage_arn) {
  listed_.erase(stage_arn);
  reconciler_.remove_stage(clock_.now(), stage_arn);
  step();
}

void StageManager::set_filter(StageFilter filter) {
  filter_ = std::move(filter);
}

void StageManager::refilter() {
  const Instant now = clock_.now();
  reconciler_.replace_desired(now, held(now));
  step();
}

std::vector<std::string> StageManager::held(Instant now) const {
  std::vector<std::string> held;
  for (const std::string& arn : listed_) {
    if (!filter_ || filter_(now, arn) != StageHold::kNo) {
      held.push_back(arn);
    }
  }
  return held;
}

void StageManager::shutdown(std::function<void()> done) {
  shutdown_done_ = std::move(done);
  reconciler_.shutdown(clock_.now());
  step();
}

std::size_t StageManager::connected_count() const {
  return reconciler_.count_in(StageState::connected);
}

std::optional<EgressStats> StageManager::stats(const std::string& stage_arn) const {
  const auto all = stats_by_stage();
  const auto found = all.find(stage_arn);
  return found == all.end() ? std::nullopt : std::optional<EgressStats>(found->second);
}

std::unordered_map<std::string, EgressStats> StageManager::stats_by_stage() const {
  std::unordered_map<std::string, EgressStats> out;
  out.reserve(attempt_stage_.size());
  // Newest attempt first: during a make-before-break republish the new session is shown as
  // soon as it publishes, and the old one until then.
  for (auto it = sessions_.rbegin(); it != sessions_.rend(); ++it) {
    const auto stage = attempt_stage_.find(it->first);
    if (stage == attempt_stage_.end() || !it->second || out.contains(stage->second)) {
      continue;
    }
    if (auto stats = it->second->stats()) {
      out.emplace(stage->second, *stats);
    }
  }
  return out;
}

void StageManager::feed(const engine::StageResult& result) {
  reconciler_.handle_result(clock_.now(), result);
  step();
}

void StageManager::step() {
  while (true) {
    if (auto command = reconciler_.poll_command()) {
      std::visit([this](const auto& c) { execute(c); }, *command);
      continue;
    }
    if (auto event = reconciler_.poll_event()) {
      log(*event);
      continue;
    }
    break;
  }
  arm_timer();
  if (shutdown_done_ && reconciler_.stage_count() == 0) {
    sessions_.clear();  // abandoned closes (close timeout) are dropped here
    attempt_stage_.clear();
    closing_.clear();
    auto done = std::move(shutdown_done_);
    shutdown_done_ = nullptr;
    boost::asio::post(io_, std::move(done));
  }
}

void StageManager::arm_timer() {
  const auto due = reconciler_.poll_timeout();
  if (!due) {
    timer_->cancel();
    return;
  }
  // The timer belongs to this manager and dies with it, so its handler may use `this`.
  timer_->arm(*due, [this] {
    reconciler_.handle_timeout(clock_.now());
    step();
  });
}

void StageManager::execute(const engine::FetchToken& command) {
  std::weak_ptr<bool> alive = alive_;
  tokens_(command.stage_arn, [this, alive, command](Result<TokenInfo> token, bool permanent) {
    if (!alive.lock() || !*alive.lock()) {
      return;
    }
    if (token.ok()) {
      spdlog::debug("token for stage {}: {} (WHIP URL from {})", command.stage_arn,
                    secret_fingerprint(token->token), to_string(token->whip_url_source));
      feed(engine::TokenFetched{command.stage_arn, command.attempt, token->token, token->whip_url});
    } else {
      feed(engine::TokenFailed{command.stage_arn, command.attempt, token.error().message,
                               permanent});
    }
  });
}

void StageManager::execute(const engine::OpenEgress& command) {
  spdlog::debug("opening {} egress to stage {} at {}", egress_.mode(), command.stage_arn,
                io::redact_url(command.whip_url));
  std::weak_ptr<bool> alive = alive_;
  auto guard = [alive] { return alive.lock() && *alive.lock(); };
  EgressCallbacks callbacks;
  callbacks.on_connected = [this, guard, command](bool publishing, std::string note) {
    if (guard()) {
      if (publishing) {
        spdlog::info("publishing to stage {}", command.stage_arn);
      } else {
        spdlog::warn("stage {} tracked, not published to: {}", command.stage_arn, note);
      }
      feed(
          engine::EgressConnected{command.stage_arn, command.attempt, publishing, std::move(note)});
    }
  };
  callbacks.on_failed = [this, guard, command](std::string reason) {
    if (!guard()) {
      return;
    }
    // A failed session is finished (nothing to close), but this callback runs inside the
    // session's own code: destroying it here would free the object under its feet. It is
    // destroyed on the next turn of the loop instead.
    if (auto it = sessions_.find(command.attempt); it != sessions_.end()) {
      std::shared_ptr<EgressSession> finished = std::move(it->second);
      sessions_.erase(it);
      boost::asio::post(io_, [finished] {});
    }
    attempt_stage_.erase(command.attempt);
    feed(engine::EgressFailed{command.stage_arn, command.attempt, std::move(reason)});
    if (filter_ && filter_(clock_.now(), command.stage_arn) == StageHold::kHandingOver) {
      spdlog::info("stage {} handed over to its new owner (SHARD_PEERS)", command.stage_arn);
      reconciler_.remove_stage(clock_.now(), command.stage_arn);
      step();
    }
  };
  newest_attempt_[command.stage_arn] = command.attempt;
  attempt_stage_[command.attempt] = command.stage_arn;
  sessions_[command.attempt] = egress_.open(
      EgressTarget{command.stage_arn, command.token, command.whip_url}, std::move(callbacks));
}

void StageManager::execute(const engine::CloseEgress& command) {
  if (auto newest = newest_attempt_.find(command.stage_arn);
      newest != newest_attempt_.end() && newest->second == command.attempt) {
    newest_attempt_.erase(newest);
  }
  auto it = sessions_.find(command.attempt);
  if (it == sessions_.end()) {
    // Already gone (failed on its own): the reconciler still waits for a close if closing.
    boost::asio::post(io_, [this, alive = std::weak_ptr<bool>(alive_), command] {
      if (alive.lock() && *alive.lock()) {
        feed(engine::EgressClosed{command.stage_arn, command.attempt});
      }
    });
    return;
  }
  EgressSession& session = *it->second;
  closing_[command.attempt] = std::move(it->second);
  sessions_.erase(it);
  attempt_stage_.erase(command.attempt);
  std::weak_ptr<bool> alive = alive_;
  session.close([this, alive, command] {
    // Destroying the session is deferred to the next turn of the loop: `done` runs inside the
    // session's own code, which must not be freed under its feet.
    boost::asio::post(io_, [this, alive, command] {
      if (alive.lock() && *alive.lock()) {
        closing_.erase(command.attempt);
        feed(engine::EgressClosed{command.stage_arn, command.attempt});
      }
    });
  });
}

void StageManager::log(const engine::StageTransition& event) {
  if (!event.to) {
    spdlog::info("stage {} removed ({})", event.stage_arn, io::redact_urls(event.reason));
    return;
  }
  switch (*event.to) {
    case StageState::connecting:
      spdlog::info("connecting to stage {} ({})", event.stage_arn, io::redact_urls(event.reason));
      break;
    case StageState::connected:
      if (event.from == StageState::connected) {
        // Republish progress.
        spdlog::info("stage {}: {}", event.stage_arn, io::redact_urls(event.reason));
      } else {
        spdlog::info("stage {} connected", event.stage_arn);
      }
      break;
    case StageState::tracked:
      break;  // logged with its note when the session reported it
    case StageState::backoff:
    case StageState::failed:
      // Every retry logs its reason: URLs in it (a destination's, a redirect's) are redacted.
      spdlog::warn("stage {} {}: {}", event.stage_arn, to_string(*event.to),
                   io::redact_urls(event.reason));
      break;
    case StageState::closing:
      spdlog::info("closing stage {} ({})", event.stage_arn, io::redact_urls(event.reason));
      break;
    case StageState::pending:
      spdlog::debug("stage {} pending ({})", event.stage_arn, io::redact_urls(event.reason));
      break;
  }
}

}  // namespace ivs::app
