#include "proto/rtcp_header.hpp"

#include <string>

namespace ivs::proto {

Error rtcp_error(const char* what, const char* problem) {
  return make_error(std::string("RTCP ") + what + ": " + problem);
}

Result<RtcpPacketView> parse_rtcp_packet_view(ByteSpan bytes) {
  if (bytes.size() < kRtcpHeaderSize) {
    return rtcp_error("header", "fewer than 4 bytes");
  }
  if ((bytes[0] >> 6) != 2) {
    return rtcp_error("header", "version is not 2");
  }
  const std::size_t size = 4 * (std::size_t{read_u16(bytes.data() + 2)} + 1);
  if (size > bytes.size()) {
    return rtcp_error("header", "length runs past the end of the datagram");
  }
  RtcpPacketView view;
  view.padding = (bytes[0] & 0x20) != 0;
  view.count = bytes[0] & 0x1F;
  view.packet_type = bytes[1];
  view.packet = bytes.first(size);
  view.body = view.packet.subspan(kRtcpHeaderSize);
  if (view.padding) {
    const std::size_t padding = view.packet.back();
    if (padding == 0 || padding > view.body.size()) {
      return rtcp_error("header", "padding count is 0 or longer than the body");
    }
    view.body = view.body.first(view.body.size() - padding);
  }
  return view;
}

Result<RtcpPacketView> expect_rtcp_packet(ByteSpan bytes, std::uint8_t packet_type, int fmt,
                                          const char* what) {
  auto view = parse_rtcp_packet_view(bytes);
  if (!view) {
    return view;
  }
  if (view->packet.size() != bytes.size()) {
    return rtcp_error(what, "bytes left over after the packet");
  }
  if (view->packet_type != packet_type || (fmt >= 0 && view->count != fmt)) {
    return rtcp_error(what, "unexpected packet type or FMT");
  }
  return view;
}

std::size_t begin_rtcp_packet(Bytes& out) {
  const std::size_t start = out.size();
  out.resize(start + kRtcpHeaderSize);
  return start;
}

std::size_t begin_rtcp_feedback(Bytes& out, const RtcpFeedbackHeader& header) {
  const std::size_t start = begin_rtcp_packet(out);
  append_u32(out, header.sender_ssrc);
  append_u32(out, header.media_ssrc);
  return start;
}

void finish_rtcp_packet(Bytes& out, std::size_t start, std::uint8_t count, std::uint8_t packet_type,
                        bool padding_bit) {
  const std::size_t padding = (4 - (out.size() - start) % 4) % 4;
  out.resize(out.size() + padding, 0);
  const bool padded = padding_bit && padding > 0;
  if (padded) {
    out.back() = static_cast<std::uint8_t>(padding);
  }
  const std::size_t words = (out.size() - start) / 4 - 1;
  out[start] = static_cast<std::uint8_t>(0x80 | (padded ? 0x20 : 0) | (count & 0x1F));
  out[start + 1] = packet_type;
  write_u16(out.data() + start + 2, static_cast<std::uint16_t>(words));
}

}  // namespace ivs::proto
