#include "proto/rtp_packet.hpp"

#include <gtest/gtest.h>

#include "proto/rtp_builder.hpp"

namespace ivs::proto {
namespace {

// A packet with an RFC 3550 §5.3.1 extension of a non-RFC 8285 profile (0x0001), from Pion's
// RTP test vectors: V=2, X=1, M=1, PT=96.
const Bytes kPionPacket = {0x90, 0xe0, 0x69, 0x8f, 0xd9, 0xc2, 0x93, 0xda, 0x1c,
                           0x64, 0x27, 0x82, 0x00, 0x01, 0x00, 0x01, 0xff, 0xff,
                           0xff, 0xff, 0x98, 0x36, 0xbe, 0x89, 0x9e};

// Hand-built: 2 CSRCs, one-byte extensions (id 1 = 3 bytes, id 3 = 1 byte, one padding byte),
// payload "abc", 4 bytes of padding.
const Bytes kOneBytePacket = {0xb2, 0x6f, 0x12, 0x34, 0x00, 0x01, 0x00, 0x00,
                              0xca, 0xfe, 0xba, 0xbe,                          // fixed header
                              0x00, 0x00, 0x00, 0x0a, 0x00, 0x00, 0x00, 0x0b,  // CSRCs
                              0xbe, 0xde, 0x00, 0x02,                          // 0xBEDE, 2 words
                              0x12, 0xaa, 0xbb, 0xcc, 0x30, 0x55, 0x00, 0x00,  // elements
                              'a',  'b',  'c',                                 // payload
                              0x00, 0x00, 0x00, 0x04};                         // padding

TEST(RtpPacket, ParsesFixedHeaderAndOpaqueExtension) {
  auto view = parse_rtp(kPionPacket);
  ASSERT_TRUE(view) << view.error().message;
  EXPECT_TRUE(view->marker);
  EXPECT_EQ(view->payload_type, 96);
  EXPECT_EQ(view->sequence_number, 27023);
  EXPECT_EQ(view->timestamp, 3653407706u);
  EXPECT_EQ(view->ssrc, 476325762u);
  EXPECT_EQ(view->csrc_count, 0);
  EXPECT_EQ(view->extension_form, RtpExtensionForm::kOther);
  EXPECT_EQ(view->extension_profile, 1);
  EXPECT_EQ(view->extension_size, 4u);
  EXPECT_EQ(view->header_size(), 20u);
  EXPECT_EQ(view->payload().size(), 5u);
  EXPECT_EQ(view->payload()[0], 0x98);
  EXPECT_FALSE(view->extension(1));  // opaque profile: no RFC 8285 elements

  auto rebuilt = RtpPacket::from_view(*view).serialize();
  ASSERT_TRUE(rebuilt);
  EXPECT_EQ(*rebuilt, kPionPacket);
}

// From aiortc 1.4's serializer: one-byte extensions mid (id 4) = "1", abs-send-time (id 3) =
// 0x123456, transport-wide sequence number (id 5) = 777, padded to 3 words.
const Bytes kAiortcPacket = {0x90, 0xe0, 0x12, 0x34, 0x11, 0x22, 0x33, 0x44, 0xde, 0xad, 0xbe,
                             0xef, 0xbe, 0xde, 0x00, 0x03, 0x40, 0x31, 0x32, 0x12, 0x34, 0x56,
                             0x51, 0x03, 0x09, 0x00, 0x00, 0x00, 0x65, 0x88, 0x84};

TEST(RtpPacket, ParsesAndRebuildsAiortcPacket) {
  auto view = parse_rtp(kAiortcPacket);
  ASSERT_TRUE(view) << view.error().message;
  EXPECT_EQ(view->sequence_number, 0x1234);
  EXPECT_EQ(view->ssrc, 0xdeadbeefu);
  EXPECT_EQ(as_text(*view->extension(4)), "1");
  EXPECT_EQ(read_u24(view->extension(3)->data()), 0x123456u);
  EXPECT_EQ(read_u16(view->extension(5)->data()), 777);
  EXPECT_EQ(view->payload().size(), 3u);
  EXPECT_EQ(*RtpPacket::from_view(*view).serialize(), kAiortcPacket);
}

TEST(RtpPacket, ParsesCsrcsOneByteExtensionsAndPadding) {
  auto view = parse_rtp(kOneBytePacket);
  ASSERT_TRUE(view) << view.error().message;
  EXPECT_TRUE(view->marker == false);
  EXPECT_EQ(view->payload_type, 0x6f);
  EXPECT_EQ(view->csrc_count, 2);
  EXPECT_EQ(view->csrc(0), 0x0au);
  EXPECT_EQ(view->csrc(1), 0x0bu);
  EXPECT_EQ(view->extension_form, RtpExtensionForm::kOneByte);
  EXPECT_EQ(view->padding_size, 4u);
  EXPECT_EQ(as_text(view->payload()), "abc");

  auto first = view->extension(1);
  ASSERT_TRUE(first);
  EXPECT_EQ(Bytes(first->begin(), first->end()), (Bytes{0xaa, 0xbb, 0xcc}));
  auto third = view->extension(3);
  ASSERT_TRUE(third);
  EXPECT_EQ(Bytes(third->begin(), third->end()), Bytes{0x55});
  EXPECT_FALSE(view->extension(2));

  // The builder writes elements back-to-back and pads the block to a word, as the input did.
  auto rebuilt = RtpPacket::from_view(*view).serialize();
  ASSERT_TRUE(rebuilt);
  EXPECT_EQ(*rebuilt, kOneBytePacket);
}

TEST(RtpPacket, OneByteIdFifteenStopsTheWalk) {
  Bytes packet = {0x90, 0x60, 0,    1,    0,    0,    0,    1,    0,    0,
                  0,    1,    0xbe, 0xde, 0x00, 0x01, 0x10, 0x01, 0xf0, 0x20};  // id 1, then id 15
  auto view = parse_rtp(packet);
  ASSERT_TRUE(view) << view.error().message;
  EXPECT_TRUE(view->extension(1));
  EXPECT_FALSE(view->extension(2));  // the 0x20 after id 15 must not be read as id 2
}

TEST(RtpPacket, OneByteIdZeroIsOnePaddingByteWhateverItsLength) {
  // 0x03 has id 0 and a length nibble of 3; like libwebrtc we skip just that byte. Found by
  // rtp_fuzz: reading it as an element with id 0 produced a packet the builder cannot write.
  Bytes packet = {0x90, 0x60, 0,    1,    0,    0,    0,    1,    0,    0,
                  0,    1,    0xbe, 0xde, 0x00, 0x01, 0x03, 0x10, 0x07, 0x00};
  auto view = parse_rtp(packet);
  ASSERT_TRUE(view) << view.error().message;
  auto walk = view->extensions();
  auto first = walk.next();
  ASSERT_TRUE(first);
  EXPECT_EQ(first->id, 1);
  EXPECT_EQ(first->header_offset, 17u);
  EXPECT_FALSE(walk.next());
}

TEST(RtpPacket, ParsesTwoByteExtensionsIncludingEmptyValues) {
  RtpPacket packet;
  packet.payload_type = 96;
  packet.sequence_number = 65535;
  packet.ssrc = 0x11223344;
  packet.extensions = {{1, {}}, {200, Bytes(20, 0x42)}, {3, {7}}};
  EXPECT_EQ(packet.extension_form(), RtpExtensionForm::kTwoByte);
  auto bytes = packet.serialize();
  ASSERT_TRUE(bytes);
  auto view = parse_rtp(*bytes);
  ASSERT_TRUE(view) << view.error().message;
  EXPECT_EQ(view->extension_form, RtpExtensionForm::kTwoByte);
  EXPECT_EQ(view->extension_profile, 0x1000);
  EXPECT_EQ(view->extension(1)->size(), 0u);
  EXPECT_EQ(view->extension(200)->size(), 20u);
  EXPECT_EQ((*view->extension(3))[0], 7);
  // from_view keeps the form it saw, so a re-serialized copy stays two-byte.
  packet.force_two_byte_extensions = true;
  EXPECT_EQ(RtpPacket::from_view(*view), packet);
}

TEST(RtpPacket, BuilderPrefersOneByteFormAndHonoursForceTwoByte) {
  RtpPacket packet;
  packet.extensions = {{5, {1, 2}}};
  EXPECT_EQ(packet.extension_form(), RtpExtensionForm::kOneByte);
  packet.force_two_byte_extensions = true;
  EXPECT_EQ(packet.extension_form(), RtpExtensionForm::kTwoByte);
  auto bytes = packet.serialize();
  ASSERT_TRUE(bytes);
  EXPECT_EQ(Bytes(bytes->begin() + 12, bytes->end()),
            (Bytes{0x10, 0x00, 0x00, 0x01, 0x05, 0x02, 0x01, 0x02}));
}

TEST(RtpPacket, PaddingOnlyProbe) {
  RtpPacket probe;
  probe.payload_type = 97;
  probe.padding_size = 255;
  auto bytes = probe.serialize();
  ASSERT_TRUE(bytes);
  ASSERT_EQ(bytes->size(), 12u + 255u);
  auto view = parse_rtp(*bytes);
  ASSERT_TRUE(view);
  EXPECT_EQ(view->payload_size, 0u);
  EXPECT_EQ(view->padding_size, 255u);
}

TEST(RtpPacket, SerializeIntoRefusesShortBuffer) {
  RtpPacket packet;
  packet.payload = Bytes(100, 1);
  Bytes small(50);
  EXPECT_FALSE(packet.serialize_into(small));
  Bytes exact(112);
  auto written = packet.serialize_into(exact);
  ASSERT_TRUE(written);
  EXPECT_EQ(*written, 112u);
}

TEST(RtpPacket, BuilderRejectsWhatTheWireCannotCarry) {
  RtpPacket packet;
  packet.csrcs.assign(16, 1);
  EXPECT_FALSE(packet.serialize());
  packet.csrcs.clear();
  packet.extensions = {{0, {1}}};
  EXPECT_FALSE(packet.serialize());
  packet.extensions = {{1, Bytes(256, 0)}};
  EXPECT_FALSE(packet.serialize());
  packet.extensions.clear();
  packet.raw_extension_profile = 7;
  packet.raw_extension = {1, 2, 3};
  EXPECT_FALSE(packet.serialize());
}

TEST(RtpPacket, RejectsMalformedInput) {
  const auto rejects = [](Bytes bytes, const char* why) {
    auto view = parse_rtp(bytes);
    EXPECT_FALSE(view) << why;
  };
  rejects({}, "empty");
  rejects({0x80, 0x60, 0, 1, 0, 0, 0, 1, 0, 0, 0}, "11 bytes");
  rejects({0x40, 0x60, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1}, "version 1");
  rejects({0x81, 0x60, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1}, "CSRC count 1, no CSRC");
  rejects({0x90, 0x60, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0xbe, 0xde}, "short extension header");
  rejects({0x90, 0x60, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0xbe, 0xde, 0, 2, 0x10, 0, 0, 0},
          "extension length past end");
  rejects({0x90, 0x60, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0xbe, 0xde, 0, 1, 0x14, 0, 0, 0},
          "one-byte element of 5 bytes in a 4-byte block");
  rejects({0x90, 0x60, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0x10, 0x00, 0, 1, 0, 0, 0, 9},
          "two-byte header at the last byte");
  rejects({0x90, 0x60, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0x10, 0x00, 0, 1, 1, 3, 0, 0},
          "two-byte element of 3 bytes with 2 left");
  rejects({0xa0, 0x60, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0xaa, 0x00}, "padding count 0");
  rejects({0xa0, 0x60, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0xaa, 0x03}, "padding past payload");
  rejects({0xa0, 0x60, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1}, "padding bit, no bytes for it");
}

TEST(RtpPacket, PaddingMayFillTheWholePayload) {
  Bytes packet = {0xa0, 0x60, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0x00, 0x02};
  auto view = parse_rtp(packet);
  ASSERT_TRUE(view);
  EXPECT_EQ(view->payload_size, 0u);
}

TEST(RtpPacket, DemultiplexesRtcpFromRtp) {
  EXPECT_TRUE(looks_like_rtcp(Bytes{0x80, 200, 0, 6}));
  EXPECT_TRUE(looks_like_rtcp(Bytes{0x81, 205, 0, 3}));
  EXPECT_FALSE(looks_like_rtcp(Bytes{0x80, 0x60, 0, 1}));
  EXPECT_FALSE(looks_like_rtcp(Bytes{0x80, 0xe0, 0, 1}));   // marker + PT 96
  EXPECT_FALSE(looks_like_rtp_or_rtcp(Bytes{0x00, 0x01}));  // STUN
}

}  // namespace
}  // namespace ivs::proto
