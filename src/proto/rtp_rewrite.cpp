#include "proto/rtp_rewrite.hpp"

#include <algorithm>

namespace ivs::proto {
namespace {

// The view's offsets must lie inside the copy; a shorter buffer means the caller broke the
// precondition, and doing nothing is safer than writing past it.
bool fits(MutableByteSpan packet, const RtpView& view) {
  return view.has_rfc8285_extensions() &&
         view.extension_offset + view.extension_size <= packet.size();
}

RtpExtensionIterator walk(MutableByteSpan packet, const RtpView& view) {
  return {packet.data(), view.extension_offset, view.extension_offset + view.extension_size,
          view.extension_form};
}

void zero_element(MutableByteSpan packet, const RtpExtensionElement& element) {
  std::fill(packet.begin() + static_cast<std::ptrdiff_t>(element.header_offset),
            packet.begin() + static_cast<std::ptrdiff_t>(element.data_offset + element.size), 0);
}

}  // namespace

RtpExtensionIdMap RtpExtensionIdMap::identity() {
  RtpExtensionIdMap map;
  for (std::size_t id = 0; id < map.table_.size(); ++id) {
    map.table_[id] = static_cast<std::uint8_t>(id);
  }
  return map;
}

RtpRemapCounts remap_rtp_extension_ids(MutableByteSpan packet, const RtpView& view,
                                       const RtpExtensionIdMap& map) {
  RtpRemapCounts counts;
  if (!fits(packet, view)) {
    return counts;
  }
  // The walk reads each element's header before we rewrite it, and a rewrite keeps the length,
  // so rewriting while walking is safe. A zeroed element becomes padding that the walk has
  // already passed.
  auto elements = walk(packet, view);
  while (auto element = elements.next()) {
    const std::uint8_t to = map[element->id];
    const bool one_byte = view.extension_form == RtpExtensionForm::kOneByte;
    if (to == 0 || (one_byte && to > 14)) {
      zero_element(packet, *element);
      ++counts.dropped;
      continue;
    }
    std::uint8_t& header = packet[element->header_offset];
    header = one_byte ? static_cast<std::uint8_t>((to << 4) | (header & 0x0F)) : to;
    ++counts.remapped;
  }
  return counts;
}

std::size_t drop_rtp_extension(MutableByteSpan packet, const RtpView& view, std::uint8_t id) {
  std::size_t dropped = 0;
  if (!fits(packet, view)) {
    return dropped;
  }
  auto elements = walk(packet, view);
  while (auto element = elements.next()) {
    if (element->id == id) {
      zero_element(packet, *element);
      ++dropped;
    }
  }
  return dropped;
}

MutableByteSpan mutable_rtp_extension(MutableByteSpan packet, const RtpView& view,
                                      std::uint8_t id) {
  if (!fits(packet, view)) {
    return {};
  }
  auto elements = walk(packet, view);
  while (auto element = elements.next()) {
    if (element->id == id) {
      return packet.subspan(element->data_offset, element->size);
    }
  }
  return {};
}

}  // namespace ivs::proto
