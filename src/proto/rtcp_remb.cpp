#include "proto/rtcp_remb.hpp"

#include <algorithm>
#include <bit>
#include <limits>

#include "proto/rtcp_header.hpp"

namespace ivs::proto {
namespace {

constexpr std::uint32_t kIdentifier = 0x52454D42;  // "REMB"
constexpr std::uint32_t kMaxMantissa = (1u << 18) - 1;

}  // namespace

std::uint64_t RtcpRemb::bitrate_bps() const {
  if (mantissa == 0) {
    return 0;
  }
  const int bits = std::bit_width(mantissa);
  if (exponent + bits > 64) {
    return std::numeric_limits<std::uint64_t>::max();
  }
  return std::uint64_t{mantissa} << exponent;
}

void RtcpRemb::set_bitrate(std::uint64_t bits_per_second) {
  exponent = 0;
  while ((bits_per_second >> exponent) > kMaxMantissa) {
    ++exponent;
  }
  mantissa = static_cast<std::uint32_t>(bits_per_second >> exponent);
}

bool RtcpRemb::is_remb(ByteSpan packet) {
  return packet.size() >= 16 && read_u32(packet.data() + 12) == kIdentifier;
}

Result<RtcpRemb> RtcpRemb::parse(ByteSpan packet) {
  auto view =
      expect_rtcp_packet(packet, rtcp_type::kPayloadFeedback, rtcp_fmt::kApplicationLayer, "REMB");
  if (!view) {
    return view.error();
  }
  const ByteSpan body = view->body;
  if (body.size() < 16 || read_u32(body.data() + 8) != kIdentifier) {
    return rtcp_error("REMB", "missing the REMB identifier");
  }
  const std::size_t count = body[12];
  if (body.size() < 16 + 4 * count) {
    return rtcp_error("REMB", "SSRC list runs past the end");
  }
  RtcpRemb remb;
  remb.sender_ssrc = read_u32(body.data());
  remb.media_ssrc = read_u32(body.data() + 4);
  remb.exponent = body[13] >> 2;
  remb.mantissa = read_u24(body.data() + 13) & kMaxMantissa;
  for (std::size_t i = 0; i < count; ++i) {
    remb.ssrcs.push_back(read_u32(body.data() + 16 + 4 * i));
  }
  return remb;
}

void RtcpRemb::append_to(Bytes& out) const {
  const std::size_t start = begin_rtcp_feedback(out, {sender_ssrc, media_ssrc});
  const std::size_t count = std::min<std::size_t>(ssrcs.size(), 255);
  append_u32(out, kIdentifier);
  append_u8(out, static_cast<std::uint8_t>(count));
  const std::uint32_t packed = (std::uint32_t{exponent & 0x3Fu} << 18) | (mantissa & kMaxMantissa);
  append_u8(out, static_cast<std::uint8_t>(packed >> 16));
  append_u16(out, static_cast<std::uint16_t>(packed));
  for (std::size_t i = 0; i < count; ++i) {
    append_u32(out, ssrcs[i]);
  }
  finish_rtcp_packet(out, start, rtcp_fmt::kApplicationLayer, rtcp_type::kPayloadFeedback);
}

Bytes RtcpRemb::serialize() const {
  Bytes out;
  append_to(out);
  return out;
}

}  // namespace ivs::proto
