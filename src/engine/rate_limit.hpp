// Per-source rate limiting, failure back-off and log throttling for the HTTP edge (issue 13,
// docs/security.md). Time is an input: every call takes `Instant now`, so tests drive a
// simulated clock and nothing here sleeps or reads a clock.
//
// Why one bounded table under all three: the key is a client address, which an attacker
// chooses. Every per-source map here holds at most `max_sources` entries and drops the one
// touched longest ago when a new source arrives (LRU). Forgetting a source errs toward letting
// its next request through, never toward refusing a stranger, and memory stays bounded however
// many addresses a flood uses.
//
//   TokenBucket         `rate` tokens per second up to `burst`; one request takes one token.
//   RequestRateLimiter  a TokenBucket per source: the per-IP request rate (HTTP_RATE_LIMIT).
//   FailureThrottle     failed authentications per source in a fixed window; at `max_failures`
//                       the source is refused (429 + Retry-After) without checking its
//                       credentials until the window ends (AUTH_FAILURE_LIMIT/_WINDOW).
//   SlidingWindowCount  events per source within the last `window` (WHEP offers per address
//                       while their sessions may still be connecting).
//   LogThrottle         one log line per key per interval, carrying how many events it stands
//                       for.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <list>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>

#include "proto/time.hpp"

namespace ivs::engine {

// A map from source (an address as text) to per-source state, at most `capacity` entries; the
// least recently touched entry is dropped when a new source needs room.
template <class Value>
class SourceTable {
 public:
  explicit SourceTable(std::size_t capacity) : capacity_(capacity == 0 ? 1 : capacity) {}

  // The entry for `source`, created with `make()` when absent; marks it most recently used.
  template <class Make>
  Value& touch(std::string_view source, Make&& make) {
    if (auto found = index_.find(std::string(source)); found != index_.end()) {
      order_.splice(order_.begin(), order_, found->second);
      return found->second->second;
    }
    if (order_.size() >= capacity_) {
      index_.erase(order_.back().first);
      order_.pop_back();
    }
    order_.emplace_front(std::string(source), make());
    index_.emplace(order_.front().first, order_.begin());
    return order_.front().second;
  }
  // The entry for `source` without creating or reordering it; null when absent.
  const Value* find(std::string_view source) const {
    const auto found = index_.find(std::string(source));
    return found == index_.end() ? nullptr : &found->second->second;
  }
  Value* find(std::string_view source) {
    const auto found = index_.find(std::string(source));
    return found == index_.end() ? nullptr : &found->second->second;
  }
  void erase(std::string_view source) {
    if (auto found = index_.find(std::string(source)); found != index_.end()) {
      order_.erase(found->second);
      index_.erase(found);
    }
  }
  std::size_t size() const { return order_.size(); }
  std::size_t capacity() const { return capacity_; }

 private:
  using Entry = std::pair<std::string, Value>;
  std::size_t capacity_;
  std::list<Entry> order_;  // most recently used first
  std::unordered_map<std::string, typename std::list<Entry>::iterator> index_;
};

struct TokenBucketConfig {
  double rate_per_second = 0;  // 0: unlimited
  double burst = 0;            // bucket size; at least 1 when rate > 0
};

class TokenBucket {
 public:
  TokenBucket(Instant now, const TokenBucketConfig& config);
  // Takes one token if there is one (refilling for the time since the last call).
  bool try_take(Instant now, const TokenBucketConfig& config);
  // How long until one token is available (zero when one is).
  Duration time_until_token(Instant now, const TokenBucketConfig& config) const;

 private:
  double tokens_at(Instant now, const TokenBucketConfig& config) const;
  double tokens_;
  Instant updated_;
};

class RequestRateLimiter {
 public:
  explicit RequestRateLimiter(TokenBucketConfig config, std::size_t max_sources = 16384);
  // nullopt: admitted (one token taken); else how long the source should wait.
  std::optional<Duration> admit(std::string_view source, Instant now);
  bool enabled() const { return config_.rate_per_second > 0; }
  std::size_t tracked_sources() const { return buckets_.size(); }

 private:
  TokenBucketConfig config_;
  SourceTable<TokenBucket> buckets_;
};

struct FailureThrottleConfig {
  std::size_t max_failures = 10;  // 0: never throttle
  Duration window = std::chrono::seconds(60);
};

class FailureThrottle {
 public:
  explicit FailureThrottle(FailureThrottleConfig config, std::size_t max_sources = 16384);
  // While `source` has used up its failures in the current window: the time until the window
  // ends (the Retry-After). nullopt: its credentials may be checked.
  std::optional<Duration> blocked_for(std::string_view source, Instant now) const;
  // Counts one failure; returns the failures of `source` in its current window.
  std::size_t record_failure(std::string_view source, Instant now);
  // A success forgets the source's failures (a person who mistyped a token, then fixed it).
  void record_success(std::string_view source);
  const FailureThrottleConfig& config() const { return config_; }

 private:
  struct Window {
    Instant start{};
    std::size_t failures = 0;
  };
  FailureThrottleConfig config_;
  SourceTable<Window> windows_;
};

// Counts events per source over the last `window` (each event expires `window` after it
// happened), at most `max_per_source` remembered per source.
class SlidingWindowCount {
 public:
  SlidingWindowCount(Duration window, std::size_t max_per_source, std::size_t max_sources = 16384);
  // Events of `source` within the window ending at `now`.
  std::size_t count(std::string_view source, Instant now);
  void add(std::string_view source, Instant now);
  // When the oldest event of `source` in the window expires (the Retry-After of a refusal).
  Duration time_until_expiry(std::string_view source, Instant now);

 private:
  void expire(std::deque<Instant>& events, Instant now) const;
  Duration window_;
  std::size_t max_per_source_;
  SourceTable<std::deque<Instant>> events_;
};

class LogThrottle {
 public:
  explicit LogThrottle(Duration interval, std::size_t max_keys = 4096);
  // Counts one event under `key`. When a line is due (the first event, or `interval` after the
  // last line) returns how many events the line stands for (this one plus those held back
  // since); else nullopt.
  std::optional<std::uint64_t> record(std::string_view key, Instant now);

 private:
  struct State {
    std::optional<Instant> last_line;
    std::uint64_t held_back = 0;
  };
  Duration interval_;
  SourceTable<State> states_;
};

// Whole seconds for a Retry-After header: rounded up, at least 1.
std::int64_t retry_after_seconds(Duration wait);

}  // namespace ivs::engine
