#include "engine/transport_feedback.hpp"

#include <algorithm>

namespace ivs::engine {
namespace {

constexpr std::int64_t kTicksPerReference =
    proto::kTwccReferenceTimeMicros / proto::kTwccDeltaTickMicros;  // 256
constexpr std::int64_t kMaxStatuses = 0xFFFF;
constexpr std::int64_t kMinDelta = -32768;
constexpr std::int64_t kMaxDelta = 32767;
// Header (4) + SSRCs (8) + base, count, reference time and feedback count (8).
constexpr std::size_t kFixedBytes = 20;

std::int64_t floor_div(std::int64_t value, std::int64_t divisor) {
  const std::int64_t quotient = value / divisor;
  return (value % divisor != 0 && value < 0) ? quotient - 1 : quotient;
}

// The reference time field is 24-bit signed and wraps (after ~149 hours); the receiver of the
// feedback unwraps it. Sign-extending keeps parse(serialize(x)) == x.
std::int32_t to_reference_field(std::int64_t reference) {
  const auto bits = static_cast<std::uint32_t>(reference) & 0xFFFFFFu;
  return static_cast<std::int32_t>((bits & 0x800000u) != 0 ? (bits | 0xFF000000u) : bits);
}

// An upper bound of the serialized size: the serializer never spends more than one 2-byte
// chunk per 7 statuses, plus the deltas and at most 3 bytes of padding.
std::size_t size_bound(std::size_t statuses, std::size_t delta_bytes) {
  return kFixedBytes + 2 * ((statuses + 6) / 7) + delta_bytes + 3;
}

}  // namespace

TransportFeedbackGenerator::TransportFeedbackGenerator(TransportFeedbackConfig config)
    : config_(config) {
  pending_.reserve(std::min<std::size_t>(config_.max_pending_packets, 1024));
}

std::int64_t TransportFeedbackGenerator::unwrap(std::uint16_t sequence) {
  if (!last_unwrapped_) {
    last_unwrapped_ = sequence;
    return sequence;
  }
  const auto step = static_cast<std::int16_t>(
      static_cast<std::uint16_t>(sequence - static_cast<std::uint16_t>(*last_unwrapped_)));
  const std::int64_t unwrapped = *last_unwrapped_ + step;
  last_unwrapped_ = std::max(*last_unwrapped_, unwrapped);
  return unwrapped;
}

void TransportFeedbackGenerator::on_packet(Instant arrival, std::uint16_t transport_sequence,
                                           std::uint32_t media_ssrc) {
  if (pending_.size() >= config_.max_pending_packets) {
    ++stats_.pending_overflow;
    return;
  }
  if (!origin_) {
    origin_ = arrival;
  }
  const auto micros =
      std::chrono::duration_cast<std::chrono::microseconds>(arrival - *origin_).count();
  pending_.push_back({unwrap(transport_sequence), floor_div(micros, proto::kTwccDeltaTickMicros)});
  media_ssrc_ = media_ssrc;
  ++stats_.packets_recorded;
  if (pending_.size() >= config_.early_send_packets) {
    // A burst: report now rather than let the sender wait a whole interval for news.
    if (!next_feedback_at_ || arrival < *next_feedback_at_) {
      next_feedback_at_ = arrival;
    }
  } else if (!next_feedback_at_) {
    next_feedback_at_ = last_feedback_at_ ? std::max(*last_feedback_at_ + config_.interval, arrival)
                                          : arrival + config_.interval;
  }
}

void TransportFeedbackGenerator::handle_timeout(Instant now) {
  if (!next_feedback_at_ || now < *next_feedback_at_) {
    return;
  }
  next_feedback_at_.reset();
  last_feedback_at_ = now;
  if (!pending_.empty()) {
    build_feedback();
  }
}

std::optional<proto::RtcpTransportFeedback> TransportFeedbackGenerator::poll_feedback() {
  if (ready_.empty()) {
    return std::nullopt;
  }
  proto::RtcpTransportFeedback next = std::move(ready_.front());
  ready_.pop_front();
  return next;
}

void TransportFeedbackGenerator::build_feedback() {
  // Reordered packets are reported in sequence order (their deltas come out negative); of a
  // duplicated number the first arrival counts.
  std::sort(pending_.begin(), pending_.end(), [](const Arrival& a, const Arrival& b) {
    return a.sequence != b.sequence ? a.sequence < b.sequence : a.tick < b.tick;
  });
  std::optional<std::int64_t> previous;
  for (const Arrival& arrival : pending_) {
    if (previous && arrival.sequence == *previous) {
      ++stats_.duplicates;
      continue;
    }
    previous = arrival.sequence;
    add_arrival(arrival);
  }
  finish();
  pending_.clear();
}

void TransportFeedbackGenerator::add_arrival(const Arrival& arrival) {
  const bool late = next_to_report_ && arrival.sequence < *next_to_report_;
  if (late) {
    ++stats_.late_packets;
    // Only contiguous late packets share a feedback: the numbers between them were reported
    // already, and reporting them again as lost would contradict the earlier feedback.
    const bool contiguous =
        open_ && open_->late &&
        arrival.sequence == open_->base + static_cast<std::int64_t>(open_->feedback.packets.size());
    if (!contiguous) {
      finish();
      start(arrival.sequence, true);
    }
  } else if (!open_ || open_->late) {
    finish();
    // Start at the first unreported number so losses before this packet are reported too.
    start(next_to_report_.value_or(arrival.sequence), false);
  }
  if (try_append(*open_, arrival)) {
    return;
  }
  finish();
  if (!late && next_to_report_) {
    // Split: the next feedback starts right after this one, so the numbers between are still
    // reported as lost, unless that gap alone exceeds what one feedback can hold.
    start(*next_to_report_, false);
    if (try_append(*open_, arrival)) {
      return;
    }
  }
  start(arrival.sequence, late);
  try_append(*open_, arrival);  // one received packet always fits a fresh feedback
}

bool TransportFeedbackGenerator::try_append(Open& open, const Arrival& arrival) {
  auto& packets = open.feedback.packets;
  const std::int64_t index = arrival.sequence - open.base;
  if (index < static_cast<std::int64_t>(packets.size()) || index + 1 > kMaxStatuses) {
    return false;
  }
  std::int64_t delta = 0;
  std::int64_t reference = 0;
  if (open.has_received) {
    delta = arrival.tick - open.last_tick;
    if (delta < kMinDelta || delta > kMaxDelta) {
      return false;  // needs a new reference time
    }
  } else {
    reference = floor_div(arrival.tick, kTicksPerReference);
    delta = arrival.tick - reference * kTicksPerReference;
  }
  const auto status = proto::RtcpTransportFeedback::status_for_delta(static_cast<int>(delta));
  const std::size_t delta_bytes =
      open.delta_bytes + (status == proto::TwccStatus::kSmallDelta ? 1 : 2);
  const auto statuses = static_cast<std::size_t>(index + 1);
  if (size_bound(statuses, delta_bytes) > config_.max_packet_bytes) {
    // The bound is loose for long runs of losses; serialize to know for sure.
    const std::size_t before = packets.size();
    packets.resize(statuses - 1);
    open.feedback.add_received(static_cast<std::int32_t>(delta));
    size_scratch_.clear();
    open.feedback.append_to(size_scratch_);
    packets.resize(before);
    if (size_scratch_.size() > config_.max_packet_bytes) {
      return false;
    }
  }
  packets.resize(statuses - 1);  // the gap, reported as not received
  open.feedback.add_received(static_cast<std::int32_t>(delta));
  if (!open.has_received) {
    open.feedback.reference_time = to_reference_field(reference);
    open.has_received = true;
  }
  open.last_tick = arrival.tick;
  open.delta_bytes = delta_bytes;
  return true;
}

void TransportFeedbackGenerator::start(std::int64_t base, bool late) {
  open_.emplace();
  open_->base = base;
  open_->late = late;
}

void TransportFeedbackGenerator::finish() {
  if (!open_) {
    return;
  }
  if (open_->has_received) {
    proto::RtcpTransportFeedback& feedback = open_->feedback;
    feedback.sender_ssrc = config_.sender_ssrc;
    feedback.media_ssrc = media_ssrc_;
    feedback.base_sequence = static_cast<std::uint16_t>(open_->base);
    feedback.feedback_count = feedback_count_++;
    if (!open_->late) {
      next_to_report_ = open_->base + static_cast<std::int64_t>(feedback.packets.size());
    }
    ready_.push_back(std::move(feedback));
    ++stats_.feedback_packets;
  }
  open_.reset();
}

}  // namespace ivs::engine
