#include "proto/rtcp_sdes.hpp"

#include <algorithm>

#include "proto/rtcp_header.hpp"

namespace ivs::proto {
namespace {

constexpr std::size_t kMaxChunks = 31;

// Reads one chunk at body[position]; advances position past its null octets and alignment.
Result<RtcpSdesChunk> read_chunk(ByteSpan body, std::size_t& position) {
  if (position + 4 > body.size()) {
    return rtcp_error("SDES", "chunk SSRC runs past the end");
  }
  RtcpSdesChunk chunk;
  chunk.ssrc = read_u32(body.data() + position);
  position += 4;
  while (true) {
    if (position >= body.size()) {
      return rtcp_error("SDES", "chunk has no terminating null item");
    }
    const std::uint8_t type = body[position];
    if (type == 0) {
      // The null item, then padding up to the next 32-bit boundary of the body (which starts
      // word-aligned, 4 bytes into the packet).
      position = (position + 4) & ~std::size_t{3};
      if (position > body.size()) {
        return rtcp_error("SDES", "chunk padding runs past the end");
      }
      return chunk;
    }
    if (position + 2 > body.size() || position + 2 + body[position + 1] > body.size()) {
      return rtcp_error("SDES", "item runs past the end");
    }
    const std::size_t length = body[position + 1];
    chunk.items.push_back({type, std::string(as_text(body.subspan(position + 2, length)))});
    position += 2 + length;
  }
}

}  // namespace

Result<RtcpSdes> RtcpSdes::parse(ByteSpan packet) {
  auto view = expect_rtcp_packet(packet, rtcp_type::kSourceDescription, -1, "SDES");
  if (!view) {
    return view.error();
  }
  RtcpSdes sdes;
  std::size_t position = 0;
  for (std::size_t i = 0; i < view->count; ++i) {
    auto chunk = read_chunk(view->body, position);
    if (!chunk) {
      return chunk.error();
    }
    sdes.chunks.push_back(std::move(*chunk));
  }
  return sdes;
}

void RtcpSdes::append_to(Bytes& out) const {
  const std::size_t start = begin_rtcp_packet(out);
  const std::size_t count = std::min(chunks.size(), kMaxChunks);
  for (std::size_t i = 0; i < count; ++i) {
    append_u32(out, chunks[i].ssrc);
    for (const auto& item : chunks[i].items) {
      if (item.type == 0) {
        continue;  // a null item would end the chunk early
      }
      const std::size_t length = std::min<std::size_t>(item.value.size(), 255);
      append_u8(out, item.type);
      append_u8(out, static_cast<std::uint8_t>(length));
      append_bytes(out, as_bytes(item.value).first(length));
    }
    // One null octet at least, then zeros to the next word boundary.
    do {
      append_u8(out, 0);
    } while ((out.size() - start) % 4 != 0);
  }
  finish_rtcp_packet(out, start, static_cast<std::uint8_t>(count), rtcp_type::kSourceDescription);
}

Bytes RtcpSdes::serialize() const {
  Bytes out;
  append_to(out);
  return out;
}

const std::string* RtcpSdes::cname(std::uint32_t ssrc) const {
  for (const auto& chunk : chunks) {
    if (chunk.ssrc != ssrc) {
      continue;
    }
    for (const auto& item : chunk.items) {
      if (item.type == sdes_item::kCname) {
        return &item.value;
      }
    }
  }
  return nullptr;
}

}  // namespace ivs::proto
