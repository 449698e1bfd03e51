#include "proto/rtp_rtx.hpp"

#include <algorithm>

#include "proto/rtp_rewrite.hpp"

namespace ivs::proto {
namespace {

// Copies the header of `view` (CSRCs and extensions included) with the P bit cleared.
void copy_header(MutableByteSpan out, const RtpView& view) {
  std::copy_n(view.packet.begin(), view.header_size(), out.begin());
  out[0] = static_cast<std::uint8_t>(out[0] & ~0x20);
}

}  // namespace

Result<std::size_t> write_rtx_packet(MutableByteSpan out, const RtpView& original,
                                     std::uint8_t rtx_payload_type, std::uint32_t rtx_ssrc,
                                     std::uint16_t rtx_sequence_number) {
  const std::size_t size = rtx_packet_size(original);
  if (out.size() < size) {
    return make_error("RTX: output buffer too small");
  }
  copy_header(out, original);
  set_rtp_payload_type(out, rtx_payload_type);
  set_rtp_ssrc(out, rtx_ssrc);
  set_rtp_sequence_number(out, rtx_sequence_number);
  write_u16(out.data() + original.header_size(), original.sequence_number);
  const ByteSpan payload = original.payload();
  std::copy(payload.begin(), payload.end(), out.begin() + original.header_size() + 2);
  return size;
}

Result<std::uint16_t> rtx_original_sequence_number(const RtpView& rtx) {
  if (rtx.payload_size < 2) {
    return make_error("RTX: payload shorter than the original sequence number");
  }
  return read_u16(rtx.packet.data() + rtx.payload_offset);
}

Result<std::size_t> unwrap_rtx_packet(MutableByteSpan out, const RtpView& rtx,
                                      std::uint8_t original_payload_type,
                                      std::uint32_t original_ssrc) {
  auto sequence = rtx_original_sequence_number(rtx);
  if (!sequence) {
    return sequence.error();
  }
  const std::size_t size = rtx.header_size() + rtx.payload_size - 2;
  if (out.size() < size) {
    return make_error("RTX: output buffer too small");
  }
  copy_header(out, rtx);
  set_rtp_payload_type(out, original_payload_type);
  set_rtp_ssrc(out, original_ssrc);
  set_rtp_sequence_number(out, *sequence);
  const ByteSpan payload = rtx.payload().subspan(2);
  std::copy(payload.begin(), payload.end(), out.begin() + rtx.header_size());
  return size;
}

}  // namespace ivs::proto
