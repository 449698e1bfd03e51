#include "engine/stage_reconciler.hpp"

#include <algorithm>
#include <string>

namespace ivs::engine {

const char* to_string(StageState state) {
  switch (state) {
    case StageState::pending:
      return "pending";
    case StageState::connecting:
      return "connecting";
    case StageState::connected:
      return "connected";
    case StageState::tracked:
      return "tracked";
    case StageState::backoff:
      return "backoff";
    case StageState::failed:
      return "failed";
    case StageState::closing:
      return "closing";
  }
  return "unknown";
}

namespace {
std::string seconds_text(Duration d) {
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
  return std::to_string(ms / 1000) + "." + std::to_string((ms % 1000) / 100) + " s";
}
}  // namespace

StageReconciler::StageReconciler(StageReconcilerOptions options, RandomSource& random)
    : options_(options), random_(random) {
  if (options_.max_concurrent_connects == 0) {
    options_.max_concurrent_connects = 1;
  }
}

// ---- desired set -------------------------------------------------------------------------

void StageReconciler::replace_desired(Instant now, const std::vector<std::string>& stage_arns) {
  std::vector<std::string> stale;
  for (const auto& [arn, stage] : stages_) {
    if (stage.state == StageState::closing && !stage.readd_after_close) {
      continue;  // already on its way out
    }
    if (std::find(stage_arns.begin(), stage_arns.end(), arn) == stage_arns.end()) {
      stale.push_back(arn);
    }
  }
  for (const auto& arn : stale) {
    remove_stage(now, arn);
  }
  // Added in list order, so the connect queue follows the API server's order.
  for (const auto& arn : stage_arns) {
    add_stage(now, arn);
  }
}

void StageReconciler::add_stage(Instant now, std::string_view stage_arn) {
  if (shutting_down_ || stage_arn.empty()) {
    return;
  }
  auto it = stages_.find(stage_arn);
  if (it == stages_.end()) {
    Stage stage;
    stage.arn = std::string(stage_arn);
    stage.since = now;
    stage.backoff = Backoff(options_.backoff);
    stage.republish_backoff = Backoff(options_.republish_backoff);
    it = stages_.emplace(stage.arn, std::move(stage)).first;
    events_.push_back({it->first, std::nullopt, StageState::pending, "desired"});
    queue_.push_back(it->first);
  } else if (it->second.state == StageState::closing) {
    it->second.readd_after_close = true;
  } else if (it->second.state == StageState::failed) {
    // Level-triggered: the stage is still listed, so it gets another chance.
    it->second.backoff.reset();
    enqueue(now, it->second);
  }
  pump(now);
}

void StageReconciler::remove_stage(Instant now, std::string_view stage_arn) {
  auto it = stages_.find(stage_arn);
  if (it == stages_.end()) {
    return;
  }
  Stage& stage = it->second;
  switch (stage.state) {
    case StageState::pending:
    case StageState::backoff:
    case StageState::failed:
      erase(stage, "removed");
      break;
    case StageState::connecting:
      if (stage.token_phase) {
        // No egress exists yet; the token answer will arrive for an unknown attempt and be
        // ignored.
        erase(stage, "removed while fetching token");
      } else {
        begin_close(now, stage, "removed while connecting");
      }
      break;
    case StageState::connected:
    case StageState::tracked:
      abandon_republish(stage);
      begin_close(now, stage, "removed");
      break;
    case StageState::closing:
      stage.readd_after_close = false;
      break;
  }
  pump(now);
}

void StageReconciler::shutdown(Instant now) {
  shutting_down_ = true;
  std::vector<std::string> all;
  for (const auto& [arn, stage] : stages_) {
    all.push_back(arn);
  }
  for (const auto& arn : all) {
    remove_stage(now, arn);
  }
}

// ---- results ------------------------------------------------------------------------------

void StageReconciler::handle_result(Instant now, const StageResult& result) {
  if (on_republish(now, result)) {
    pump(now);
    return;
  }
  std::visit([&](const auto& r) { on(now, r); }, result);
  pump(now);
}

StageReconciler::Stage* StageReconciler::current(const std::string& arn, std::uint64_t attempt) {
  auto it = stages_.find(arn);
  if (it == stages_.end() || it->second.attempt_id != attempt) {
    return nullptr;
  }
  return &it->second;
}

void StageReconciler::on(Instant now, const TokenFetched& result) {
  Stage* stage = current(result.stage_arn, result.attempt);
  if (stage == nullptr || stage->state != StageState::connecting || !stage->token_phase) {
    return;  // answer to an abandoned attempt
  }
  stage->token_phase = false;
  commands_.push_back(OpenEgress{stage->arn, stage->attempt_id, result.token, result.whip_url});
}

void StageReconciler::on(Instant now, const TokenFailed& result) {
  Stage* stage = current(result.stage_arn, result.attempt);
  if (stage == nullptr || stage->state != StageState::connecting || !stage->token_phase) {
    return;
  }
  fail_attempt(now, *stage, "token: " + result.reason, result.permanent);
}

void StageReconciler::on(Instant now, const EgressConnected& result) {
  Stage* stage = current(result.stage_arn, result.attempt);
  if (stage == nullptr || stage->state != StageState::connecting || stage->token_phase) {
    // A session nobody wants any more: make sure it does not linger.
    commands_.push_back(CloseEgress{result.stage_arn, result.attempt});
    return;
  }
  stage->note = result.note;
  stage->connected_since = now;
  if (result.publishing && options_.max_session_age > Duration::zero()) {
    stage->republish_at = now + options_.max_session_age;
  }
  set_state(now, *stage, result.publishing ? StageState::connected : StageState::tracked,
            result.publishing ? "egress connected" : "egress tracking only");
}

void StageReconciler::on(Instant now, const EgressFailed& result) {
  Stage* stage = current(result.stage_arn, result.attempt);
  if (stage == nullptr) {
    return;
  }
  switch (stage->state) {
    case StageState::connected:
      if (stage->republish_attempt != 0) {
        stage->last_error = "egress: " + result.reason;
        promote_republish(now, *stage);
        break;
      }
      fail_attempt(now, *stage, "egress: " + result.reason, false);
      break;
    case StageState::connecting:
    case StageState::tracked:
      fail_attempt(now, *stage, "egress: " + result.reason, false);
      break;
    case StageState::closing:
      finish_close(now, *stage);
      break;
    default:
      break;
  }
}

void StageReconciler::on(Instant now, const EgressClosed& result) {
  Stage* stage = current(result.stage_arn, result.attempt);
  if (stage == nullptr) {
    return;
  }
  switch (stage->state) {
    case StageState::closing:
      finish_close(now, *stage);
      break;
    case StageState::connected:
      if (stage->republish_attempt != 0) {
        stage->last_error = "egress closed unexpectedly";
        promote_republish(now, *stage);
        break;
      }
      fail_attempt(now, *stage, "egress closed unexpectedly", false);
      break;
    case StageState::connecting:
    case StageState::tracked:
      fail_attempt(now, *stage, "egress closed unexpectedly", false);
      break;
    default:
      break;
  }
}

// ---- time ---------------------------------------------------------------------------------

void StageReconciler::handle_timeout(Instant now) {
  std::vector<std::string> due;
  for (const auto& [arn, stage] : stages_) {
    const bool timed = stage.state == StageState::connecting ||
                       stage.state == StageState::backoff || stage.state == StageState::closing;
    if (timed && stage.deadline <= now) {
      due.push_back(arn);
    }
  }
  for (const auto& arn : due) {
    auto it = stages_.find(arn);
    if (it == stages_.end()) {
      continue;
    }
    Stage& stage = it->second;
    if (stage.state == StageState::connecting) {
      if (!stage.token_phase) {
        commands_.push_back(CloseEgress{stage.arn, stage.attempt_id});
      }
      fail_attempt(now, stage, "attempt timed out after " + seconds_text(options_.attempt_timeout),
                   false);
    } else if (stage.state == StageState::backoff) {
      enqueue(now, stage);
    } else if (stage.state == StageState::closing) {
      finish_close(now, stage);
    }
  }
  republish_timeouts(now);
  pump(now);
}

std::optional<Instant> StageReconciler::poll_timeout() const {
  std::optional<Instant> earliest;
  for (const auto& [arn, stage] : stages_) {
    const bool timed = stage.state == StageState::connecting ||
                       stage.state == StageState::backoff || stage.state == StageState::closing;
    if (timed && (!earliest || stage.deadline < *earliest)) {
      earliest = stage.deadline;
    }
  }
  if (auto republish = republish_timeout(); republish && (!earliest || *republish < *earliest)) {
    earliest = republish;
  }
  return earliest;
}

// ---- transitions --------------------------------------------------------------------------

void StageReconciler::set_state(Instant now, Stage& stage, StageState to, std::string reason) {
  if (stage.state == StageState::connecting && to != StageState::connecting) {
    --connecting_;
  } else if (stage.state != StageState::connecting && to == StageState::connecting) {
    ++connecting_;
  }
  events_.push_back({stage.arn, stage.state, to, std::move(reason)});
  stage.state = to;
  stage.since = now;
}

void StageReconciler::erase(Stage& stage, std::string reason) {
  if (stage.state == StageState::connecting) {
    --connecting_;
  }
  if (stage.state == StageState::pending) {
    queue_.erase(std::remove(queue_.begin(), queue_.end(), stage.arn), queue_.end());
  }
  events_.push_back({stage.arn, stage.state, std::nullopt, std::move(reason)});
  const std::string arn = stage.arn;  // the key must outlive the node it names
  stages_.erase(arn);                 // `stage` dangles from here on
}

void StageReconciler::enqueue(Instant now, Stage& stage) {
  if (stage.state != StageState::pending) {
    set_state(now, stage, StageState::pending, "queued");
  }
  queue_.push_back(stage.arn);
}

void StageReconciler::pump(Instant now) {
  while (connecting_ < options_.max_concurrent_connects && !queue_.empty()) {
    const std::string arn = std::move(queue_.front());
    queue_.pop_front();
    auto it = stages_.find(arn);
    if (it != stages_.end() && it->second.state == StageState::pending) {
      start_attempt(now, it->second);
    }
  }
  // Republishes come after new stages: a stage without any session matters more than one whose
  // session still has an hour to live.
  for (auto& [arn, stage] : stages_) {
    if (connecting_ >= options_.max_concurrent_connects) {
      break;
    }
    if (stage.state == StageState::connected && stage.republish_due &&
        stage.republish_attempt == 0) {
      start_republish(now, stage);
    }
  }
}

void StageReconciler::start_attempt(Instant now, Stage& stage) {
  stage.attempt_id = next_attempt_++;
  ++stage.attempts;
  stage.token_phase = true;
  stage.connected_since.reset();
  stage.deadline = now + options_.attempt_timeout;
  set_state(now, stage, StageState::connecting, "attempt " + std::to_string(stage.attempts));
  commands_.push_back(FetchToken{stage.arn, stage.attempt_id});
}

void StageReconciler::fail_attempt(Instant now, Stage& stage, std::string reason, bool permanent) {
  abandon_republish(stage);
  if (stage.connected_since && now - *stage.connected_since >= options_.stable_after) {
    stage.backoff.reset();  // it worked for a good while: start over at the short delay
  }
  stage.connected_since.reset();
  stage.last_error = reason;
  if (permanent) {
    set_state(now, stage, StageState::failed, std::move(reason));
    return;
  }
  const Duration delay = stage.backoff.next_delay(random_);
  stage.deadline = now + delay;
  set_state(now, stage, StageState::backoff,
            std::move(reason) + "; retry in " + seconds_text(delay));
}

void StageReconciler::begin_close(Instant now, Stage& stage, std::string reason) {
  commands_.push_back(CloseEgress{stage.arn, stage.attempt_id});
  stage.readd_after_close = false;
  stage.deadline = now + options_.close_timeout;
  set_state(now, stage, StageState::closing, std::move(reason));
}

void StageReconciler::finish_close(Instant now, Stage& stage) {
  if (stage.readd_after_close && !shutting_down_) {
    stage.readd_after_close = false;
    stage.backoff.reset();
    enqueue(now, stage);
    return;
  }
  erase(stage, "closed");
}

// ---- queries ------------------------------------------------------------------------------

std::optional<StageCommand> StageReconciler::poll_command() {
  if (commands_.empty()) {
    return std::nullopt;
  }
  StageCommand command = std::move(commands_.front());
  commands_.pop_front();
  return command;
}

std::optional<StageTransition> StageReconciler::poll_event() {
  if (events_.empty()) {
    return std::nullopt;
  }
  StageTransition event = std::move(events_.front());
  events_.pop_front();
  return event;
}

std::vector<StageStatus> StageReconciler::snapshot() const {
  std::vector<StageStatus> out;
  out.reserve(stages_.size());
  for (const auto& [arn, stage] : stages_) {
    StageStatus status;
    status.stage_arn = arn;
    status.state = stage.state;
    status.since = stage.since;
    status.last_error = stage.last_error;
    status.note = stage.note;
    status.attempts = stage.attempts;
    status.failures = stage.backoff.failures();
    if (stage.state == StageState::connecting || stage.state == StageState::backoff ||
        stage.state == StageState::closing) {
      status.next_event = stage.deadline;
    }
    status.republishing = stage.republish_attempt != 0;
    if (stage.state == StageState::connected) {
      status.republish_at = stage.republish_at;
    }
    out.push_back(std::move(status));
  }
  return out;
}

std::size_t StageReconciler::count_in(StageState state) const {
  return static_cast<std::size_t>(
      std::count_if(stages_.begin(), stages_.end(),
                    [&](const auto& entry) { return entry.second.state == state; }));
}

}  // namespace ivs::engine
