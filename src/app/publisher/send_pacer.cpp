#include "app/publisher/send_pacer.hpp"

#include <algorithm>
#include <chrono>

namespace ivs::app {

SendPacer::SendPacer(int rate_kbps, std::size_t burst_bytes)
    : bytes_per_second_(std::max(rate_kbps, 0) * 1000.0 / 8.0) {
  // 5 ms at the pacing rate, but at least one full-size packet so pacing never stalls.
  burst_bytes_ = burst_bytes > 0 ? static_cast<double>(burst_bytes)
                                 : std::max(bytes_per_second_ * 0.005, 1500.0);
  budget_ = burst_bytes_;
}

void SendPacer::push(Bytes packet) {
  queue_.push_back(std::move(packet));
}

void SendPacer::refill(Instant now) {
  if (refilled_at_) {
    const double elapsed = std::chrono::duration<double>(now - *refilled_at_).count();
    budget_ = std::min(burst_bytes_, budget_ + std::max(elapsed, 0.0) * bytes_per_second_);
  }
  refilled_at_ = now;
}

std::vector<Bytes> SendPacer::pop_ready(Instant now) {
  std::vector<Bytes> ready;
  if (!enabled()) {
    ready.assign(std::make_move_iterator(queue_.begin()), std::make_move_iterator(queue_.end()));
    queue_.clear();
    return ready;
  }
  refill(now);
  // A packet may leave while the budget is positive, taking it below zero: the debt is paid
  // before the next one, so the average rate holds without splitting packets. A source faster
  // than the pacing rate (a user's file above it) must not queue without bound: past kMaxQueued
  // packets the oldest go out regardless of the budget.
  while (!queue_.empty() && (budget_ > 0 || queue_.size() > kMaxQueued)) {
    budget_ -= static_cast<double>(queue_.front().size());
    ready.push_back(std::move(queue_.front()));
    queue_.pop_front();
  }
  return ready;
}

std::optional<Instant> SendPacer::next_wake(Instant now) const {
  if (queue_.empty()) {
    return std::nullopt;
  }
  if (!enabled() || budget_ > 0) {
    return now;
  }
  // Time for the budget to climb back above zero (plus a microsecond so it is strictly > 0).
  const double seconds = -budget_ / bytes_per_second_ + 1e-6;
  return now + std::chrono::duration_cast<Duration>(std::chrono::duration<double>(seconds));
}

}  // namespace ivs::app
