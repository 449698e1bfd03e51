#include "engine/backoff.hpp"

#include <algorithm>
#include <cmath>

namespace ivs::engine {

Backoff::Backoff(BackoffPolicy policy) : policy_(policy) {
  // A policy with max < min would make every bound below meaningless; clamp once here.
  if (policy_.max < policy_.min) {
    policy_.max = policy_.min;
  }
  if (policy_.multiplier < 1.0) {
    policy_.multiplier = 1.0;
  }
  previous_ = policy_.min;
}

void Backoff::reset() {
  failures_ = 0;
  previous_ = policy_.min;
}

Duration Backoff::current_ceiling() const {
  // Computed in floating point and capped before converting back so large failure counts
  // cannot overflow the tick count.
  const double min_ticks = static_cast<double>(policy_.min.count());
  const double max_ticks = static_cast<double>(policy_.max.count());
  const double grown = min_ticks * std::pow(policy_.multiplier, static_cast<double>(failures_));
  return Duration(static_cast<Duration::rep>(std::min(grown, max_ticks)));
}

Duration Backoff::draw_between(RandomSource& random, Duration low, Duration high) const {
  if (high <= low) {
    return low;
  }
  const auto span = static_cast<std::uint64_t>((high - low).count());
  return low + Duration(static_cast<Duration::rep>(random.uniform(span + 1)));
}

Duration Backoff::next_delay(RandomSource& random) {
  Duration delay{};
  switch (policy_.jitter) {
    case Jitter::none:
      delay = current_ceiling();
      break;
    case Jitter::full:
      delay = draw_between(random, policy_.min, current_ceiling());
      break;
    case Jitter::decorrelated: {
      const Duration high = std::min(policy_.max, previous_ * 3);
      delay = draw_between(random, policy_.min, high);
      break;
    }
  }
  previous_ = delay;
  if (failures_ < 64) {
    ++failures_;
  }
  return delay;
}

}  // namespace ivs::engine
