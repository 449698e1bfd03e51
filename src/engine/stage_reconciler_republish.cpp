// StageReconciler: the make-before-break republish of connected stages (stage_reconciler.hpp
// explains the why). Kept apart from the per-stage state machine because it runs beside it: a
// republish attempt never changes the stage's state until it succeeds.
#include <string>

#include "engine/stage_reconciler.hpp"

namespace ivs::engine {
namespace {

std::string delay_text(Duration d) {
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
  return std::to_string(ms / 1000) + "." + std::to_string((ms % 1000) / 100) + " s";
}

template <class T>
std::pair<std::string, std::uint64_t> key_of(const T& result) {
  return {result.stage_arn, result.attempt};
}

}  // namespace

StageReconciler::Stage* StageReconciler::republishing(const std::string& arn,
                                                      std::uint64_t attempt) {
  auto it = stages_.find(arn);
  if (it == stages_.end() || attempt == 0 || it->second.republish_attempt != attempt ||
      it->second.state != StageState::connected) {
    return nullptr;
  }
  return &it->second;
}

bool StageReconciler::on_republish(Instant now, const StageResult& result) {
  const auto [arn, attempt] = std::visit([](const auto& r) { return key_of(r); }, result);
  Stage* stage = republishing(arn, attempt);
  if (stage == nullptr) {
    return false;
  }
  if (const auto* token = std::get_if<TokenFetched>(&result)) {
    if (stage->republish_token_phase) {
      stage->republish_token_phase = false;
      commands_.push_back(OpenEgress{arn, attempt, token->token, token->whip_url});
    }
  } else if (const auto* refused = std::get_if<TokenFailed>(&result)) {
    fail_republish(now, *stage, "token: " + refused->reason);
  } else if (const auto* connected = std::get_if<EgressConnected>(&result)) {
    // The new session publishes: only now is the old one let go (make before break).
    commands_.push_back(CloseEgress{arn, stage->attempt_id});
    stage->attempt_id = attempt;
    stage->republish_attempt = 0;
    --connecting_;
    stage->note = connected->note;
    stage->connected_since = now;
    stage->republish_at = now + options_.max_session_age;
    stage->republish_backoff.reset();
    events_.push_back({arn, StageState::connected, StageState::connected,
                       "republished: new session publishing, old one closed"});
  } else if (const auto* failed = std::get_if<EgressFailed>(&result)) {
    fail_republish(now, *stage, "egress: " + failed->reason);
  } else if (std::holds_alternative<EgressClosed>(result)) {
    fail_republish(now, *stage, "egress closed unexpectedly");
  }
  return true;
}

void StageReconciler::start_republish(Instant now, Stage& stage) {
  stage.republish_due = false;
  stage.republish_attempt = next_attempt_++;
  stage.republish_token_phase = true;
  stage.republish_deadline = now + options_.attempt_timeout;
  ++stage.attempts;
  ++connecting_;
  events_.push_back({stage.arn, StageState::connected, StageState::connected,
                     "republishing before the session limit (make-before-break)"});
  commands_.push_back(FetchToken{stage.arn, stage.republish_attempt});
}

void StageReconciler::fail_republish(Instant now, Stage& stage, const std::string& reason) {
  --connecting_;
  stage.republish_attempt = 0;
  const Duration delay = stage.republish_backoff.next_delay(random_);
  stage.republish_at = now + delay;
  stage.last_error = "republish: " + reason;
  events_.push_back({stage.arn, StageState::connected, StageState::connected,
                     "republish failed (" + reason + "); the current session keeps publishing; " +
                         "retry in " + delay_text(delay)});
}

void StageReconciler::abandon_republish(Stage& stage) {
  if (stage.republish_attempt != 0) {
    if (!stage.republish_token_phase) {
      commands_.push_back(CloseEgress{stage.arn, stage.republish_attempt});
    }
    --connecting_;
    stage.republish_attempt = 0;
  }
  stage.republish_due = false;
  stage.republish_at.reset();
}

// The old session died while its successor was on the way: the successor becomes the stage's
// ordinary connecting attempt (same deadline), so no second attempt is started for nothing.
void StageReconciler::promote_republish(Instant now, Stage& stage) {
  --connecting_;  // set_state(connecting) takes the slot again
  stage.attempt_id = stage.republish_attempt;
  stage.token_phase = stage.republish_token_phase;
  stage.deadline = stage.republish_deadline;
  stage.republish_attempt = 0;
  stage.republish_due = false;
  stage.republish_at.reset();
  stage.connected_since.reset();
  set_state(now, stage, StageState::connecting,
            stage.last_error + "; the republish attempt in flight takes over");
}

void StageReconciler::republish_timeouts(Instant now) {
  for (auto& [arn, stage] : stages_) {
    if (stage.state != StageState::connected) {
      continue;
    }
    if (stage.republish_attempt != 0) {
      if (stage.republish_deadline <= now) {
        if (!stage.republish_token_phase) {
          commands_.push_back(CloseEgress{arn, stage.republish_attempt});
        }
        fail_republish(now, stage,
                       "attempt timed out after " + delay_text(options_.attempt_timeout));
      }
    } else if (stage.republish_at && *stage.republish_at <= now && !stage.republish_due) {
      stage.republish_due = true;  // pump() starts it when a connect slot is free
    }
  }
}

std::optional<Instant> StageReconciler::republish_timeout() const {
  std::optional<Instant> earliest;
  for (const auto& [arn, stage] : stages_) {
    if (stage.state != StageState::connected) {
      continue;
    }
    std::optional<Instant> due;
    if (stage.republish_attempt != 0) {
      due = stage.republish_deadline;
    } else if (stage.republish_at && !stage.republish_due) {
      due = stage.republish_at;
    }
    if (due && (!earliest || *due < *earliest)) {
      earliest = due;
    }
  }
  return earliest;
}

}  // namespace ivs::engine
