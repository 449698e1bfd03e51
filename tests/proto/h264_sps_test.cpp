// SPS parsing and the IVS limits check against SPS bytes produced by ffmpeg/libx264 (see
// testdata/h264/README.md for the commands), plus hand-built edge cases.
#include "proto/h264_sps.hpp"

#include <gtest/gtest.h>

#include "proto/h264_bit_reader.hpp"
#include "proto/h264_profile.hpp"
#include "support/testdata.hpp"

namespace ivs::proto {
namespace {

Bytes load(const std::string& name) {
  const std::string text = test::read_testdata("h264/" + name);
  return Bytes(text.begin(), text.end());
}

struct SpsCase {
  const char* file;
  std::uint8_t profile_idc;
  std::uint32_t width;
  std::uint32_t height;
  H264Profile profile;
  bool baseline;
  bool within_720p;
};

class CapturedSps : public testing::TestWithParam<SpsCase> {};

TEST_P(CapturedSps, ParsesProfileAndResolution) {
  const SpsCase& expected = GetParam();
  const Bytes nal = load(expected.file);
  auto sps = parse_h264_sps(nal);
  ASSERT_TRUE(sps) << sps.error().message;
  EXPECT_EQ(sps->profile_idc, expected.profile_idc);
  EXPECT_EQ(sps->width, expected.width);
  EXPECT_EQ(sps->height, expected.height);
  auto check = check_ivs_video_limits(*sps);
  EXPECT_EQ(check.profile, expected.profile) << to_string(check.profile);
  EXPECT_EQ(check.baseline, expected.baseline);
  EXPECT_EQ(check.within_720p, expected.within_720p);
  EXPECT_EQ(check.ok(), expected.baseline && expected.within_720p) << check.describe();

  // Every truncation is an error, never a crash or a read past the end.
  for (std::size_t size = 0; size < 6; ++size) {
    EXPECT_FALSE(parse_h264_sps(ByteSpan(nal).first(size))) << size;
  }
  for (std::size_t size = 6; size < nal.size(); ++size) {
    (void)parse_h264_sps(ByteSpan(nal).first(size));
  }
}

INSTANTIATE_TEST_SUITE_P(
    X264, CapturedSps,
    testing::Values(
        SpsCase{"base720.sps", 66, 1280, 720, H264Profile::kConstrainedBaseline, true, true},
        SpsCase{"base360.sps", 66, 640, 360, H264Profile::kConstrainedBaseline, true, true},
        // 1080 = 68 macroblocks − 8 lines of cropping.
        SpsCase{"high1080.sps", 100, 1920, 1080, H264Profile::kHigh, false, false},
        // Interlaced: frame_mbs_only_flag = 0, 34 map units of 32 lines.
        SpsCase{"high1080i.sps", 100, 1920, 1080, H264Profile::kHigh, false, false},
        // 4:4:4: crop units are single pixels.
        SpsCase{"high444_642x362.sps", 244, 642, 362, H264Profile::kHigh444, false, true},
        SpsCase{"main_portrait.sps", 77, 720, 1280, H264Profile::kMain, false, true}),
    [](const auto& info) {
      std::string name = info.param.file;
      for (char& c : name) {
        if (!std::isalnum(static_cast<unsigned char>(c)))
          c = '_';
      }
      return name;
    });

TEST(H264Sps, CapturedFieldsOfTheBaselineSps) {
  auto sps = parse_h264_sps(load("base720.sps"));
  ASSERT_TRUE(sps);
  EXPECT_EQ(sps->constraint_flags, 0xc0);  // x264 sets constraint_set0 and set1 for baseline
  EXPECT_EQ(sps->level_idc, 31);
  EXPECT_TRUE(sps->frame_mbs_only);
  EXPECT_EQ(sps->width_in_macroblocks, 80u);
  EXPECT_EQ(sps->height_in_map_units, 45u);
  EXPECT_EQ(sps->chroma_format_idc, 1u);
}

TEST(H264Sps, InterlacedSpsUsesFieldCropUnits) {
  auto sps = parse_h264_sps(load("high1080i.sps"));
  ASSERT_TRUE(sps);
  EXPECT_FALSE(sps->frame_mbs_only);
  EXPECT_EQ(sps->height_in_map_units, 34u);
  EXPECT_EQ(sps->crop_bottom, 2u);  // 2 × CropUnitY 4 = 8 lines
}

// Writes RBSP bits and escapes them into a NAL unit, for SPS shapes x264 never emits (it puts
// custom quantizer matrices in the PPS).
class NalWriter {
 public:
  void bits(std::uint32_t value, int count) {
    for (int i = count - 1; i >= 0; --i) {
      bits_.push_back((value >> i) & 1);
    }
  }
  void ue(std::uint32_t value) {
    const std::uint64_t code = std::uint64_t{value} + 1;
    int length = 0;
    while ((code >> length) > 1) {
      ++length;
    }
    bits(0, length);
    bits(static_cast<std::uint32_t>(code), length + 1);
  }
  void se(std::int32_t value) { ue(value > 0 ? 2 * value - 1 : -2 * value); }
  // NAL header, RBSP with stop bit, then emulation prevention (H.264 §7.4.1).
  Bytes finish(std::uint8_t nal_header) {
    bits(1, 1);
    while (bits_.size() % 8 != 0) {
      bits_.push_back(0);
    }
    Bytes out = {nal_header};
    int zeros = 0;
    for (std::size_t i = 0; i < bits_.size(); i += 8) {
      std::uint8_t byte = 0;
      for (int b = 0; b < 8; ++b) {
        byte = static_cast<std::uint8_t>((byte << 1) | bits_[i + b]);
      }
      if (zeros >= 2 && byte <= 3) {
        out.push_back(0x03);
        zeros = 0;
      }
      zeros = byte == 0 ? zeros + 1 : 0;
      out.push_back(byte);
    }
    return out;
  }

 private:
  std::vector<int> bits_;
};

// High profile 1280x720 with a sequence scaling matrix (list 0 explicit, list 6 "use default")
// and picture order count type 1.
Bytes high_profile_sps_with_scaling_lists() {
  NalWriter w;
  w.bits(100, 8);
  w.bits(0, 8);
  w.bits(0, 8);
  w.ue(0);  // sps id
  w.ue(1);  // 4:2:0
  w.ue(0);
  w.ue(0);
  w.bits(0, 1);  // qpprime_y_zero_transform_bypass
  w.bits(1, 1);  // seq_scaling_matrix_present
  for (int list = 0; list < 8; ++list) {
    w.bits(list == 0 || list == 6 ? 1 : 0, 1);
    if (list == 0) {
      for (int j = 0; j < 16; ++j) {
        w.se(j % 2 == 0 ? 3 : -2);
      }
    } else if (list == 6) {
      w.se(-8);  // next_scale 0: use the default list, no more deltas
    }
  }
  w.ue(0);  // log2_max_frame_num - 4
  w.ue(1);  // pic_order_cnt_type 1
  w.bits(0, 1);
  w.se(-1);
  w.se(2);
  w.ue(2);  // two offsets in the cycle
  w.se(5);
  w.se(-5);
  w.ue(1);  // max_num_ref_frames
  w.bits(0, 1);
  w.ue(79);      // 80 macroblocks wide
  w.ue(44);      // 45 high
  w.bits(1, 1);  // frame_mbs_only
  w.bits(1, 1);  // direct_8x8_inference
  w.bits(0, 1);  // no cropping
  w.bits(0, 1);  // no VUI
  return w.finish(0x67);
}

TEST(H264Sps, SkipsScalingListsAndReadsPictureOrderType1) {
  const Bytes nal = high_profile_sps_with_scaling_lists();
  auto sps = parse_h264_sps(nal);
  ASSERT_TRUE(sps) << sps.error().message;
  EXPECT_TRUE(sps->has_scaling_matrix);
  EXPECT_EQ(sps->pic_order_cnt_type, 1u);
  EXPECT_EQ(sps->max_num_ref_frames, 1u);
  EXPECT_EQ(sps->width, 1280u);
  EXPECT_EQ(sps->height, 720u);
  EXPECT_FALSE(check_ivs_video_limits(*sps).baseline);
  EXPECT_TRUE(check_ivs_video_limits(*sps).within_720p);
}

TEST(H264Sps, RejectsNonSpsAndHostileValues) {
  EXPECT_FALSE(parse_h264_sps(Bytes{}));
  EXPECT_FALSE(parse_h264_sps(Bytes{0x68, 0xce, 0x38, 0x80}));  // a PPS
  // Baseline, level 31, id 0, then 40 zero bits: an Exp-Golomb code longer than 32 bits.
  EXPECT_FALSE(parse_h264_sps(Bytes{0x67, 0x42, 0xc0, 0x1f, 0x80, 0, 0, 0, 0, 0}));
}

TEST(H264BitReader, ReadsExpGolombAcrossEmulationPrevention) {
  // 0x00 0x00 0x03 0x01: the 0x03 is dropped, so the RBSP is 00 00 01.
  const Bytes escaped = {0x00, 0x00, 0x03, 0x01};
  H264BitReader reader(escaped);
  EXPECT_EQ(reader.read_bits(23), 0u);
  EXPECT_EQ(reader.read_flag(), true);
  EXPECT_FALSE(reader.read_flag());
  // ue: 1 → 0, 010 → 1, 011 → 2, 00100 → 3; se: 010 → +1, 011 → -1.
  const Bytes codes = {0b10100110, 0b01000100, 0b11000000};
  H264BitReader golomb(codes);
  EXPECT_EQ(golomb.read_unsigned_exp_golomb(), 0u);
  EXPECT_EQ(golomb.read_unsigned_exp_golomb(), 1u);
  EXPECT_EQ(golomb.read_unsigned_exp_golomb(), 2u);
  EXPECT_EQ(golomb.read_unsigned_exp_golomb(), 3u);
  EXPECT_EQ(golomb.read_signed_exp_golomb(), 1);
  EXPECT_EQ(golomb.read_signed_exp_golomb(), -1);
}

TEST(H264Profile, ParsesProfileLevelIdsFromSdp) {
  auto obs = parse_profile_level_id("42e01f");
  ASSERT_TRUE(obs);
  EXPECT_EQ(obs->profile(), H264Profile::kConstrainedBaseline);
  EXPECT_EQ(obs->level_idc, 0x1f);
  EXPECT_TRUE(obs->baseline_compatible());
  EXPECT_EQ(obs->to_string(), "42e01f");
  EXPECT_EQ(parse_profile_level_id("42001F")->profile(), H264Profile::kBaseline);
  EXPECT_EQ(parse_profile_level_id("4d001f")->profile(), H264Profile::kMain);
  EXPECT_EQ(parse_profile_level_id("4d801f")->profile(), H264Profile::kConstrainedBaseline);
  EXPECT_EQ(parse_profile_level_id("640c1f")->profile(), H264Profile::kConstrainedHigh);
  EXPECT_EQ(parse_profile_level_id("640032")->profile(), H264Profile::kHigh);
  EXPECT_FALSE(parse_profile_level_id("640032")->baseline_compatible());
  EXPECT_FALSE(parse_profile_level_id("42e01"));
  EXPECT_FALSE(parse_profile_level_id("42e01g"));
}

TEST(H264Profile, FindsProfileLevelIdInFmtp) {
  auto chromium = profile_level_id_from_fmtp(
      "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f");
  ASSERT_TRUE(chromium);
  EXPECT_EQ(chromium->to_string(), "42e01f");
  auto spaced = profile_level_id_from_fmtp("packetization-mode=1; Profile-Level-Id=640c1f ");
  ASSERT_TRUE(spaced);
  EXPECT_EQ(spaced->profile(), H264Profile::kConstrainedHigh);
  EXPECT_FALSE(profile_level_id_from_fmtp("packetization-mode=1"));
  EXPECT_FALSE(profile_level_id_from_fmtp("profile-level-id=zz"));
  EXPECT_FALSE(profile_level_id_from_fmtp(""));
}

TEST(H264Profile, DescribesWhatIvsWouldReject) {
  auto sps = parse_h264_sps(load("high1080.sps"));
  ASSERT_TRUE(sps);
  EXPECT_EQ(check_ivs_video_limits(*sps).describe(),
            "H.264 High 1920x1080: IVS needs Baseline and at most 720p");
  auto base = parse_h264_sps(load("base720.sps"));
  EXPECT_EQ(check_ivs_video_limits(*base).describe(),
            "H.264 Constrained Baseline 1280x720: within IVS limits");
}

}  // namespace
}  // namespace ivs::proto
