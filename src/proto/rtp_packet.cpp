#include "proto/rtp_packet.hpp"

#include <string>

namespace ivs::proto {
namespace {

RtpExtensionForm form_of_profile(std::uint16_t profile) {
  if (profile == kOneByteExtensionProfile) {
    return RtpExtensionForm::kOneByte;
  }
  if ((profile & 0xFFF0) == kTwoByteExtensionProfile) {
    return RtpExtensionForm::kTwoByte;
  }
  return RtpExtensionForm::kOther;
}

// A padding byte: 0 in the two-byte form; any byte with id 0 in the one-byte form, whose length
// nibble is then meaningless (RFC 8285 §4.2 reserves id 0 for padding; libwebrtc likewise skips
// exactly one byte).
bool is_padding(std::uint8_t first, RtpExtensionForm form) {
  return form == RtpExtensionForm::kOneByte ? (first >> 4) == 0 : first == 0;
}

// Walks every element once so that later walks (and in-place rewrites) may trust the lengths.
// Returns nullptr when the block is well formed, else a static description of the fault; static
// strings keep the check itself free of allocation.
const char* validate_extension_elements(const std::uint8_t* packet, std::size_t begin,
                                        std::size_t end, RtpExtensionForm form) {
  std::size_t position = begin;
  while (position < end) {
    const std::uint8_t first = packet[position];
    if (is_padding(first, form)) {
      ++position;  // padding between elements
      continue;
    }
    if (form == RtpExtensionForm::kOneByte) {
      if ((first >> 4) == 15) {
        return nullptr;  // id 15: stop processing, the rest is ignored (RFC 8285 §4.2)
      }
      const std::size_t size = (first & 0x0F) + 1u;
      if (position + 1 + size > end) {
        return "one-byte extension element runs past the extension block";
      }
      position += 1 + size;
    } else {
      if (position + 2 > end) {
        return "two-byte extension element header runs past the extension block";
      }
      const std::size_t size = packet[position + 1];
      if (position + 2 + size > end) {
        return "two-byte extension element runs past the extension block";
      }
      position += 2 + size;
    }
  }
  return nullptr;
}

Error rtp_error(const char* what) {
  return make_error(std::string("RTP: ") + what);
}

}  // namespace

std::optional<RtpExtensionElement> RtpExtensionIterator::next() {
  if (form_ != RtpExtensionForm::kOneByte && form_ != RtpExtensionForm::kTwoByte) {
    return std::nullopt;
  }
  while (position_ < end_ && is_padding(packet_[position_], form_)) {
    ++position_;
  }
  if (position_ >= end_) {
    return std::nullopt;
  }
  RtpExtensionElement element;
  element.header_offset = position_;
  const std::uint8_t first = packet_[position_];
  if (form_ == RtpExtensionForm::kOneByte) {
    if ((first >> 4) == 15) {
      position_ = end_;
      return std::nullopt;
    }
    element.id = first >> 4;
    element.size = (first & 0x0F) + 1u;
    element.data_offset = position_ + 1;
  } else {
    element.id = first;
    element.size = packet_[position_ + 1];
    element.data_offset = position_ + 2;
  }
  position_ = element.data_offset + element.size;
  return element;
}

std::uint32_t RtpView::csrc(std::size_t index) const {
  return read_u32(packet.data() + kRtpHeaderSize + 4 * index);
}

std::optional<RtpExtensionElement> RtpView::find_extension(std::uint8_t id) const {
  auto walk = extensions();
  while (auto element = walk.next()) {
    if (element->id == id) {
      return element;
    }
  }
  return std::nullopt;
}

std::optional<ByteSpan> RtpView::extension(std::uint8_t id) const {
  if (auto element = find_extension(id)) {
    return packet.subspan(element->data_offset, element->size);
  }
  return std::nullopt;
}

Result<RtpView> parse_rtp(ByteSpan packet) {
  if (packet.size() < kRtpHeaderSize) {
    return rtp_error("packet shorter than the 12-byte fixed header");
  }
  const std::uint8_t* data = packet.data();
  if ((data[0] >> 6) != 2) {
    return rtp_error("version is not 2");
  }
  RtpView view;
  view.packet = packet;
  const bool has_padding = (data[0] & 0x20) != 0;
  const bool has_extension = (data[0] & 0x10) != 0;
  view.csrc_count = data[0] & 0x0F;
  view.marker = (data[1] & 0x80) != 0;
  view.payload_type = data[1] & 0x7F;
  view.sequence_number = read_u16(data + 2);
  view.timestamp = read_u32(data + 4);
  view.ssrc = read_u32(data + 8);

  std::size_t position = kRtpHeaderSize + std::size_t{4} * view.csrc_count;
  if (position > packet.size()) {
    return rtp_error("CSRC list runs past the end of the packet");
  }
  if (has_extension) {
    if (position + 4 > packet.size()) {
      return rtp_error("extension header runs past the end of the packet");
    }
    view.extension_profile = read_u16(data + position);
    view.extension_size = std::size_t{4} * read_u16(data + position + 2);
    view.extension_offset = position + 4;
    view.extension_form = form_of_profile(view.extension_profile);
    position = view.extension_offset + view.extension_size;
    if (position > packet.size()) {
      return rtp_error("extension length runs past the end of the packet");
    }
    if (view.has_rfc8285_extensions()) {
      if (const char* fault = validate_extension_elements(data, view.extension_offset, position,
                                                          view.extension_form)) {
        return rtp_error(fault);
      }
    }
  }
  view.payload_offset = position;
  std::size_t end = packet.size();
  if (has_padding) {
    view.padding_size = data[packet.size() - 1];
    if (view.padding_size == 0) {
      return rtp_error("padding bit set but padding count is 0");
    }
    if (view.padding_size > end - position) {
      return rtp_error("padding count longer than the payload area");
    }
    end -= view.padding_size;
  }
  view.payload_size = end - position;
  return view;
}

}  // namespace ivs::proto
