#include "proto/rtp_rewrite.hpp"

#include <gtest/gtest.h>

#include "proto/rtp_builder.hpp"
#include "proto/rtp_sequence.hpp"

namespace ivs::proto {
namespace {

Bytes build(const RtpPacket& packet) {
  auto bytes = packet.serialize();
  EXPECT_TRUE(bytes) << bytes.error().message;
  return bytes ? *bytes : Bytes{};
}

RtpPacket sample_packet(bool two_byte) {
  RtpPacket packet;
  packet.marker = true;
  packet.payload_type = 102;
  packet.sequence_number = 1000;
  packet.timestamp = 90000;
  packet.ssrc = 0xdeadbeef;
  packet.extensions = {{1, {0x11}}, {3, {0x30, 0x31, 0x32}}, {4, {0x40, 0x41}}};
  packet.force_two_byte_extensions = two_byte;
  packet.payload = {9, 8, 7, 6, 5};
  return packet;
}

TEST(RtpRewrite, FixedHeaderSettersTouchOnlyTheirField) {
  const Bytes original = build(sample_packet(false));
  auto view = parse_rtp(original);
  ASSERT_TRUE(view);
  Bytes copy = original;
  set_rtp_ssrc(copy, 0x01020304);
  set_rtp_sequence_number(copy, 65535);
  set_rtp_timestamp(copy, 0xfffffff0);
  set_rtp_payload_type(copy, 96);
  set_rtp_marker(copy, false);
  auto rewritten = parse_rtp(copy);
  ASSERT_TRUE(rewritten);
  EXPECT_EQ(rewritten->ssrc, 0x01020304u);
  EXPECT_EQ(rewritten->sequence_number, 65535);
  EXPECT_EQ(rewritten->timestamp, 0xfffffff0u);
  EXPECT_EQ(rewritten->payload_type, 96);
  EXPECT_FALSE(rewritten->marker);
  EXPECT_TRUE(Bytes(copy.begin() + 12, copy.end()) == Bytes(original.begin() + 12, original.end()));
  set_rtp_marker(copy, true);
  EXPECT_EQ(copy[1], 0x80 | 96);  // marker does not disturb the payload type
}

TEST(RtpRewrite, SettersIgnoreBuffersShorterThanTheHeader) {
  Bytes tiny = {0x80, 0x60, 0x00};
  set_rtp_ssrc(tiny, 1);
  set_rtp_sequence_number(tiny, 1);
  EXPECT_EQ(tiny, (Bytes{0x80, 0x60, 0x00}));
}

class RtpRemap : public testing::TestWithParam<bool> {};

TEST_P(RtpRemap, RemapsIdsAndDropsUnmappedOnesInPlace) {
  const Bytes original = build(sample_packet(GetParam()));
  auto view = parse_rtp(original);
  ASSERT_TRUE(view);
  RtpExtensionIdMap map;
  map.set(1, 7);
  map.set(4, 2);  // 3 is not mapped: dropped
  Bytes copy = original;
  auto counts = remap_rtp_extension_ids(copy, *view, map);
  EXPECT_EQ(counts.remapped, 2u);
  EXPECT_EQ(counts.dropped, 1u);
  ASSERT_EQ(copy.size(), original.size());

  auto rewritten = parse_rtp(copy);
  ASSERT_TRUE(rewritten) << rewritten.error().message;
  EXPECT_EQ(rewritten->extension_form, view->extension_form);
  EXPECT_FALSE(rewritten->extension(1));
  EXPECT_FALSE(rewritten->extension(3));
  EXPECT_FALSE(rewritten->extension(4));
  ASSERT_TRUE(rewritten->extension(7));
  EXPECT_EQ((*rewritten->extension(7))[0], 0x11);
  ASSERT_TRUE(rewritten->extension(2));
  EXPECT_EQ(rewritten->extension(2)->size(), 2u);
  EXPECT_EQ((*rewritten->extension(2))[1], 0x41);
  EXPECT_TRUE(rewritten->payload().size() == 5 && rewritten->payload()[0] == 9);

  // Mapping back restores the original bytes except for the dropped element, now padding.
  RtpExtensionIdMap back;
  back.set(7, 1);
  back.set(2, 4);
  remap_rtp_extension_ids(copy, *rewritten, back);
  auto restored = RtpPacket::from_view(*parse_rtp(copy));
  auto expected = sample_packet(GetParam());
  expected.extensions.erase(expected.extensions.begin() + 1);
  EXPECT_EQ(restored, expected);
}

TEST_P(RtpRemap, IdentityMapLeavesBytesUnchanged) {
  const Bytes original = build(sample_packet(GetParam()));
  auto view = parse_rtp(original);
  ASSERT_TRUE(view);
  Bytes copy = original;
  auto counts = remap_rtp_extension_ids(copy, *view, RtpExtensionIdMap::identity());
  EXPECT_EQ(counts.remapped, 3u);
  EXPECT_EQ(copy, original);
}

TEST_P(RtpRemap, DropZeroesOnlyTheNamedElement) {
  const Bytes original = build(sample_packet(GetParam()));
  auto view = parse_rtp(original);
  ASSERT_TRUE(view);
  Bytes copy = original;
  EXPECT_EQ(drop_rtp_extension(copy, *view, 3), 1u);
  EXPECT_EQ(drop_rtp_extension(copy, *view, 9), 0u);
  auto rewritten = parse_rtp(copy);
  ASSERT_TRUE(rewritten);
  EXPECT_FALSE(rewritten->extension(3));
  EXPECT_TRUE(rewritten->extension(1));
  EXPECT_TRUE(rewritten->extension(4));
}

TEST_P(RtpRemap, MutableExtensionWritesThrough) {
  Bytes copy = build(sample_packet(GetParam()));
  auto view = parse_rtp(copy);
  ASSERT_TRUE(view);
  auto data = mutable_rtp_extension(copy, *view, 4);
  ASSERT_EQ(data.size(), 2u);
  write_u16(data.data(), 0xabcd);
  EXPECT_EQ(read_u16(parse_rtp(copy)->extension(4)->data()), 0xabcd);
  EXPECT_TRUE(mutable_rtp_extension(copy, *view, 5).empty());
}

INSTANTIATE_TEST_SUITE_P(BothForms, RtpRemap, testing::Bool(),
                         [](const auto& info) { return info.param ? "TwoByte" : "OneByte"; });

TEST(RtpRewrite, OneByteFormCannotCarryIdsAboveFourteen) {
  const Bytes original = build(sample_packet(false));
  auto view = parse_rtp(original);
  ASSERT_TRUE(view);
  RtpExtensionIdMap map = RtpExtensionIdMap::identity();
  map.set(1, 15);
  map.set(3, 200);
  Bytes copy = original;
  auto counts = remap_rtp_extension_ids(copy, *view, map);
  EXPECT_EQ(counts.dropped, 2u);
  auto rewritten = parse_rtp(copy);
  ASSERT_TRUE(rewritten);
  EXPECT_TRUE(rewritten->extension(4));  // a 15 would have hidden every later element
}

TEST(RtpRewrite, RemapWithoutExtensionsIsANoOp) {
  RtpPacket packet;
  packet.payload = {1, 2, 3};
  const Bytes original = build(packet);
  Bytes copy = original;
  auto counts = remap_rtp_extension_ids(copy, *parse_rtp(original), RtpExtensionIdMap{});
  EXPECT_EQ(counts.remapped + counts.dropped, 0u);
  EXPECT_EQ(copy, original);
}

TEST(RtpSequence, ComparesAcrossTheWrap) {
  EXPECT_TRUE(is_newer_sequence_number(1, 0));
  EXPECT_TRUE(is_newer_sequence_number(0, 65535));
  EXPECT_TRUE(is_newer_sequence_number(100, 65000));
  EXPECT_FALSE(is_newer_sequence_number(65535, 0));
  EXPECT_FALSE(is_newer_sequence_number(5, 5));
  // Exactly half the space apart: the larger value wins, so the relation stays antisymmetric.
  EXPECT_TRUE(is_newer_sequence_number(0x8000, 0));
  EXPECT_FALSE(is_newer_sequence_number(0, 0x8000));
  EXPECT_TRUE(is_newer_timestamp(10, 0xfffffff0u));
  EXPECT_EQ(wrapping_difference<std::uint16_t>(2, 65534), 4);
  EXPECT_EQ(wrapping_difference<std::uint16_t>(65534, 2), -4);
}

TEST(RtpSequence, UnwrapsForwardAndBackwardAcrossWraps) {
  SequenceNumberUnwrapper unwrapper;
  EXPECT_EQ(unwrapper.unwrap(65534), 65534);
  EXPECT_EQ(unwrapper.unwrap(65535), 65535);
  EXPECT_EQ(unwrapper.unwrap(0), 65536);
  EXPECT_EQ(unwrapper.unwrap(65533), 65533);  // reordered from before the wrap
  EXPECT_EQ(unwrapper.unwrap(2), 65538);
  EXPECT_EQ(unwrapper.peek(1), 65537);
  EXPECT_EQ(*unwrapper.last(), 65538);
  std::int64_t expected = 65538;
  for (int i = 0; i < 200000; ++i) {
    ++expected;
    ASSERT_EQ(unwrapper.unwrap(static_cast<std::uint16_t>(expected)), expected);
  }
}

TEST(RtpSequence, TimestampUnwrapperMayGoBelowTheFirstValue) {
  TimestampUnwrapper unwrapper;
  EXPECT_EQ(unwrapper.unwrap(10), 10);
  EXPECT_EQ(unwrapper.unwrap(0xfffffff0u), -16);
  EXPECT_EQ(unwrapper.unwrap(20), 20);
}

}  // namespace
}  // namespace ivs::proto
