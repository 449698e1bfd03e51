// Exponential backoff with jitter for every retry loop of the control plane: API client
// requests, the WebSocket reconnect and the per-stage egress retries (DESIGN.md §5: "egress
// sessions reconnect with exponential backoff and jitter").
//
// Why jitter: when the API server or IVS blips, every stage fails at the same instant; without
// jitter they would all retry in lock-step and hit the token endpoint (50 req/s per account) as a
// burst. Two strategies from the AWS Architecture Blog "Exponential Backoff And Jitter":
//   full:         delay = uniform[min, min(max, min * multiplier^n)]
//   decorrelated: delay = min(max, uniform[min, previous * 3])
// "full" keeps the lower bound at `min` (not 0) so a failing peer is never retried in a tight
// loop. Randomness is injected (engine/random.hpp), so tests reproduce exactly.
#pragma once

#include <cstdint>

#include "engine/random.hpp"
#include "proto/time.hpp"

namespace ivs::engine {

enum class Jitter { none, full, decorrelated };

struct BackoffPolicy {
  Duration min = std::chrono::seconds(1);
  Duration max = std::chrono::seconds(30);
  double multiplier = 2.0;
  Jitter jitter = Jitter::full;
};

class Backoff {
 public:
  explicit Backoff(BackoffPolicy policy = {});

  // The delay before the next retry; each call counts one more failure.
  Duration next_delay(RandomSource& random);
  // Back to the first delay (call after a success).
  void reset();

  // Failures counted since the last reset.
  std::uint32_t failures() const { return failures_; }
  // The upper bound the next delay is drawn under (for tests and status pages).
  Duration current_ceiling() const;
  const BackoffPolicy& policy() const { return policy_; }

 private:
  Duration draw_between(RandomSource& random, Duration low, Duration high) const;

  BackoffPolicy policy_;
  std::uint32_t failures_ = 0;
  Duration previous_{};
};

}  // namespace ivs::engine
