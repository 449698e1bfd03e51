#include "proto/rtcp_pli.hpp"

#include "proto/rtcp_header.hpp"

namespace ivs::proto {

Result<RtcpPli> RtcpPli::parse(ByteSpan packet) {
  auto view = expect_rtcp_packet(packet, rtcp_type::kPayloadFeedback, rtcp_fmt::kPli, "PLI");
  if (!view) {
    return view.error();
  }
  // Extra FCI bytes are tolerated: RFC 4585 defines none, and ignoring them costs nothing.
  if (view->body.size() < kRtcpFeedbackHeaderSize) {
    return rtcp_error("PLI", "shorter than the two SSRCs");
  }
  return RtcpPli{read_u32(view->body.data()), read_u32(view->body.data() + 4)};
}

void RtcpPli::append_to(Bytes& out) const {
  const std::size_t start = begin_rtcp_feedback(out, {sender_ssrc, media_ssrc});
  finish_rtcp_packet(out, start, rtcp_fmt::kPli, rtcp_type::kPayloadFeedback);
}

Bytes RtcpPli::serialize() const {
  Bytes out;
  append_to(out);
  return out;
}

}  // namespace ivs::proto
