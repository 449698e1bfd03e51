#include "proto/rtcp_bye.hpp"

#include <algorithm>

#include "proto/rtcp_header.hpp"

namespace ivs::proto {

Result<RtcpBye> RtcpBye::parse(ByteSpan packet) {
  auto view = expect_rtcp_packet(packet, rtcp_type::kBye, -1, "BYE");
  if (!view) {
    return view.error();
  }
  const ByteSpan body = view->body;
  const std::size_t ssrc_bytes = 4 * std::size_t{view->count};
  if (body.size() < ssrc_bytes) {
    return rtcp_error("BYE", "SSRC list runs past the end");
  }
  RtcpBye bye;
  for (std::size_t i = 0; i < view->count; ++i) {
    bye.ssrcs.push_back(read_u32(body.data() + 4 * i));
  }
  // Anything after the SSRCs is a length-prefixed reason; zero bytes of alignment padding
  // (a zero length) mean there is none.
  if (body.size() > ssrc_bytes && body[ssrc_bytes] != 0) {
    const std::size_t length = body[ssrc_bytes];
    if (ssrc_bytes + 1 + length > body.size()) {
      return rtcp_error("BYE", "reason runs past the end");
    }
    bye.reason = std::string(as_text(body.subspan(ssrc_bytes + 1, length)));
  }
  return bye;
}

void RtcpBye::append_to(Bytes& out) const {
  const std::size_t start = begin_rtcp_packet(out);
  const std::size_t count = std::min<std::size_t>(ssrcs.size(), 31);
  for (std::size_t i = 0; i < count; ++i) {
    append_u32(out, ssrcs[i]);
  }
  if (reason && !reason->empty()) {
    const std::size_t length = std::min<std::size_t>(reason->size(), 255);
    append_u8(out, static_cast<std::uint8_t>(length));
    append_bytes(out, as_bytes(*reason).first(length));
  }
  finish_rtcp_packet(out, start, static_cast<std::uint8_t>(count), rtcp_type::kBye);
}

Bytes RtcpBye::serialize() const {
  Bytes out;
  append_to(out);
  return out;
}

}  // namespace ivs::proto
