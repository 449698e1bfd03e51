#include "engine/rate_limit.hpp"

#include <algorithm>
#include <cmath>

namespace ivs::engine {

namespace {

double seconds_between(Instant from, Instant to) {
  return to <= from ? 0.0 : std::chrono::duration<double>(to - from).count();
}

double burst_of(const TokenBucketConfig& config) {
  return std::max(1.0, config.burst);
}

}  // namespace

TokenBucket::TokenBucket(Instant now, const TokenBucketConfig& config)
    : tokens_(burst_of(config)), updated_(now) {}

double TokenBucket::tokens_at(Instant now, const TokenBucketConfig& config) const {
  return std::min(burst_of(config),
                  tokens_ + seconds_between(updated_, now) * config.rate_per_second);
}

bool TokenBucket::try_take(Instant now, const TokenBucketConfig& config) {
  if (config.rate_per_second <= 0) {
    return true;
  }
  tokens_ = tokens_at(now, config);
  updated_ = std::max(updated_, now);
  if (tokens_ < 1.0) {
    return false;
  }
  tokens_ -= 1.0;
  return true;
}

Duration TokenBucket::time_until_token(Instant now, const TokenBucketConfig& config) const {
  if (config.rate_per_second <= 0) {
    return Duration::zero();
  }
  const double missing = 1.0 - tokens_at(now, config);
  if (missing <= 0) {
    return Duration::zero();
  }
  return std::chrono::duration_cast<Duration>(
      std::chrono::duration<double>(missing / config.rate_per_second));
}

RequestRateLimiter::RequestRateLimiter(TokenBucketConfig config, std::size_t max_sources)
    : config_(config), buckets_(max_sources) {}

std::optional<Duration> RequestRateLimiter::admit(std::string_view source, Instant now) {
  if (!enabled()) {
    return std::nullopt;
  }
  TokenBucket& bucket = buckets_.touch(source, [&] { return TokenBucket(now, config_); });
  if (bucket.try_take(now, config_)) {
    return std::nullopt;
  }
  return bucket.time_until_token(now, config_);
}

FailureThrottle::FailureThrottle(FailureThrottleConfig config, std::size_t max_sources)
    : config_(config), windows_(max_sources) {}

std::optional<Duration> FailureThrottle::blocked_for(std::string_view source, Instant now) const {
  if (config_.max_failures == 0) {
    return std::nullopt;
  }
  const Window* window = windows_.find(source);
  if (window == nullptr || window->failures < config_.max_failures) {
    return std::nullopt;
  }
  const Instant end = window->start + config_.window;
  if (now >= end) {
    return std::nullopt;
  }
  return end - now;
}

std::size_t FailureThrottle::record_failure(std::string_view source, Instant now) {
  Window& window = windows_.touch(source, [&] { return Window{now, 0}; });
  if (now >= window.start + config_.window) {
    window = Window{now, 0};
  }
  ++window.failures;
  return window.failures;
}

void FailureThrottle::record_success(std::string_view source) {
  windows_.erase(source);
}

SlidingWindowCount::SlidingWindowCount(Duration window, std::size_t max_per_source,
                                       std::size_t max_sources)
    : window_(window),
      max_per_source_(std::max<std::size_t>(1, max_per_source)),
      events_(max_sources) {}

void SlidingWindowCount::expire(std::deque<Instant>& events, Instant now) const {
  while (!events.empty() && now >= events.front() + window_) {
    events.pop_front();
  }
}

std::size_t SlidingWindowCount::count(std::string_view source, Instant now) {
  std::deque<Instant>* events = events_.find(source);
  if (events == nullptr) {
    return 0;
  }
  expire(*events, now);
  return events->size();
}

void SlidingWindowCount::add(std::string_view source, Instant now) {
  std::deque<Instant>& events = events_.touch(source, [] { return std::deque<Instant>(); });
  expire(events, now);
  events.push_back(now);
  while (events.size() > max_per_source_) {
    events.pop_front();
  }
}

Duration SlidingWindowCount::time_until_expiry(std::string_view source, Instant now) {
  std::deque<Instant>* events = events_.find(source);
  if (events == nullptr) {
    return Duration::zero();
  }
  expire(*events, now);
  return events->empty() ? Duration::zero() : events->front() + window_ - now;
}

LogThrottle::LogThrottle(Duration interval, std::size_t max_keys)
    : interval_(interval), states_(max_keys) {}

std::optional<std::uint64_t> LogThrottle::record(std::string_view key, Instant now) {
  State& state = states_.touch(key, [] { return State{}; });
  ++state.held_back;
  if (state.last_line && now < *state.last_line + interval_) {
    return std::nullopt;
  }
  const std::uint64_t events = state.held_back;
  state.held_back = 0;
  state.last_line = now;
  return events;
}

std::int64_t retry_after_seconds(Duration wait) {
  const auto seconds = std::chrono::ceil<std::chrono::seconds>(wait).count();
  return std::max<std::int64_t>(1, seconds);
}

}  // namespace ivs::engine
