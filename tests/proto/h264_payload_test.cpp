// RFC 6184 payload inspection and packetization, over NAL units captured from ffmpeg/libx264
// (testdata/h264/README.md) and hand-built malformed payloads.
#include "proto/h264_payload.hpp"

#include <gtest/gtest.h>

#include "proto/h264_packetizer.hpp"
#include "support/testdata.hpp"

namespace ivs::proto {
namespace {

Bytes load(const std::string& name) {
  const std::string text = test::read_testdata("h264/" + name);
  return Bytes(text.begin(), text.end());
}

// Reassembles the NAL units carried by one access unit's payloads.
std::vector<Bytes> depacketize(const std::vector<Bytes>& payloads) {
  std::vector<Bytes> units;
  for (const auto& payload : payloads) {
    auto info = inspect_h264_payload(payload);
    EXPECT_TRUE(info) << info.error().message;
    if (!info) {
      continue;
    }
    if (info->packetization == H264Packetization::kSingleNal) {
      units.push_back(payload);
    } else if (info->packetization == H264Packetization::kStapA) {
      H264StapAIterator walk(payload);
      while (auto range = walk.next()) {
        auto unit = range->in(payload);
        units.emplace_back(unit.begin(), unit.end());
      }
    } else {
      auto header = *parse_fu_a_header(payload);
      if (header.start) {
        units.push_back({header.reconstructed_nal_header()});
      }
      units.back().insert(units.back().end(), payload.begin() + 2, payload.end());
    }
  }
  return units;
}

TEST(H264Payload, SingleNalUnits) {
  const Bytes idr = load("base720_idr_head.nal");
  auto info = inspect_h264_payload(idr);
  ASSERT_TRUE(info) << info.error().message;
  EXPECT_EQ(info->packetization, H264Packetization::kSingleNal);
  EXPECT_EQ(info->nal_type, h264_nal::kIdrSlice);
  EXPECT_TRUE(info->has_idr);
  EXPECT_TRUE(info->starts_idr_picture);
  EXPECT_TRUE(info->is_keyframe());

  auto p_slice = inspect_h264_payload(load("base720_p_head.nal"));
  ASSERT_TRUE(p_slice);
  EXPECT_EQ(p_slice->nal_type, h264_nal::kSlice);
  EXPECT_FALSE(p_slice->is_keyframe());

  const Bytes sps = load("base720.sps");
  auto sps_info = inspect_h264_payload(sps);
  ASSERT_TRUE(sps_info);
  EXPECT_TRUE(sps_info->has_sps);
  EXPECT_TRUE(sps_info->is_keyframe());
  EXPECT_FALSE(sps_info->starts_idr_picture);
  ASSERT_TRUE(sps_info->sps);
  EXPECT_EQ(sps_info->sps->size, sps.size());
}

TEST(H264Payload, IdrSliceThatIsNotTheFirstOfItsPicture) {
  // nal header 0x65, first_mb_in_slice = 3 (ue 00100).
  auto info = inspect_h264_payload(Bytes{0x65, 0b00100000, 0x00});
  ASSERT_TRUE(info);
  EXPECT_TRUE(info->has_idr);
  EXPECT_FALSE(info->starts_idr_picture);
}

TEST(H264Payload, StapAWithParameterSetsAndIdr) {
  const Bytes sps = load("base720.sps");
  const Bytes pps = load("base720.pps");
  const Bytes full_idr = load("base720_idr_head.nal");
  const Bytes idr(full_idr.begin(), full_idr.begin() + 40);
  const std::vector<ByteSpan> units = {sps, pps, idr};
  const Bytes stap = build_stap_a(units);
  EXPECT_EQ(stap[0], 0x78);  // NRI 3 (from the SPS), type 24
  auto info = inspect_h264_payload(stap);
  ASSERT_TRUE(info) << info.error().message;
  EXPECT_EQ(info->packetization, H264Packetization::kStapA);
  EXPECT_TRUE(info->has_sps && info->has_pps && info->has_idr && info->starts_idr_picture);
  ASSERT_TRUE(info->sps && info->pps);
  EXPECT_TRUE(std::equal(sps.begin(), sps.end(), info->sps->in(stap).begin()));
  EXPECT_EQ(info->pps->offset, 1 + 2 + sps.size() + 2);

  H264StapAIterator walk(stap);
  std::vector<std::size_t> sizes;
  while (auto range = walk.next()) {
    sizes.push_back(range->size);
  }
  EXPECT_EQ(sizes, (std::vector<std::size_t>{sps.size(), pps.size(), idr.size()}));
}

TEST(H264Payload, FuAStartMiddleAndEnd) {
  const Bytes idr = load("base720_idr_head.nal");
  auto fragments = fragment_fu_a(idr, 1200);
  ASSERT_EQ(fragments.size(), 3u);
  for (std::size_t i = 0; i < fragments.size(); ++i) {
    EXPECT_LE(fragments[i].size(), 1200u);
    auto info = inspect_h264_payload(fragments[i]);
    ASSERT_TRUE(info) << info.error().message;
    EXPECT_EQ(info->packetization, H264Packetization::kFuA);
    EXPECT_EQ(info->nal_type, h264_nal::kIdrSlice);
    EXPECT_TRUE(info->has_idr);
    EXPECT_EQ(info->fu_start, i == 0);
    EXPECT_EQ(info->fu_end, i == 2);
    EXPECT_EQ(info->starts_idr_picture, i == 0);
  }
  EXPECT_EQ(depacketize(fragments), std::vector<Bytes>{idr});
}

TEST(H264Payload, RejectsMalformedPayloads) {
  const auto rejects = [](Bytes payload, const char* why) {
    EXPECT_FALSE(inspect_h264_payload(payload)) << why;
  };
  rejects({}, "empty");
  rejects({0x00}, "type 0");
  rejects({0x1e, 1}, "type 30");
  rejects({0x79, 0, 1, 0x67}, "STAP-B");
  rejects({0x7a, 0, 0}, "MTAP16");
  rejects({0x7d, 0x85, 0}, "FU-B");
  rejects({0x78}, "STAP-A without units");
  rejects({0x78, 0x00}, "STAP-A with half a size");
  rejects({0x78, 0x00, 0x00}, "STAP-A unit of size 0");
  rejects({0x78, 0x00, 0x05, 0x67, 0x42}, "STAP-A unit past the end");
  rejects({0x78, 0x00, 0x01, 0x67, 0x00}, "STAP-A trailing byte");
  rejects({0x78, 0x00, 0x01, 0x78}, "STAP-A inside STAP-A");
  rejects({0x7c}, "FU-A without header");
  rejects({0x7c, 0x85}, "FU-A without fragment");
  rejects({0x7c, 0xc5, 0x88}, "FU-A with start and end");
  rejects({0x7c, 0x9c, 0x88}, "FU-A of an FU-A");
  rejects({0x7c, 0x80, 0x88}, "FU-A of type 0");
}

TEST(H264Packetizer, AggregatesSmallUnitsAndFragmentsLargeOnes) {
  const Bytes sps = load("base720.sps");
  const Bytes pps = load("base720.pps");
  const Bytes idr = load("base720_idr_head.nal");
  const Bytes sei(300, 0x06);
  const std::vector<ByteSpan> access_unit = {sps, pps, sei, idr};
  auto payloads = packetize_h264(access_unit, 1200);
  // STAP-A(SPS, PPS, SEI), then three FU-A fragments of the 3000-byte IDR.
  ASSERT_EQ(payloads.size(), 4u);
  EXPECT_EQ(payloads[0][0] & 0x1f, h264_nal::kStapA);
  for (std::size_t i = 1; i < 4; ++i) {
    EXPECT_EQ(payloads[i][0] & 0x1f, h264_nal::kFuA);
  }
  EXPECT_EQ(depacketize(payloads), (std::vector<Bytes>{sps, pps, sei, idr}));

  // With a limit too small to aggregate, each unit goes alone.
  auto singles = packetize_h264(access_unit, 30);
  EXPECT_EQ(depacketize(singles), (std::vector<Bytes>{sps, pps, sei, idr}));
  EXPECT_EQ(singles[0], sps);
}

TEST(H264Packetizer, SplitsAnnexBStreams) {
  const Bytes stream = {0, 0, 0, 1, 0x67, 0x42, 0, 0, 1, 0x68, 0xce, 0, 0, 0, 1, 0x65, 0x88, 0};
  auto units = split_annex_b(stream);
  ASSERT_EQ(units.size(), 3u);
  EXPECT_EQ(Bytes(units[0].begin(), units[0].end()), (Bytes{0x67, 0x42}));
  EXPECT_EQ(Bytes(units[1].begin(), units[1].end()), (Bytes{0x68, 0xce}));
  EXPECT_EQ(Bytes(units[2].begin(), units[2].end()), (Bytes{0x65, 0x88}));
  EXPECT_TRUE(split_annex_b(Bytes{1, 2, 3}).empty());
}

}  // namespace
}  // namespace ivs::proto
