#include "proto/h264_payload.hpp"

#include <string>

#include "proto/h264_bit_reader.hpp"

namespace ivs::proto {
namespace {

Error h264_error(const char* problem) {
  return make_error(std::string("H.264 payload: ") + problem);
}

// Whether an IDR slice NAL unit (header byte first) begins with first_mb_in_slice = 0.
bool starts_picture(ByteSpan slice_after_header) {
  H264BitReader reader(slice_after_header);
  auto first_mb = reader.read_unsigned_exp_golomb();
  return first_mb && *first_mb == 0;
}

// Records what a complete NAL unit (or the first fragment's slice bytes) says about keyframes.
void note_nal(H264PayloadInfo& info, std::uint8_t type, H264NalRange range, ByteSpan payload) {
  switch (type) {
    case h264_nal::kIdrSlice:
      info.has_idr = true;
      if (range.size > 1 && starts_picture(payload.subspan(range.offset + 1, range.size - 1))) {
        info.starts_idr_picture = true;
      }
      break;
    case h264_nal::kSps:
      info.has_sps = true;
      if (!info.sps) {
        info.sps = range;
      }
      break;
    case h264_nal::kPps:
      info.has_pps = true;
      if (!info.pps) {
        info.pps = range;
      }
      break;
    default:
      break;
  }
}

Result<H264PayloadInfo> inspect_stap_a(ByteSpan payload) {
  H264PayloadInfo info;
  info.packetization = H264Packetization::kStapA;
  info.nal_type = h264_nal::kStapA;
  std::size_t position = 1;
  std::size_t count = 0;
  while (position < payload.size()) {
    if (position + 2 > payload.size()) {
      return h264_error("STAP-A NAL size runs past the end");
    }
    const std::size_t size = read_u16(payload.data() + position);
    if (size == 0 || position + 2 + size > payload.size()) {
      return h264_error("STAP-A NAL unit empty or past the end");
    }
    const std::uint8_t type = payload[position + 2] & 0x1F;
    if (type == 0 || type >= 24) {
      return h264_error("STAP-A holds a reserved or aggregation NAL type");
    }
    note_nal(info, type, {position + 2, size}, payload);
    position += 2 + size;
    ++count;
  }
  if (count == 0) {
    return h264_error("STAP-A without NAL units");
  }
  return info;
}

Result<H264PayloadInfo> inspect_fu_a(ByteSpan payload) {
  auto header = parse_fu_a_header(payload);
  if (!header) {
    return header.error();
  }
  H264PayloadInfo info;
  info.packetization = H264Packetization::kFuA;
  info.nal_type = header->nal_type;
  info.fu_start = header->start;
  info.fu_end = header->end;
  if (header->nal_type == h264_nal::kIdrSlice) {
    info.has_idr = true;
    info.starts_idr_picture = header->start && starts_picture(payload.subspan(2));
  }
  // Fragmented parameter sets are flagged but not located: the SPS is not complete here.
  info.has_sps = header->nal_type == h264_nal::kSps;
  info.has_pps = header->nal_type == h264_nal::kPps;
  return info;
}

}  // namespace

Result<H264FuAHeader> parse_fu_a_header(ByteSpan payload) {
  if (payload.size() < 3 || (payload[0] & 0x1F) != h264_nal::kFuA) {
    return h264_error("FU-A shorter than indicator, header and one fragment byte");
  }
  H264FuAHeader header;
  header.forbidden_bit = (payload[0] & 0x80) != 0;
  header.nal_ref_idc = (payload[0] >> 5) & 0x3;
  header.start = (payload[1] & 0x80) != 0;
  header.end = (payload[1] & 0x40) != 0;
  header.nal_type = payload[1] & 0x1F;
  if (header.start && header.end) {
    return h264_error("FU-A with both start and end bits");
  }
  if (header.nal_type == 0 || header.nal_type >= 24) {
    return h264_error("FU-A fragments a reserved or aggregation NAL type");
  }
  return header;
}

Result<H264PayloadInfo> inspect_h264_payload(ByteSpan payload) {
  if (payload.empty()) {
    return h264_error("empty");
  }
  const std::uint8_t type = payload[0] & 0x1F;
  if (type >= 1 && type <= 23) {
    H264PayloadInfo info;
    info.nal_type = type;
    note_nal(info, type, {0, payload.size()}, payload);
    return info;
  }
  if (type == h264_nal::kStapA) {
    return inspect_stap_a(payload);
  }
  if (type == h264_nal::kFuA) {
    return inspect_fu_a(payload);
  }
  return h264_error("NAL type not allowed in packetization-mode 1");
}

std::optional<H264NalRange> H264StapAIterator::next() {
  if (position_ + 2 > payload_.size()) {
    return std::nullopt;
  }
  const std::size_t size = read_u16(payload_.data() + position_);
  if (size == 0 || position_ + 2 + size > payload_.size()) {
    position_ = payload_.size();
    return std::nullopt;
  }
  H264NalRange range{position_ + 2, size};
  position_ += 2 + size;
  return range;
}

std::vector<ByteSpan> split_annex_b(ByteSpan stream) {
  std::vector<ByteSpan> units;
  std::size_t begin = std::string_view::npos;
  std::size_t i = 0;
  const auto close = [&](std::size_t end) {
    while (end > begin && stream[end - 1] == 0) {
      --end;
    }
    if (end > begin) {
      units.push_back(stream.subspan(begin, end - begin));
    }
  };
  while (i + 3 <= stream.size()) {
    if (stream[i] == 0 && stream[i + 1] == 0 && stream[i + 2] == 1) {
      if (begin != std::string_view::npos) {
        close(i);
      }
      i += 3;
      begin = i;
      continue;
    }
    ++i;
  }
  if (begin != std::string_view::npos) {
    close(stream.size());
  }
  return units;
}

}  // namespace ivs::proto
