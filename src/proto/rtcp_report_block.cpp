#include "proto/rtcp_report_block.hpp"

namespace ivs::proto {

RtcpReportBlock RtcpReportBlock::read(const std::uint8_t* data) {
  RtcpReportBlock block;
  block.ssrc = read_u32(data);
  block.fraction_lost = data[4];
  // Sign-extend the 24-bit field.
  const std::uint32_t lost = read_u24(data + 5);
  block.cumulative_lost =
      static_cast<std::int32_t>((lost & 0x800000) ? (lost | 0xFF000000u) : lost);
  block.extended_highest_sequence = read_u32(data + 8);
  block.jitter = read_u32(data + 12);
  block.last_sender_report = read_u32(data + 16);
  block.delay_since_last_sender_report = read_u32(data + 20);
  return block;
}

void RtcpReportBlock::append_to(Bytes& out) const {
  append_u32(out, ssrc);
  append_u8(out, fraction_lost);
  const auto lost = static_cast<std::uint32_t>(cumulative_lost) & 0xFFFFFF;
  append_u8(out, static_cast<std::uint8_t>(lost >> 16));
  append_u16(out, static_cast<std::uint16_t>(lost));
  append_u32(out, extended_highest_sequence);
  append_u32(out, jitter);
  append_u32(out, last_sender_report);
  append_u32(out, delay_since_last_sender_report);
}

std::vector<RtcpReportBlock> read_report_blocks(ByteSpan bytes, std::size_t count) {
  std::vector<RtcpReportBlock> blocks;
  blocks.reserve(count);
  for (std::size_t i = 0; i < count; ++i) {
    blocks.push_back(RtcpReportBlock::read(bytes.data() + i * kRtcpReportBlockSize));
  }
  return blocks;
}

}  // namespace ivs::proto
