#include "proto/rtp_rtx.hpp"

#include <gtest/gtest.h>

#include "proto/rtp_builder.hpp"

namespace ivs::proto {
namespace {

RtpPacket original_packet() {
  RtpPacket packet;
  packet.marker = true;
  packet.payload_type = 96;
  packet.sequence_number = 4242;
  packet.timestamp = 123456;
  packet.ssrc = 0x11111111;
  packet.csrcs = {7};
  packet.extensions = {{1, {0xaa}}, {3, {1, 2, 3}}};
  packet.payload = {0x65, 0x88, 0x84, 0x00};
  packet.padding_size = 4;
  return packet;
}

TEST(RtpRtx, WrapsAndUnwrapsPerRfc4588) {
  const Bytes original = *original_packet().serialize();
  auto view = parse_rtp(original);
  ASSERT_TRUE(view);
  Bytes rtx(rtx_packet_size(*view));
  auto written = write_rtx_packet(rtx, *view, 97, 0x22222222, 7);
  ASSERT_TRUE(written);
  EXPECT_EQ(*written, rtx.size());

  auto rtx_view = parse_rtp(rtx);
  ASSERT_TRUE(rtx_view) << rtx_view.error().message;
  EXPECT_EQ(rtx_view->payload_type, 97);
  EXPECT_EQ(rtx_view->ssrc, 0x22222222u);
  EXPECT_EQ(rtx_view->sequence_number, 7);
  EXPECT_EQ(rtx_view->timestamp, 123456u);
  EXPECT_TRUE(rtx_view->marker);
  EXPECT_EQ(rtx_view->padding_size, 0u);
  EXPECT_EQ(*rtx_original_sequence_number(*rtx_view), 4242);
  EXPECT_EQ(rtx_view->payload().size(), 6u);
  EXPECT_TRUE(rtx_view->extension(3));

  Bytes restored(rtx.size());
  auto unwrapped = unwrap_rtx_packet(restored, *rtx_view, 96, 0x11111111);
  ASSERT_TRUE(unwrapped);
  restored.resize(*unwrapped);
  auto expected = original_packet();
  expected.padding_size = 0;
  EXPECT_EQ(RtpPacket::from_view(*parse_rtp(restored)), expected);
}

TEST(RtpRtx, RejectsShortBuffersAndPayloads) {
  const Bytes original = *original_packet().serialize();
  auto view = parse_rtp(original);
  Bytes small(rtx_packet_size(*view) - 1);
  EXPECT_FALSE(write_rtx_packet(small, *view, 97, 1, 1));

  RtpPacket padding_only;
  padding_only.padding_size = 10;
  const Bytes probe = *padding_only.serialize();
  auto probe_view = parse_rtp(probe);
  EXPECT_FALSE(rtx_original_sequence_number(*probe_view));
  Bytes out(100);
  EXPECT_FALSE(unwrap_rtx_packet(out, *probe_view, 96, 1));
}

}  // namespace
}  // namespace ivs::proto
