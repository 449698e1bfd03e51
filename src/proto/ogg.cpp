#include "proto/ogg.hpp"

#include <array>
#include <optional>
#include <string>

namespace ivs::proto {

namespace {

constexpr std::size_t kHeaderSize = 27;  // up to and including the segment count

// Ogg and Opus headers are little-endian, unlike every network format in proto/bytes.hpp.
std::uint16_t read_le16(const std::uint8_t* p) {
  return static_cast<std::uint16_t>(p[0] | (p[1] << 8));
}
std::uint32_t read_le32(const std::uint8_t* p) {
  return static_cast<std::uint32_t>(p[0]) | (static_cast<std::uint32_t>(p[1]) << 8) |
         (static_cast<std::uint32_t>(p[2]) << 16) | (static_cast<std::uint32_t>(p[3]) << 24);
}
std::uint64_t read_le64(const std::uint8_t* p) {
  return static_cast<std::uint64_t>(read_le32(p)) |
         (static_cast<std::uint64_t>(read_le32(p + 4)) << 32);
}

constexpr std::array<std::uint32_t, 256> make_ogg_crc_table() {
  std::array<std::uint32_t, 256> table{};
  for (std::uint32_t i = 0; i < 256; ++i) {
    std::uint32_t value = i << 24;
    for (int bit = 0; bit < 8; ++bit) {
      value = (value & 0x80000000U) != 0 ? (value << 1) ^ 0x04C11DB7U : value << 1;
    }
    table[i] = value;
  }
  return table;
}

constexpr std::array<std::uint32_t, 256> kOggCrcTable = make_ogg_crc_table();

Error page_error(std::size_t index, const std::string& what) {
  return make_error("Ogg: page " + std::to_string(index) + ": " + what);
}

}  // namespace

std::uint32_t ogg_crc32(ByteSpan bytes) {
  std::uint32_t crc = 0;
  for (std::uint8_t byte : bytes) {
    crc = (crc << 8) ^ kOggCrcTable[((crc >> 24) ^ byte) & 0xFF];
  }
  return crc;
}

Result<OggPage> OggPage::parse(ByteSpan bytes) {
  if (bytes.size() < kHeaderSize) {
    return make_error("Ogg: page header truncated");
  }
  if (bytes[0] != 'O' || bytes[1] != 'g' || bytes[2] != 'g' || bytes[3] != 'S') {
    return make_error("Ogg: no \"OggS\" capture pattern");
  }
  if (bytes[4] != 0) {
    return make_error("Ogg: unsupported stream structure version " + std::to_string(bytes[4]));
  }
  OggPage page;
  page.header_type = bytes[5];
  page.granule_position = read_le64(bytes.data() + 6);
  page.serial = read_le32(bytes.data() + 14);
  page.sequence = read_le32(bytes.data() + 18);
  const std::uint32_t crc = read_le32(bytes.data() + 22);
  const std::size_t segments = bytes[26];
  if (bytes.size() < kHeaderSize + segments) {
    return make_error("Ogg: segment table truncated");
  }
  page.lacing.assign(bytes.begin() + kHeaderSize, bytes.begin() + kHeaderSize + segments);
  std::size_t body_size = 0;
  for (std::uint8_t value : page.lacing) {
    body_size += value;
  }
  const std::size_t header_size = kHeaderSize + segments;
  if (bytes.size() < header_size + body_size) {
    return make_error("Ogg: page body truncated (" + std::to_string(body_size) +
                      " bytes declared)");
  }
  page.size = header_size + body_size;
  page.body = bytes.subspan(header_size, body_size);
  // The checksum covers the whole page with the CRC field itself taken as zero.
  Bytes copy(bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(page.size));
  copy[22] = copy[23] = copy[24] = copy[25] = 0;
  if (ogg_crc32(copy) != crc) {
    return make_error("Ogg: page CRC mismatch");
  }
  return page;
}

Result<std::vector<OggPacket>> parse_ogg_packets(ByteSpan file) {
  std::vector<OggPacket> packets;
  std::optional<std::uint32_t> serial;
  Bytes partial;  // a packet continuing onto the next page
  bool have_partial = false;
  std::size_t index = 0;
  while (!file.empty()) {
    auto page = OggPage::parse(file);
    if (!page) {
      return page_error(index, page.error().message);
    }
    file = file.subspan(page->size);
    ++index;
    if (!serial) {
      if ((page->header_type & OggPage::kBeginOfStream) == 0) {
        return page_error(index - 1, "first page is not a beginning-of-stream page");
      }
      serial = page->serial;
    } else if (page->serial != *serial) {
      continue;  // another logical stream of a multiplexed file
    }
    const bool continued = (page->header_type & OggPage::kContinued) != 0;
    if (continued != have_partial) {
      // A continuation flag with nothing to continue (or a dropped continuation) means a page
      // was lost; the half packet is discarded rather than glued to unrelated data.
      partial.clear();
      have_partial = false;
      if (continued) {
        return page_error(index - 1, "continued packet without its beginning");
      }
    }
    std::size_t offset = 0;
    std::size_t last_complete = packets.size();
    for (std::uint8_t value : page->lacing) {
      partial.insert(partial.end(), page->body.begin() + static_cast<std::ptrdiff_t>(offset),
                     page->body.begin() + static_cast<std::ptrdiff_t>(offset + value));
      offset += value;
      have_partial = true;
      if (value < 255) {
        packets.push_back(OggPacket{std::move(partial), ~std::uint64_t{0}});
        partial.clear();
        have_partial = false;
      }
    }
    if (packets.size() > last_complete) {
      packets.back().granule_position = page->granule_position;
    }
  }
  if (!serial) {
    return make_error("Ogg: no pages");
  }
  return packets;
}

Result<OpusHead> OpusHead::parse(ByteSpan packet) {
  if (packet.size() < 19 || as_text(packet.first(8)) != "OpusHead") {
    return make_error("Opus: first packet is not an OpusHead header");
  }
  OpusHead head;
  head.version = packet[8];
  // RFC 7845 §5.1: the major version is the upper four bits; only major 0 is defined.
  if ((head.version & 0xF0) != 0) {
    return make_error("Opus: unsupported OpusHead version " + std::to_string(head.version));
  }
  head.channels = packet[9];
  head.pre_skip = read_le16(packet.data() + 10);
  head.input_sample_rate = read_le32(packet.data() + 12);
  head.output_gain = static_cast<std::int16_t>(read_le16(packet.data() + 16));
  head.mapping_family = packet[18];
  if (head.channels == 0) {
    return make_error("Opus: OpusHead with zero channels");
  }
  return head;
}

Result<OggOpus> parse_ogg_opus(ByteSpan file) {
  auto packets = parse_ogg_packets(file);
  if (!packets) {
    return packets.error();
  }
  if (packets->size() < 2) {
    return make_error("Opus: fewer than two header packets");
  }
  auto head = OpusHead::parse((*packets)[0].data);
  if (!head) {
    return head.error();
  }
  if (head->mapping_family != 0 || head->channels > 2) {
    return make_error("Opus: channel mapping family " + std::to_string(head->mapping_family) +
                      " with " + std::to_string(head->channels) +
                      " channels; WebRTC carries mono or stereo (family 0)");
  }
  const Bytes& tags = (*packets)[1].data;
  if (tags.size() < 8 || as_text(ByteSpan(tags).first(8)) != "OpusTags") {
    return make_error("Opus: second packet is not an OpusTags header");
  }
  OggOpus result;
  result.head = *head;
  for (std::size_t i = 2; i < packets->size(); ++i) {
    result.packets.push_back(std::move((*packets)[i].data));
  }
  return result;
}

Result<std::uint32_t> opus_packet_samples(ByteSpan packet) {
  if (packet.empty()) {
    return make_error("Opus: empty packet");
  }
  const std::uint8_t config = packet[0] >> 3;
  std::uint32_t frame_samples = 0;  // at 48 kHz
  if (config < 12) {
    static constexpr std::array<std::uint32_t, 4> kSilk = {480, 960, 1920, 2880};
    frame_samples = kSilk[config % 4];
  } else if (config < 16) {
    frame_samples = config % 2 == 0 ? 480 : 960;
  } else {
    static constexpr std::array<std::uint32_t, 4> kCelt = {120, 240, 480, 960};
    frame_samples = kCelt[config % 4];
  }
  std::uint32_t frames = 1;
  switch (packet[0] & 0x03) {
    case 0:
      frames = 1;
      break;
    case 1:
    case 2:
      frames = 2;
      break;
    default:
      if (packet.size() < 2) {
        return make_error("Opus: code 3 packet without a frame count byte");
      }
      frames = packet[1] & 0x3F;
      if (frames == 0) {
        return make_error("Opus: code 3 packet with zero frames");
      }
      break;
  }
  // RFC 6716 §3.2.5: a packet never holds more than 120 ms of audio.
  if (frames * frame_samples > 5760) {
    return make_error("Opus: packet longer than 120 ms");
  }
  return frames * frame_samples;
}

}  // namespace ivs::proto
