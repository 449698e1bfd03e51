// H.264 sequence parameter set (ITU-T H.264 §7.3.2.1.1), parsed far enough to learn the profile,
// level and picture size. The server inspects the publisher's SPS because Amazon IVS drops a
// participant whose video is not Baseline or exceeds 720p (DESIGN.md §3, §5), and OBS labels
// its offer 42e01f whatever its encoder really runs, so the SDP cannot be trusted for this.
//
// Parsed: profile_idc, the constraint_set flags, level_idc, seq_parameter_set_id; for the high
// profiles chroma_format_idc, separate_colour_plane_flag, bit depths and the scaling lists
// (skipped, §7.3.2.1.1.1); log2_max_frame_num, the picture order count fields, max_num_ref_frames,
// the picture size in macroblocks, frame_mbs_only_flag and frame cropping. VUI is not parsed.
//
// Width and height follow §7.4.2.1.1: 16 × width in macroblocks, 16 × (2 − frame_mbs_only_flag)
// × height in map units, minus the cropping rectangle in CropUnitX/CropUnitY units (which depend
// on the chroma format and on frame_mbs_only_flag).
#pragma once

#include <cstdint>

#include "proto/bytes.hpp"
#include "proto/result.hpp"

namespace ivs::proto {

struct H264Sps {
  std::uint8_t profile_idc = 0;
  std::uint8_t constraint_flags = 0;  // constraint_set0..5 in bits 7..2, as in profile-level-id
  std::uint8_t level_idc = 0;
  std::uint32_t sps_id = 0;

  std::uint32_t chroma_format_idc = 1;  // 4:2:0 unless a high profile says otherwise
  bool separate_colour_plane = false;
  std::uint32_t bit_depth_luma = 8;
  std::uint32_t bit_depth_chroma = 8;
  bool has_scaling_matrix = false;

  std::uint32_t log2_max_frame_num = 4;
  std::uint32_t pic_order_cnt_type = 0;
  std::uint32_t max_num_ref_frames = 0;
  std::uint32_t width_in_macroblocks = 0;
  std::uint32_t height_in_map_units = 0;
  bool frame_mbs_only = true;
  std::uint32_t crop_left = 0, crop_right = 0, crop_top = 0, crop_bottom = 0;

  // Displayed picture size in pixels, after cropping.
  std::uint32_t width = 0;
  std::uint32_t height = 0;

  bool constraint_set0() const { return (constraint_flags & 0x80) != 0; }
  bool constraint_set1() const { return (constraint_flags & 0x40) != 0; }
  bool constraint_set3() const { return (constraint_flags & 0x10) != 0; }
};

// Parses an SPS NAL unit: the one-byte NAL header (type 7) followed by the escaped RBSP.
Result<H264Sps> parse_h264_sps(ByteSpan nal_unit);

}  // namespace ivs::proto
