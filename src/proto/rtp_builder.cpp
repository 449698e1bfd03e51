#include "proto/rtp_builder.hpp"

#include <algorithm>
#include <cstring>
#include <string>

namespace ivs::proto {
namespace {

bool fits_one_byte(const RtpHeaderExtension& extension) {
  return extension.id >= 1 && extension.id <= 14 && !extension.value.empty() &&
         extension.value.size() <= 16;
}

std::size_t round_up_to_word(std::size_t size) {
  return (size + 3) & ~std::size_t{3};
}

}  // namespace

RtpPacket RtpPacket::from_view(const RtpView& view) {
  RtpPacket packet;
  packet.marker = view.marker;
  packet.payload_type = view.payload_type;
  packet.sequence_number = view.sequence_number;
  packet.timestamp = view.timestamp;
  packet.ssrc = view.ssrc;
  for (std::size_t i = 0; i < view.csrc_count; ++i) {
    packet.csrcs.push_back(view.csrc(i));
  }
  if (view.has_rfc8285_extensions()) {
    auto walk = view.extensions();
    while (auto element = walk.next()) {
      auto data = view.packet.subspan(element->data_offset, element->size);
      packet.extensions.push_back({element->id, Bytes(data.begin(), data.end())});
    }
    packet.force_two_byte_extensions =
        view.extension_form == RtpExtensionForm::kTwoByte && !packet.extensions.empty();
  } else if (view.extension_form == RtpExtensionForm::kOther) {
    packet.raw_extension_profile = view.extension_profile;
    auto data = view.extension_data();
    packet.raw_extension.assign(data.begin(), data.end());
  }
  auto payload = view.payload();
  packet.payload.assign(payload.begin(), payload.end());
  packet.padding_size = static_cast<std::uint8_t>(view.padding_size);
  return packet;
}

RtpExtensionForm RtpPacket::extension_form() const {
  if (!extensions.empty()) {
    const bool one_byte = !force_two_byte_extensions &&
                          std::all_of(extensions.begin(), extensions.end(), fits_one_byte);
    return one_byte ? RtpExtensionForm::kOneByte : RtpExtensionForm::kTwoByte;
  }
  return raw_extension_profile ? RtpExtensionForm::kOther : RtpExtensionForm::kNone;
}

Result<std::size_t> RtpPacket::serialized_size() const {
  if (csrcs.size() > 15) {
    return make_error("RTP: more than 15 CSRCs");
  }
  if (payload_type > 127) {
    return make_error("RTP: payload type above 127");
  }
  std::size_t size = kRtpHeaderSize + 4 * csrcs.size();
  const RtpExtensionForm form = extension_form();
  std::size_t block = 0;
  if (form == RtpExtensionForm::kOneByte || form == RtpExtensionForm::kTwoByte) {
    std::size_t elements = 0;
    for (const auto& extension : extensions) {
      if (extension.id == 0 || extension.value.size() > 255) {
        return make_error("RTP: extension id 0 or value longer than 255 bytes");
      }
      elements += (form == RtpExtensionForm::kOneByte ? 1 : 2) + extension.value.size();
    }
    block = round_up_to_word(elements);
  } else if (form == RtpExtensionForm::kOther) {
    if (raw_extension.size() % 4 != 0) {
      return make_error("RTP: raw extension size is not a multiple of 4");
    }
    block = raw_extension.size();
  }
  if (block > std::size_t{4} * 0xFFFF) {
    return make_error("RTP: extension block too long");
  }
  if (form != RtpExtensionForm::kNone) {
    size += 4 + block;
  }
  return size + payload.size() + padding_size;
}

Result<Bytes> RtpPacket::serialize() const {
  auto size = serialized_size();
  if (!size) {
    return size.error();
  }
  Bytes out(*size);
  auto written = serialize_into(out);
  if (!written) {
    return written.error();
  }
  return out;
}

Result<std::size_t> RtpPacket::serialize_into(MutableByteSpan out) const {
  auto size = serialized_size();
  if (!size) {
    return size.error();
  }
  if (out.size() < *size) {
    return make_error("RTP: output buffer of " + std::to_string(out.size()) + " bytes, need " +
                      std::to_string(*size));
  }
  std::uint8_t* data = out.data();
  std::memset(data, 0, *size);
  const RtpExtensionForm form = extension_form();
  data[0] = static_cast<std::uint8_t>(0x80 | (padding_size > 0 ? 0x20 : 0) |
                                      (form != RtpExtensionForm::kNone ? 0x10 : 0) | csrcs.size());
  data[1] = static_cast<std::uint8_t>((marker ? 0x80 : 0) | payload_type);
  write_u16(data + 2, sequence_number);
  write_u32(data + 4, timestamp);
  write_u32(data + 8, ssrc);
  std::size_t position = kRtpHeaderSize;
  for (std::uint32_t csrc : csrcs) {
    write_u32(data + position, csrc);
    position += 4;
  }
  if (form == RtpExtensionForm::kOther) {
    write_u16(data + position, *raw_extension_profile);
    write_u16(data + position + 2, static_cast<std::uint16_t>(raw_extension.size() / 4));
    std::copy(raw_extension.begin(), raw_extension.end(), data + position + 4);
    position += 4 + raw_extension.size();
  } else if (form != RtpExtensionForm::kNone) {
    const std::size_t block_start = position + 4;
    position = block_start;
    for (const auto& extension : extensions) {
      if (form == RtpExtensionForm::kOneByte) {
        data[position++] =
            static_cast<std::uint8_t>((extension.id << 4) | (extension.value.size() - 1));
      } else {
        data[position++] = extension.id;
        data[position++] = static_cast<std::uint8_t>(extension.value.size());
      }
      std::copy(extension.value.begin(), extension.value.end(), data + position);
      position += extension.value.size();
    }
    position = block_start + round_up_to_word(position - block_start);
    write_u16(data + block_start - 4, form == RtpExtensionForm::kOneByte
                                          ? kOneByteExtensionProfile
                                          : kTwoByteExtensionProfile);
    write_u16(data + block_start - 2, static_cast<std::uint16_t>((position - block_start) / 4));
  }
  std::copy(payload.begin(), payload.end(), data + position);
  position += payload.size();
  if (padding_size > 0) {
    position += padding_size;
    data[position - 1] = padding_size;
  }
  return position;
}

}  // namespace ivs::proto
