// When an edge asks its origin again (pull_retry_delay): Retry-After is followed, a pull that was
// up is retried at once, and failures back off within the policy.
#include "app/ingest/ingest_pull.hpp"

#include <gtest/gtest.h>

namespace ivs::app {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

// The story: with the origin killed and the broadcaster back on a replacement at once, the
// edges' stages had the new publisher's keyframe 2.2 s after it started (target 2 s): after a
// pull that had been up ended, the edge still waited a first backoff step (up to 250 ms) on top
// of the silence that ended it. A pull that was up is now retried with no wait.
TEST(PullRetryDelay, APullThatWasUpIsRetriedAtOnce) {
  engine::Backoff backoff(IngestPull::kDefaultBackoff);
  engine::SeededRandom random(7);
  EXPECT_EQ(pull_retry_delay(true, std::nullopt, backoff, random), Duration::zero());
  EXPECT_EQ(backoff.failures(), 0u);  // and it does not count as a failure
}

TEST(PullRetryDelay, RetryAfterIsFollowedWhateverCameBefore) {
  engine::Backoff backoff(IngestPull::kDefaultBackoff);
  engine::SeededRandom random(7);
  EXPECT_EQ(pull_retry_delay(false, seconds(1), backoff, random), Duration(seconds(1)));
  EXPECT_EQ(pull_retry_delay(true, seconds(3), backoff, random), Duration(seconds(3)));
}

TEST(PullRetryDelay, FailuresBackOffUpToTwoSeconds) {
  engine::Backoff backoff(IngestPull::kDefaultBackoff);
  engine::SeededRandom random(7);
  for (int i = 0; i < 20; ++i) {
    const Duration delay = pull_retry_delay(false, std::nullopt, backoff, random);
    EXPECT_GE(delay, Duration::zero());
    EXPECT_LE(delay, Duration(seconds(2)));
  }
  EXPECT_EQ(backoff.failures(), 20u);
  EXPECT_EQ(backoff.current_ceiling(), Duration(seconds(2)));
  EXPECT_LE(pull_retry_delay(false, std::nullopt, backoff, random), Duration(milliseconds(2000)));
}

}  // namespace
}  // namespace ivs::app
