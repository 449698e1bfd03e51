#include "proto/rtcp_fir.hpp"

#include "proto/rtcp_header.hpp"

namespace ivs::proto {

Result<RtcpFir> RtcpFir::parse(ByteSpan packet) {
  auto view = expect_rtcp_packet(packet, rtcp_type::kPayloadFeedback, rtcp_fmt::kFir, "FIR");
  if (!view) {
    return view.error();
  }
  const ByteSpan body = view->body;
  if (body.size() < kRtcpFeedbackHeaderSize + 8 ||
      (body.size() - kRtcpFeedbackHeaderSize) % 8 != 0) {
    return rtcp_error("FIR", "body is not two SSRCs plus whole 8-byte entries");
  }
  RtcpFir fir;
  fir.sender_ssrc = read_u32(body.data());
  fir.media_ssrc = read_u32(body.data() + 4);
  for (std::size_t at = kRtcpFeedbackHeaderSize; at < body.size(); at += 8) {
    fir.entries.push_back({read_u32(body.data() + at), body[at + 4]});
  }
  return fir;
}

void RtcpFir::append_to(Bytes& out) const {
  const std::size_t start = begin_rtcp_feedback(out, {sender_ssrc, media_ssrc});
  for (const auto& entry : entries) {
    append_u32(out, entry.ssrc);
    append_u8(out, entry.sequence_number);
    append_u8(out, 0);
    append_u16(out, 0);
  }
  finish_rtcp_packet(out, start, rtcp_fmt::kFir, rtcp_type::kPayloadFeedback);
}

Bytes RtcpFir::serialize() const {
  Bytes out;
  append_to(out);
  return out;
}

}  // namespace ivs::proto
