#include "proto/rtcp_nack.hpp"

#include "proto/rtcp_header.hpp"

namespace ivs::proto {

RtcpNack RtcpNack::from_sequence_numbers(std::uint32_t sender_ssrc, std::uint32_t media_ssrc,
                                         std::span<const std::uint16_t> lost) {
  RtcpNack nack{sender_ssrc, media_ssrc, {}};
  for (std::uint16_t sequence : lost) {
    if (!nack.items.empty()) {
      RtcpNackItem& last = nack.items.back();
      const auto offset = static_cast<std::uint16_t>(sequence - last.packet_id);
      if (offset == 0) {
        continue;
      }
      if (offset <= 16) {
        last.lost_bitmask = static_cast<std::uint16_t>(last.lost_bitmask | (1u << (offset - 1)));
        continue;
      }
    }
    nack.items.push_back({sequence, 0});
  }
  return nack;
}

std::vector<std::uint16_t> RtcpNack::sequence_numbers() const {
  std::vector<std::uint16_t> sequences;
  for (const auto& item : items) {
    sequences.push_back(item.packet_id);
    for (unsigned bit = 0; bit < 16; ++bit) {
      if (item.lost_bitmask & (1u << bit)) {
        sequences.push_back(static_cast<std::uint16_t>(item.packet_id + bit + 1));
      }
    }
  }
  return sequences;
}

Result<RtcpNack> RtcpNack::parse(ByteSpan packet) {
  auto view = expect_rtcp_packet(packet, rtcp_type::kTransportFeedback, rtcp_fmt::kNack, "NACK");
  if (!view) {
    return view.error();
  }
  const ByteSpan body = view->body;
  if (body.size() < kRtcpFeedbackHeaderSize + 4 || body.size() % 4 != 0) {
    return rtcp_error("NACK", "body is not two SSRCs plus whole PID/BLP items");
  }
  RtcpNack nack;
  nack.sender_ssrc = read_u32(body.data());
  nack.media_ssrc = read_u32(body.data() + 4);
  for (std::size_t at = kRtcpFeedbackHeaderSize; at < body.size(); at += 4) {
    nack.items.push_back({read_u16(body.data() + at), read_u16(body.data() + at + 2)});
  }
  return nack;
}

void RtcpNack::append_to(Bytes& out) const {
  const std::size_t start = begin_rtcp_feedback(out, {sender_ssrc, media_ssrc});
  for (const auto& item : items) {
    append_u16(out, item.packet_id);
    append_u16(out, item.lost_bitmask);
  }
  finish_rtcp_packet(out, start, rtcp_fmt::kNack, rtcp_type::kTransportFeedback);
}

Bytes RtcpNack::serialize() const {
  Bytes out;
  append_to(out);
  return out;
}

}  // namespace ivs::proto
