#include "proto/rtcp_twcc.hpp"

#include <algorithm>

#include "proto/rtcp_header.hpp"

namespace ivs::proto {
namespace {

constexpr std::size_t kFixedFieldsSize = kRtcpFeedbackHeaderSize + 8;
constexpr std::size_t kMaxRunLength = 0x1FFF;
constexpr std::size_t kMaxPackets = 0xFFFF;

// Decodes one chunk into statuses, stopping once `count` statuses exist in total. Returns false
// on the reserved symbol.
bool decode_chunk(std::uint16_t chunk, std::size_t count, std::vector<TwccPacketStatus>& out) {
  const auto push = [&](unsigned symbol) {
    if (symbol == 3) {
      return false;
    }
    if (out.size() < count) {
      out.push_back({static_cast<TwccStatus>(symbol), 0});
    }
    return true;
  };
  if ((chunk & 0x8000) == 0) {
    const unsigned symbol = (chunk >> 13) & 0x3;
    const std::size_t run = chunk & kMaxRunLength;
    if (symbol == 3) {
      return false;
    }
    out.resize(std::min(count, out.size() + run), {static_cast<TwccStatus>(symbol), 0});
    return true;
  }
  if ((chunk & 0x4000) == 0) {
    for (int bit = 13; bit >= 0; --bit) {
      push((chunk >> bit) & 0x1);
    }
    return true;
  }
  for (int shift = 12; shift >= 0; shift -= 2) {
    if (!push((chunk >> shift) & 0x3)) {
      return false;
    }
  }
  return true;
}

std::int32_t clamp_delta(const TwccPacketStatus& packet) {
  if (packet.status == TwccStatus::kSmallDelta) {
    return std::clamp(packet.delta_ticks, 0, 255);
  }
  return std::clamp(packet.delta_ticks, -32768, 32767);
}

// Length of the run of identical statuses starting at `begin`, capped at the run-length limit.
std::size_t run_length(const std::vector<TwccPacketStatus>& packets, std::size_t begin,
                       std::size_t end) {
  std::size_t at = begin;
  while (at < end && at - begin < kMaxRunLength && packets[at].status == packets[begin].status) {
    ++at;
  }
  return at - begin;
}

// Appends the chunk that best covers packets[begin..end) and returns how many it covers: a run
// when at least 7 statuses repeat (a vector could not do better), else a 1-bit vector of 14
// when no large delta is among them, else a 2-bit vector of 7.
std::size_t append_chunk(Bytes& out, const std::vector<TwccPacketStatus>& packets,
                         std::size_t begin, std::size_t end) {
  const std::size_t run = run_length(packets, begin, end);
  if (run >= 7 || run == end - begin) {
    append_u16(out, static_cast<std::uint16_t>(
                        (static_cast<unsigned>(packets[begin].status) << 13) | run));
    return run;
  }
  const std::size_t wide_end = std::min(end, begin + 14);
  const bool one_bit =
      std::none_of(packets.begin() + begin, packets.begin() + wide_end,
                   [](const auto& p) { return p.status == TwccStatus::kLargeDelta; });
  const std::size_t covered = std::min(end - begin, one_bit ? std::size_t{14} : std::size_t{7});
  std::uint16_t chunk = one_bit ? 0x8000 : 0xC000;
  for (std::size_t i = 0; i < covered; ++i) {
    const auto symbol = static_cast<unsigned>(packets[begin + i].status);
    chunk |= one_bit ? static_cast<std::uint16_t>(symbol << (13 - i))
                     : static_cast<std::uint16_t>(symbol << (12 - 2 * i));
  }
  append_u16(out, chunk);
  return covered;
}

}  // namespace

void RtcpTransportFeedback::add_received(std::int32_t delta_ticks) {
  const std::int32_t clamped = std::clamp(delta_ticks, -32768, 32767);
  packets.push_back({status_for_delta(clamped), clamped});
}

Result<RtcpTransportFeedback> RtcpTransportFeedback::parse(ByteSpan packet) {
  auto view = expect_rtcp_packet(packet, rtcp_type::kTransportFeedback, rtcp_fmt::kTransportWideCc,
                                 "transport-cc");
  if (!view) {
    return view.error();
  }
  const ByteSpan body = view->body;
  if (body.size() < kFixedFieldsSize) {
    return rtcp_error("transport-cc", "shorter than its fixed fields");
  }
  RtcpTransportFeedback feedback;
  feedback.sender_ssrc = read_u32(body.data());
  feedback.media_ssrc = read_u32(body.data() + 4);
  feedback.base_sequence = read_u16(body.data() + 8);
  const std::size_t count = read_u16(body.data() + 10);
  const std::uint32_t reference = read_u24(body.data() + 12);
  feedback.reference_time =
      static_cast<std::int32_t>((reference & 0x800000) ? (reference | 0xFF000000u) : reference);
  feedback.feedback_count = body[15];

  std::size_t at = kFixedFieldsSize;
  feedback.packets.reserve(std::min<std::size_t>(count, body.size() * 7));
  while (feedback.packets.size() < count) {
    if (at + 2 > body.size()) {
      return rtcp_error("transport-cc", "packet chunks run past the end");
    }
    if (!decode_chunk(read_u16(body.data() + at), count, feedback.packets)) {
      return rtcp_error("transport-cc", "reserved status symbol");
    }
    at += 2;
  }
  for (auto& status : feedback.packets) {
    if (status.status == TwccStatus::kSmallDelta) {
      if (at + 1 > body.size()) {
        return rtcp_error("transport-cc", "receive deltas run past the end");
      }
      status.delta_ticks = body[at];
      at += 1;
    } else if (status.status == TwccStatus::kLargeDelta) {
      if (at + 2 > body.size()) {
        return rtcp_error("transport-cc", "receive deltas run past the end");
      }
      status.delta_ticks = static_cast<std::int16_t>(read_u16(body.data() + at));
      at += 2;
    }
  }
  return feedback;
}

void RtcpTransportFeedback::append_to(Bytes& out) const {
  const std::size_t start = begin_rtcp_feedback(out, {sender_ssrc, media_ssrc});
  const std::size_t count = std::min(packets.size(), kMaxPackets);
  append_u16(out, base_sequence);
  append_u16(out, static_cast<std::uint16_t>(count));
  const auto reference = static_cast<std::uint32_t>(reference_time) & 0xFFFFFF;
  append_u8(out, static_cast<std::uint8_t>(reference >> 16));
  append_u16(out, static_cast<std::uint16_t>(reference));
  append_u8(out, feedback_count);
  for (std::size_t at = 0; at < count;) {
    at += append_chunk(out, packets, at, count);
  }
  for (std::size_t i = 0; i < count; ++i) {
    const auto& packet = packets[i];
    if (packet.status == TwccStatus::kSmallDelta) {
      append_u8(out, static_cast<std::uint8_t>(clamp_delta(packet)));
    } else if (packet.status == TwccStatus::kLargeDelta) {
      append_u16(out, static_cast<std::uint16_t>(static_cast<std::int16_t>(clamp_delta(packet))));
    }
  }
  // libwebrtc pads transport-cc with the P bit and a count byte; receivers expect that form.
  finish_rtcp_packet(out, start, rtcp_fmt::kTransportWideCc, rtcp_type::kTransportFeedback,
                     /*padding_bit=*/true);
}

Bytes RtcpTransportFeedback::serialize() const {
  Bytes out;
  append_to(out);
  return out;
}

}  // namespace ivs::proto
