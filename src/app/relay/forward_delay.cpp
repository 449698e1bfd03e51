#include "app/relay/forward_delay.hpp"

#include <algorithm>
#include <chrono>

namespace ivs::app {

namespace {
// A turn never holds more than a few receive batches of packets; beyond this the arrivals are
// dropped from the measurement rather than growing the vector without bound.
constexpr std::size_t kMaxPendingPerTurn = 4096;
}  // namespace

void ForwardDelayHistogram::observe(Duration delay) {
  const double seconds = std::max(0.0, std::chrono::duration<double>(delay).count());
  const auto bucket = static_cast<std::size_t>(
      std::lower_bound(kUpperBounds.begin(), kUpperBounds.end(), seconds) - kUpperBounds.begin());
  ++counts_[bucket];
  sum_seconds_ += seconds;
  ++count_;
}

void ForwardDelayHistogram::merge(const ForwardDelayHistogram& other) {
  for (std::size_t i = 0; i < counts_.size(); ++i) {
    counts_[i] += other.counts_[i];
  }
  sum_seconds_ += other.sum_seconds_;
  count_ += other.count_;
}

ForwardDelayProbe::ForwardDelayProbe(std::function<void(std::function<void()>)> post,
                                     std::function<Instant()> clock)
    : post_(std::move(post)), clock_(std::move(clock)) {
  pending_.reserve(256);
}

void ForwardDelayProbe::forwarded(Instant arrival) {
  if (pending_.size() < kMaxPendingPerTurn) {
    pending_.push_back(arrival);
  }
  if (!posted_) {
    posted_ = true;
    post_([this] { close_turn(); });
  }
}

void ForwardDelayProbe::close_turn() {
  posted_ = false;
  const Instant sent = clock_();
  const std::lock_guard lock(mutex_);
  for (const Instant arrival : pending_) {
    histogram_.observe(sent - arrival);
  }
  pending_.clear();
}

ForwardDelayHistogram ForwardDelayProbe::histogram() const {
  const std::lock_guard lock(mutex_);
  return histogram_;
}

}  // namespace ivs::app
