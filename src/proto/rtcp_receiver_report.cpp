#include "proto/rtcp_receiver_report.hpp"

#include <algorithm>

#include "proto/rtcp_header.hpp"

namespace ivs::proto {

Result<RtcpReceiverReport> RtcpReceiverReport::parse(ByteSpan packet) {
  auto view = expect_rtcp_packet(packet, rtcp_type::kReceiverReport, -1, "RR");
  if (!view) {
    return view.error();
  }
  const ByteSpan body = view->body;
  if (body.size() < 4 + view->count * kRtcpReportBlockSize) {
    return rtcp_error("RR", "shorter than its SSRC and report blocks");
  }
  RtcpReceiverReport report;
  report.sender_ssrc = read_u32(body.data());
  report.report_blocks = read_report_blocks(body.subspan(4), view->count);
  auto rest = body.subspan(4 + view->count * kRtcpReportBlockSize);
  report.profile_extension.assign(rest.begin(), rest.end());
  return report;
}

void RtcpReceiverReport::append_to(Bytes& out) const {
  const std::size_t start = begin_rtcp_packet(out);
  append_u32(out, sender_ssrc);
  const std::size_t blocks = std::min(report_blocks.size(), kRtcpMaxReportBlocks);
  for (std::size_t i = 0; i < blocks; ++i) {
    report_blocks[i].append_to(out);
  }
  append_bytes(out, profile_extension);
  finish_rtcp_packet(out, start, static_cast<std::uint8_t>(blocks), rtcp_type::kReceiverReport);
}

Bytes RtcpReceiverReport::serialize() const {
  Bytes out;
  append_to(out);
  return out;
}

}  // namespace ivs::proto
