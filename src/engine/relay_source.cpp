#include "engine/relay_source.hpp"

#include <algorithm>
#include <cmath>

namespace ivs::engine {

void RelayInboundStream::reset(std::uint32_t ssrc, std::uint32_t clock_rate) {
  *this = RelayInboundStream{};
  active_ = true;
  ssrc_ = ssrc;
  clock_rate_ = clock_rate == 0 ? 90000 : clock_rate;
}

RelayInboundStream::Received RelayInboundStream::on_packet(Instant now,
                                                           std::uint16_t sequence_number,
                                                           std::uint32_t timestamp) {
  Received result;
  const bool first = !unwrapper_.last().has_value();
  // peek, not unwrap: a late packet must not move the reference point backwards.
  const std::int64_t extended = unwrapper_.peek(sequence_number);
  result.extended = extended;
  if (first) {
    unwrapper_.unwrap(sequence_number);
    base_ = extended;
    highest_ = extended;
  } else if (extended > highest_) {
    unwrapper_.unwrap(sequence_number);
    result.gap_first = highest_ + 1;
    result.gap_count = extended - highest_ - 1;
    highest_ = extended;
  } else {
    result.arrival = extended == highest_ ? Arrival::kDuplicate : Arrival::kLate;
    base_ = std::min(base_, extended);
  }
  ++received_;

  // RFC 3550 §A.8: jitter from the change in transit time, both in timestamp units.
  const std::int64_t arrival =
      to_micros(now.time_since_epoch()) * static_cast<std::int64_t>(clock_rate_) / 1000000;
  const std::int64_t transit =
      static_cast<std::int32_t>(static_cast<std::uint32_t>(arrival) - timestamp);
  if (last_transit_ && result.arrival == Arrival::kInOrder) {
    const double d = std::abs(static_cast<double>(
        static_cast<std::int32_t>(static_cast<std::uint32_t>(transit - *last_transit_))));
    jitter_ += (d - jitter_) / 16.0;
  }
  if (result.arrival == Arrival::kInOrder) {
    last_transit_ = transit;
  }
  return result;
}

void RelayInboundStream::on_sender_report(Instant now, std::uint64_t ntp_timestamp) {
  last_sr_middle_ = static_cast<std::uint32_t>(ntp_timestamp >> 16);
  last_sr_at_ = now;
}

std::int64_t RelayInboundStream::expected() const {
  return unwrapper_.last() ? highest_ - base_ + 1 : 0;
}

proto::RtcpReportBlock RelayInboundStream::make_report_block(Instant now) {
  proto::RtcpReportBlock block;
  block.ssrc = ssrc_;
  const std::int64_t expected_now = expected();
  // RFC 3550 §A.3: fraction of the interval's expected packets that did not arrive.
  const std::int64_t expected_interval = expected_now - expected_prior_;
  const std::int64_t received_interval = received_ - received_prior_;
  const std::int64_t lost_interval = expected_interval - received_interval;
  expected_prior_ = expected_now;
  received_prior_ = received_;
  if (expected_interval > 0 && lost_interval > 0) {
    block.fraction_lost = static_cast<std::uint8_t>(
        std::min<std::int64_t>(255, (lost_interval << 8) / expected_interval));
  }
  const std::int64_t lost = expected_now - received_;
  block.cumulative_lost =
      static_cast<std::int32_t>(std::clamp<std::int64_t>(lost, -0x800000, 0x7FFFFF));
  block.extended_highest_sequence = static_cast<std::uint32_t>(highest_);
  block.jitter = static_cast<std::uint32_t>(jitter_);
  if (last_sr_at_) {
    block.last_sender_report = last_sr_middle_;
    const std::int64_t delay_micros = to_micros(now - *last_sr_at_);
    block.delay_since_last_sender_report =
        static_cast<std::uint32_t>(std::max<std::int64_t>(0, delay_micros) * 65536 / 1000000);
  }
  return block;
}

std::uint64_t NackTracker::add_gap(Instant now, std::int64_t first, std::int64_t count) {
  if (count <= 0) {
    return 0;
  }
  if (count > kMaxNackGap) {
    return static_cast<std::uint64_t>(count);
  }
  std::uint64_t lost = 0;
  for (std::int64_t sequence = first; sequence < first + count; ++sequence) {
    pending_.emplace(sequence, Entry{now, now, 0});
  }
  // Keep the list bounded: the oldest entries are the least likely to be repaired.
  while (pending_.size() > kMaxNackPending) {
    pending_.erase(pending_.begin());
    ++lost;
  }
  return lost;
}

bool NackTracker::fill(std::int64_t extended) {
  return pending_.erase(extended) > 0;
}

std::uint64_t NackTracker::collect_due(Instant now, std::vector<std::uint16_t>& due) {
  std::uint64_t given_up = 0;
  for (auto it = pending_.begin(); it != pending_.end();) {
    Entry& entry = it->second;
    if (now - entry.first_missed_at >= kNackGiveUpAge ||
        (entry.attempts >= kNackMaxAttempts && now >= entry.next_attempt_at)) {
      it = pending_.erase(it);
      ++given_up;
      continue;
    }
    if (now >= entry.next_attempt_at && entry.attempts < kNackMaxAttempts) {
      due.push_back(static_cast<std::uint16_t>(it->first));
      ++entry.attempts;
      entry.next_attempt_at = now + kNackRetryInterval;
    }
    ++it;
  }
  return given_up;
}

std::optional<Instant> NackTracker::next_deadline() const {
  std::optional<Instant> earliest;
  for (const auto& [sequence, entry] : pending_) {
    const Instant give_up = entry.first_missed_at + kNackGiveUpAge;
    const Instant deadline = std::min(entry.next_attempt_at, give_up);
    if (!earliest || deadline < *earliest) {
      earliest = deadline;
    }
  }
  return earliest;
}

bool KeyframeRequestLimiter::request(Instant now) {
  if (!last_sent_ || now - *last_sent_ >= interval_) {
    pending_ = false;
    return true;
  }
  pending_ = true;
  return false;
}

bool KeyframeRequestLimiter::take_due(Instant now) {
  if (pending_ && (!last_sent_ || now - *last_sent_ >= interval_)) {
    pending_ = false;
    return true;
  }
  return false;
}

std::optional<Instant> KeyframeRequestLimiter::next_deadline() const {
  if (!pending_) {
    return std::nullopt;
  }
  return last_sent_ ? *last_sent_ + interval_ : Instant{};
}

}  // namespace ivs::engine
