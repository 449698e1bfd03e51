#include "proto/h264_sps.hpp"

#include <string>

#include "proto/h264_bit_reader.hpp"

namespace ivs::proto {
namespace {

// Sizes beyond any level in Table A-1 (level 6.2 allows 139264 macroblocks per frame); the
// bound keeps the pixel arithmetic far from overflow.
constexpr std::uint32_t kMaxMacroblocksPerSide = 1024;

Error sps_error(const char* problem) {
  return make_error(std::string("H.264 SPS: ") + problem);
}

bool has_chroma_info(std::uint8_t profile_idc) {
  switch (profile_idc) {
    case 100:
    case 110:
    case 122:
    case 244:
    case 44:
    case 83:
    case 86:
    case 118:
    case 128:
    case 138:
    case 139:
    case 134:
    case 135:
      return true;
    default:
      return false;
  }
}

// scaling_list() of §7.3.2.1.1.1, read only to get past it.
bool skip_scaling_list(H264BitReader& reader, int size) {
  std::int32_t last_scale = 8;
  std::int32_t next_scale = 8;
  for (int j = 0; j < size; ++j) {
    if (next_scale != 0) {
      auto delta = reader.read_signed_exp_golomb();
      if (!delta || *delta < -128 || *delta > 127) {
        return false;
      }
      next_scale = (last_scale + *delta + 256) % 256;
    }
    last_scale = next_scale == 0 ? last_scale : next_scale;
  }
  return true;
}

// The chroma/bit-depth/scaling block present only for the high profiles.
bool read_high_profile_fields(H264BitReader& reader, H264Sps& sps) {
  auto chroma = reader.read_unsigned_exp_golomb();
  if (!chroma || *chroma > 3) {
    return false;
  }
  sps.chroma_format_idc = *chroma;
  if (sps.chroma_format_idc == 3) {
    auto separate = reader.read_flag();
    if (!separate) {
      return false;
    }
    sps.separate_colour_plane = *separate;
  }
  auto luma = reader.read_unsigned_exp_golomb();
  auto chroma_depth = reader.read_unsigned_exp_golomb();
  auto bypass = reader.read_flag();
  auto matrix = reader.read_flag();
  if (!luma || !chroma_depth || !bypass || !matrix || *luma > 6 || *chroma_depth > 6) {
    return false;
  }
  sps.bit_depth_luma = 8 + *luma;
  sps.bit_depth_chroma = 8 + *chroma_depth;
  sps.has_scaling_matrix = *matrix;
  if (*matrix) {
    const int lists = sps.chroma_format_idc != 3 ? 8 : 12;
    for (int i = 0; i < lists; ++i) {
      auto present = reader.read_flag();
      if (!present || (*present && !skip_scaling_list(reader, i < 6 ? 16 : 64))) {
        return false;
      }
    }
  }
  return true;
}

bool read_picture_order_fields(H264BitReader& reader, H264Sps& sps) {
  auto type = reader.read_unsigned_exp_golomb();
  if (!type || *type > 2) {
    return false;
  }
  sps.pic_order_cnt_type = *type;
  if (*type == 0) {
    auto log2_max_lsb = reader.read_unsigned_exp_golomb();
    return log2_max_lsb && *log2_max_lsb <= 12;
  }
  if (*type == 1) {
    auto always_zero = reader.read_flag();
    auto non_ref = reader.read_signed_exp_golomb();
    auto top_to_bottom = reader.read_signed_exp_golomb();
    auto cycle = reader.read_unsigned_exp_golomb();
    if (!always_zero || !non_ref || !top_to_bottom || !cycle || *cycle > 255) {
      return false;
    }
    for (std::uint32_t i = 0; i < *cycle; ++i) {
      if (!reader.read_signed_exp_golomb()) {
        return false;
      }
    }
  }
  return true;
}

// From max_num_ref_frames through the cropping rectangle. Returns nullptr on success, else
// what was wrong.
const char* read_frame_geometry(H264BitReader& reader, H264Sps& sps) {
  auto refs = reader.read_unsigned_exp_golomb();
  auto gaps = reader.read_flag();
  auto width = reader.read_unsigned_exp_golomb();
  auto height = reader.read_unsigned_exp_golomb();
  auto frame_mbs_only = reader.read_flag();
  if (!refs || !gaps || !width || !height || !frame_mbs_only || *width >= kMaxMacroblocksPerSide ||
      *height >= kMaxMacroblocksPerSide) {
    return "truncated or oversized picture dimensions";
  }
  sps.max_num_ref_frames = *refs;
  sps.width_in_macroblocks = *width + 1;
  sps.height_in_map_units = *height + 1;
  sps.frame_mbs_only = *frame_mbs_only;
  if (!sps.frame_mbs_only && !reader.read_flag()) {  // mb_adaptive_frame_field_flag
    return "truncated before mb_adaptive_frame_field_flag";
  }
  auto direct_8x8 = reader.read_flag();
  auto cropping = reader.read_flag();
  if (!direct_8x8 || !cropping) {
    return "truncated before frame cropping";
  }
  if (*cropping) {
    auto left = reader.read_unsigned_exp_golomb();
    auto right = reader.read_unsigned_exp_golomb();
    auto top = reader.read_unsigned_exp_golomb();
    auto bottom = reader.read_unsigned_exp_golomb();
    if (!left || !right || !top || !bottom) {
      return "truncated frame cropping";
    }
    sps.crop_left = *left;
    sps.crop_right = *right;
    sps.crop_top = *top;
    sps.crop_bottom = *bottom;
  }
  return nullptr;
}

// Frame size and cropping to pixels (§7.4.2.1.1, Table 6-1).
bool compute_size(H264Sps& sps) {
  const std::uint32_t chroma_array_type = sps.separate_colour_plane ? 0 : sps.chroma_format_idc;
  const std::uint32_t frame_factor = sps.frame_mbs_only ? 1 : 2;
  std::uint32_t crop_unit_x = 1;
  std::uint32_t crop_unit_y = frame_factor;
  if (chroma_array_type != 0) {
    const std::uint32_t sub_width = chroma_array_type == 3 ? 1 : 2;
    const std::uint32_t sub_height = chroma_array_type == 1 ? 2 : 1;
    crop_unit_x = sub_width;
    crop_unit_y = sub_height * frame_factor;
  }
  const std::uint64_t full_width = 16ull * sps.width_in_macroblocks;
  const std::uint64_t full_height = 16ull * frame_factor * sps.height_in_map_units;
  const std::uint64_t crop_x =
      std::uint64_t{crop_unit_x} * (std::uint64_t{sps.crop_left} + sps.crop_right);
  const std::uint64_t crop_y =
      std::uint64_t{crop_unit_y} * (std::uint64_t{sps.crop_top} + sps.crop_bottom);
  if (crop_x >= full_width || crop_y >= full_height) {
    return false;
  }
  sps.width = static_cast<std::uint32_t>(full_width - crop_x);
  sps.height = static_cast<std::uint32_t>(full_height - crop_y);
  return true;
}

}  // namespace

Result<H264Sps> parse_h264_sps(ByteSpan nal_unit) {
  if (nal_unit.empty() || (nal_unit[0] & 0x1F) != 7) {
    return sps_error("not an SPS NAL unit (type 7)");
  }
  H264BitReader reader(nal_unit.subspan(1));
  H264Sps sps;
  auto profile = reader.read_bits(8);
  auto constraints = reader.read_bits(8);
  auto level = reader.read_bits(8);
  auto id = reader.read_unsigned_exp_golomb();
  if (!profile || !constraints || !level || !id || *id > 31) {
    return sps_error("truncated profile, level or id");
  }
  sps.profile_idc = static_cast<std::uint8_t>(*profile);
  sps.constraint_flags = static_cast<std::uint8_t>(*constraints);
  sps.level_idc = static_cast<std::uint8_t>(*level);
  sps.sps_id = *id;
  if (has_chroma_info(sps.profile_idc) && !read_high_profile_fields(reader, sps)) {
    return sps_error("bad chroma format, bit depth or scaling list");
  }
  auto log2_max_frame_num = reader.read_unsigned_exp_golomb();
  if (!log2_max_frame_num || *log2_max_frame_num > 12) {
    return sps_error("bad log2_max_frame_num");
  }
  sps.log2_max_frame_num = *log2_max_frame_num + 4;
  if (!read_picture_order_fields(reader, sps)) {
    return sps_error("bad picture order count fields");
  }
  if (const char* fault = read_frame_geometry(reader, sps)) {
    return sps_error(fault);
  }
  if (!compute_size(sps)) {
    return sps_error("cropping removes the whole picture");
  }
  return sps;
}

}  // namespace ivs::proto
