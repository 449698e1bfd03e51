// Rate limiting, failure back-off and log throttling on a simulated clock (engine/rate_limit.hpp).
// Time only moves when a test adds to `now`; nothing sleeps.
#include "engine/rate_limit.hpp"

#include <gtest/gtest.h>

#include <string>

namespace ivs::engine {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

const Instant kStart = Instant{} + seconds(1000);

TEST(TokenBucket, AllowsTheBurstThenTheRate) {
  const TokenBucketConfig config{.rate_per_second = 10, .burst = 5};
  TokenBucket bucket(kStart, config);
  for (int i = 0; i < 5; ++i) {
    EXPECT_TRUE(bucket.try_take(kStart, config)) << i;
  }
  EXPECT_FALSE(bucket.try_take(kStart, config));
  EXPECT_EQ(bucket.time_until_token(kStart, config), milliseconds(100));
  EXPECT_FALSE(bucket.try_take(kStart + milliseconds(99), config));
  EXPECT_TRUE(bucket.try_take(kStart + milliseconds(100), config));
  // A long pause refills only up to the burst.
  const Instant later = kStart + seconds(60);
  for (int i = 0; i < 5; ++i) {
    EXPECT_TRUE(bucket.try_take(later, config)) << i;
  }
  EXPECT_FALSE(bucket.try_take(later, config));
}

TEST(TokenBucket, ZeroRateMeansUnlimited) {
  const TokenBucketConfig config{.rate_per_second = 0, .burst = 0};
  TokenBucket bucket(kStart, config);
  for (int i = 0; i < 1000; ++i) {
    ASSERT_TRUE(bucket.try_take(kStart, config));
  }
  EXPECT_EQ(bucket.time_until_token(kStart, config), Duration::zero());
}

TEST(RequestRateLimiter, LimitsEachSourceOnItsOwn) {
  RequestRateLimiter limiter({.rate_per_second = 1, .burst = 2});
  EXPECT_FALSE(limiter.admit("10.0.0.1", kStart));
  EXPECT_FALSE(limiter.admit("10.0.0.1", kStart));
  const auto wait = limiter.admit("10.0.0.1", kStart);
  ASSERT_TRUE(wait);
  EXPECT_EQ(*wait, seconds(1));
  // Another address is untouched by the first one's flood.
  EXPECT_FALSE(limiter.admit("10.0.0.2", kStart));
  EXPECT_FALSE(limiter.admit("10.0.0.1", kStart + seconds(1)));
}

TEST(RequestRateLimiter, AFloodOfAddressesKeepsTheTableBounded) {
  RequestRateLimiter limiter({.rate_per_second = 1, .burst = 1}, 100);
  for (int i = 0; i < 10000; ++i) {
    limiter.admit("10.1." + std::to_string(i / 256) + "." + std::to_string(i % 256), kStart);
  }
  EXPECT_EQ(limiter.tracked_sources(), 100u);
}

TEST(SourceTable, DropsTheLeastRecentlyTouched) {
  SourceTable<int> table(2);
  table.touch("a", [] { return 1; });
  table.touch("b", [] { return 2; });
  table.touch("a", [] { return 0; });  // a is now the most recent
  table.touch("c", [] { return 3; });  // b goes
  EXPECT_NE(table.find("a"), nullptr);
  EXPECT_EQ(table.find("b"), nullptr);
  ASSERT_NE(table.find("c"), nullptr);
  EXPECT_EQ(*table.find("c"), 3);
  EXPECT_EQ(*table.find("a"), 1);  // touch() does not re-make an existing entry
}

TEST(FailureThrottle, BlocksAfterMaxFailuresUntilTheWindowEnds) {
  FailureThrottle throttle({.max_failures = 3, .window = seconds(60)});
  EXPECT_FALSE(throttle.blocked_for("x", kStart));
  EXPECT_EQ(throttle.record_failure("x", kStart), 1u);
  EXPECT_EQ(throttle.record_failure("x", kStart + seconds(1)), 2u);
  EXPECT_FALSE(throttle.blocked_for("x", kStart + seconds(1)));
  EXPECT_EQ(throttle.record_failure("x", kStart + seconds(10)), 3u);
  const auto blocked = throttle.blocked_for("x", kStart + seconds(10));
  ASSERT_TRUE(blocked);
  EXPECT_EQ(*blocked, seconds(50));  // the window began at the first failure
  EXPECT_FALSE(throttle.blocked_for("y", kStart + seconds(10)));
  EXPECT_FALSE(throttle.blocked_for("x", kStart + seconds(60)));
  // A new window starts from zero.
  EXPECT_EQ(throttle.record_failure("x", kStart + seconds(61)), 1u);
}

TEST(FailureThrottle, SuccessForgetsTheFailures) {
  FailureThrottle throttle({.max_failures = 2, .window = seconds(60)});
  throttle.record_failure("x", kStart);
  throttle.record_success("x");
  throttle.record_failure("x", kStart);
  EXPECT_FALSE(throttle.blocked_for("x", kStart));
}

TEST(FailureThrottle, ZeroMaxFailuresNeverBlocks) {
  FailureThrottle throttle({.max_failures = 0, .window = seconds(60)});
  for (int i = 0; i < 100; ++i) {
    throttle.record_failure("x", kStart);
  }
  EXPECT_FALSE(throttle.blocked_for("x", kStart));
}

TEST(SlidingWindowCount, EventsExpireOneByOne) {
  SlidingWindowCount count(seconds(10), 8);
  count.add("a", kStart);
  count.add("a", kStart + seconds(4));
  EXPECT_EQ(count.count("a", kStart + seconds(5)), 2u);
  EXPECT_EQ(count.time_until_expiry("a", kStart + seconds(5)), seconds(5));
  EXPECT_EQ(count.count("a", kStart + seconds(10)), 1u);
  EXPECT_EQ(count.count("a", kStart + seconds(14)), 0u);
  EXPECT_EQ(count.count("b", kStart), 0u);
  EXPECT_EQ(count.time_until_expiry("b", kStart), Duration::zero());
}

TEST(SlidingWindowCount, RemembersAtMostMaxPerSource) {
  SlidingWindowCount count(seconds(10), 3);
  for (int i = 0; i < 10; ++i) {
    count.add("a", kStart);
  }
  EXPECT_EQ(count.count("a", kStart), 3u);
}

TEST(LogThrottle, OneLinePerIntervalCarryingTheCount) {
  LogThrottle throttle(seconds(10));
  EXPECT_EQ(throttle.record("k", kStart), 1u);
  for (int i = 0; i < 99; ++i) {
    EXPECT_FALSE(throttle.record("k", kStart + milliseconds(i)));
  }
  // Another key has its own interval.
  EXPECT_EQ(throttle.record("other", kStart), 1u);
  EXPECT_EQ(throttle.record("k", kStart + seconds(10)), 100u);
  EXPECT_FALSE(throttle.record("k", kStart + seconds(11)));
  EXPECT_EQ(throttle.record("k", kStart + seconds(25)), 2u);
}

TEST(RetryAfter, RoundsUpToWholeSecondsAndIsAtLeastOne) {
  EXPECT_EQ(retry_after_seconds(Duration::zero()), 1);
  EXPECT_EQ(retry_after_seconds(milliseconds(1)), 1);
  EXPECT_EQ(retry_after_seconds(milliseconds(1001)), 2);
  EXPECT_EQ(retry_after_seconds(seconds(50)), 50);
}

}  // namespace
}  // namespace ivs::engine
