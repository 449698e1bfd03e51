#include "engine/srtp_openssl_replay.hpp"

#include <algorithm>

namespace ivs::engine::srtp_detail {
namespace {

constexpr std::int32_t kSequenceMedian = 1 << 15;
constexpr std::int32_t kSequenceSpan = 1 << 16;

// RFC 3711 Appendix A, in libsrtp's integer arithmetic (srtp_index_guess).
IndexEstimate guess_index(std::uint64_t highest, std::uint16_t sequence) {
  const auto local_roc = static_cast<std::uint32_t>(highest >> 16);
  const auto local_sequence = static_cast<std::int32_t>(highest & 0xffff);
  const auto s = static_cast<std::int32_t>(sequence);
  std::uint32_t roc = local_roc;
  std::int32_t delta = s - local_sequence;
  if (local_sequence < kSequenceMedian) {
    if (s - local_sequence > kSequenceMedian) {
      roc = local_roc - 1;
      delta = s - local_sequence - kSequenceSpan;
    }
  } else if (local_sequence - kSequenceMedian > s) {
    roc = local_roc + 1;
    delta = s - local_sequence + kSequenceSpan;
  }
  return {(std::uint64_t{roc} << 16) | sequence, delta};
}

// The smallest power of two of at least `bits` bits, and at least one 64-bit word.
std::size_t ring_bits_for(std::size_t bits) {
  std::size_t ring = 64;
  while (ring < bits) {
    ring *= 2;
  }
  return ring;
}

}  // namespace

RtpReplayWindow::RtpReplayWindow(std::size_t window_size)
    : size_((window_size + 31) / 32 * 32),
      ring_mask_(ring_bits_for(size_) - 1),
      bits_((ring_mask_ + 1) / 64, 0) {}

IndexEstimate RtpReplayWindow::estimate(std::uint16_t sequence) const {
  // Until the highest index passes 2^15 the ROC is taken to be 0: Appendix A's guess would
  // otherwise wrap "ROC - 1" to 2^32 - 1 for early packets that arrive out of order.
  if (highest_ > static_cast<std::uint64_t>(kSequenceMedian)) {
    return guess_index(highest_, sequence);
  }
  return {sequence, static_cast<std::int32_t>(sequence) - static_cast<std::int32_t>(highest_)};
}

ReplayCheck RtpReplayWindow::check(std::int32_t delta) const {
  if (delta > 0) {
    return ReplayCheck::kNew;
  }
  const auto behind = static_cast<std::size_t>(-static_cast<std::int64_t>(delta));
  if (behind >= size_) {
    return ReplayCheck::kTooOld;
  }
  return bit(position(behind)) ? ReplayCheck::kReplayed : ReplayCheck::kNew;
}

void RtpReplayWindow::add(std::int32_t delta) {
  if (delta > 0) {
    advance(static_cast<std::size_t>(delta));
    set_bit(position(0));
    return;
  }
  const auto behind = static_cast<std::size_t>(-static_cast<std::int64_t>(delta));
  if (behind < size_) {
    set_bit(position(behind));
  }
}

void RtpReplayWindow::advance(std::size_t count) {
  if (count > ring_mask_) {
    std::fill(bits_.begin(), bits_.end(), 0);
  } else {
    for (std::size_t step = 1; step <= count; ++step) {
      clear_bit((highest_ + step) & ring_mask_);
    }
  }
  highest_ += count;
}

ReplayCheck RtcpReplayWindow::check(std::uint32_t index) const {
  if (index >= window_start_ + kSize) {
    return ReplayCheck::kNew;
  }
  if (index < window_start_) {
    return ReplayCheck::kTooOld;
  }
  return bit(index - window_start_) ? ReplayCheck::kReplayed : ReplayCheck::kNew;
}

void RtcpReplayWindow::add(std::uint32_t index) {
  if (index < window_start_) {
    return;
  }
  std::uint32_t delta = index - window_start_;
  if (delta >= kSize) {
    // Slide the window so that `index` becomes its last slot: bit k moves to k - delta.
    delta -= kSize - 1;
    if (delta >= kSize) {
      bits_[0] = bits_[1] = 0;
    } else if (delta >= 64) {
      bits_[0] = bits_[1] >> (delta - 64);
      bits_[1] = 0;
    } else if (delta > 0) {
      bits_[0] = (bits_[0] >> delta) | (bits_[1] << (64 - delta));
      bits_[1] >>= delta;
    }
    window_start_ += delta;
    bits_[1] |= std::uint64_t{1} << 63;
    return;
  }
  bits_[delta / 64] |= std::uint64_t{1} << (delta % 64);
}

std::optional<std::uint32_t> RtcpReplayWindow::next_outbound() {
  if (window_start_ >= kMaxIndex) {
    return std::nullopt;
  }
  return ++window_start_;
}

}  // namespace ivs::engine::srtp_detail
