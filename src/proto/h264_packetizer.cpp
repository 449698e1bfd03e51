#include "proto/h264_packetizer.hpp"

#include <algorithm>

#include "proto/h264_payload.hpp"

namespace ivs::proto {

Bytes build_stap_a(std::span<const ByteSpan> nal_units) {
  std::uint8_t forbidden = 0;
  std::uint8_t nri = 0;
  for (const auto& unit : nal_units) {
    forbidden |= unit[0] & 0x80;
    nri = std::max<std::uint8_t>(nri, unit[0] & 0x60);
  }
  Bytes out;
  out.push_back(static_cast<std::uint8_t>(forbidden | nri | h264_nal::kStapA));
  for (const auto& unit : nal_units) {
    append_u16(out, static_cast<std::uint16_t>(unit.size()));
    append_bytes(out, unit);
  }
  return out;
}

std::vector<Bytes> fragment_fu_a(ByteSpan nal_unit, std::size_t max_payload) {
  std::vector<Bytes> fragments;
  if (nal_unit.size() < 2 || max_payload < 3) {
    return fragments;
  }
  const std::uint8_t indicator = static_cast<std::uint8_t>((nal_unit[0] & 0xE0) | h264_nal::kFuA);
  const std::uint8_t type = nal_unit[0] & 0x1F;
  const ByteSpan body = nal_unit.subspan(1);
  const std::size_t capacity = max_payload - 2;
  const std::size_t count = (body.size() + capacity - 1) / capacity;
  // Spread the bytes evenly so the last fragment is not a runt.
  const std::size_t base = body.size() / count;
  const std::size_t extra = body.size() % count;
  std::size_t offset = 0;
  for (std::size_t i = 0; i < count; ++i) {
    const std::size_t size = base + (i < extra ? 1 : 0);
    Bytes fragment;
    fragment.reserve(2 + size);
    fragment.push_back(indicator);
    fragment.push_back(
        static_cast<std::uint8_t>((i == 0 ? 0x80 : 0) | (i + 1 == count ? 0x40 : 0) | type));
    append_bytes(fragment, body.subspan(offset, size));
    offset += size;
    fragments.push_back(std::move(fragment));
  }
  // A one-fragment FU would need S and E together, which RFC 6184 forbids; the caller sends
  // such a unit as a single NAL packet instead (packetize_h264 does).
  if (count == 1) {
    fragments.clear();
  }
  return fragments;
}

std::vector<Bytes> packetize_h264(std::span<const ByteSpan> nal_units, std::size_t max_payload) {
  std::vector<Bytes> payloads;
  std::vector<ByteSpan> pending;  // units waiting to be aggregated
  std::size_t pending_size = 1;   // the STAP-A header
  const auto flush = [&] {
    if (pending.size() == 1) {
      payloads.emplace_back(pending[0].begin(), pending[0].end());
    } else if (pending.size() > 1) {
      payloads.push_back(build_stap_a(pending));
    }
    pending.clear();
    pending_size = 1;
  };
  for (const auto& unit : nal_units) {
    if (unit.empty()) {
      continue;
    }
    if (unit.size() > max_payload) {
      flush();
      auto fragments = fragment_fu_a(unit, max_payload);
      payloads.insert(payloads.end(), std::make_move_iterator(fragments.begin()),
                      std::make_move_iterator(fragments.end()));
      continue;
    }
    if (pending_size + 2 + unit.size() > max_payload) {
      flush();
    }
    pending.push_back(unit);
    pending_size += 2 + unit.size();
  }
  flush();
  return payloads;
}

}  // namespace ivs::proto
