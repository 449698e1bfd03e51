#include "proto/rtcp_sender_report.hpp"

#include <algorithm>

#include "proto/rtcp_header.hpp"

namespace ivs::proto {

namespace {
constexpr std::size_t kSenderInfoSize = 24;  // SSRC + NTP + RTP ts + counts
}

Result<RtcpSenderReport> RtcpSenderReport::parse(ByteSpan packet) {
  auto view = expect_rtcp_packet(packet, rtcp_type::kSenderReport, -1, "SR");
  if (!view) {
    return view.error();
  }
  const ByteSpan body = view->body;
  if (body.size() < kSenderInfoSize + view->count * kRtcpReportBlockSize) {
    return rtcp_error("SR", "shorter than its sender info and report blocks");
  }
  RtcpSenderReport report;
  report.sender_ssrc = read_u32(body.data());
  report.ntp_timestamp = read_u64(body.data() + 4);
  report.rtp_timestamp = read_u32(body.data() + 12);
  report.packet_count = read_u32(body.data() + 16);
  report.octet_count = read_u32(body.data() + 20);
  report.report_blocks = read_report_blocks(body.subspan(kSenderInfoSize), view->count);
  auto rest = body.subspan(kSenderInfoSize + view->count * kRtcpReportBlockSize);
  report.profile_extension.assign(rest.begin(), rest.end());
  return report;
}

void RtcpSenderReport::append_to(Bytes& out) const {
  const std::size_t start = begin_rtcp_packet(out);
  append_u32(out, sender_ssrc);
  append_u32(out, static_cast<std::uint32_t>(ntp_timestamp >> 32));
  append_u32(out, static_cast<std::uint32_t>(ntp_timestamp));
  append_u32(out, rtp_timestamp);
  append_u32(out, packet_count);
  append_u32(out, octet_count);
  const std::size_t blocks = std::min(report_blocks.size(), kRtcpMaxReportBlocks);
  for (std::size_t i = 0; i < blocks; ++i) {
    report_blocks[i].append_to(out);
  }
  append_bytes(out, profile_extension);
  finish_rtcp_packet(out, start, static_cast<std::uint8_t>(blocks), rtcp_type::kSenderReport);
}

Bytes RtcpSenderReport::serialize() const {
  Bytes out;
  append_to(out);
  return out;
}

}  // namespace ivs::proto
