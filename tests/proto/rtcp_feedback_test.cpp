// NACK, PLI, FIR, REMB and transport-cc feedback. Vectors marked "aiortc" come from aiortc 1.4's
// serializer; the transport-cc vectors are hand-built from the draft's chunk layouts.
#include <gtest/gtest.h>

#include "support/hex.hpp"

#include <string>

#include "proto/rtcp_compound.hpp"

namespace ivs::proto {
namespace {

Bytes hex(std::string_view text) {
  return test::hex_bytes(text);
}

// aiortc: lost = 100, 101, 105, 116, 117, 200.
const Bytes kNack = hex("81cd00051122334455667788006480110075000000c80000");
const Bytes kPli = hex("81ce00021122334455667788");  // aiortc
// aiortc: pack_remb_fci(2500000, [0x55667788, 0x99aabbcc]).
const Bytes kRemb = hex("8fce0006112233440000000052454d420212625a5566778899aabbcc");

TEST(RtcpNack, ParsesAiortcBytesAndExpandsSequenceNumbers) {
  auto nack = RtcpNack::parse(kNack);
  ASSERT_TRUE(nack) << nack.error().message;
  EXPECT_EQ(nack->sender_ssrc, 0x11223344u);
  EXPECT_EQ(nack->media_ssrc, 0x55667788u);
  ASSERT_EQ(nack->items.size(), 3u);
  EXPECT_EQ(nack->items[0], (RtcpNackItem{100, 0x8011}));
  EXPECT_EQ(nack->sequence_numbers(), (std::vector<std::uint16_t>{100, 101, 105, 116, 117, 200}));
  EXPECT_EQ(nack->serialize(), kNack);
}

TEST(RtcpNack, BuildsFromSequenceNumbersLikeAiortc) {
  const std::vector<std::uint16_t> lost = {100, 101, 105, 116, 117, 200};
  EXPECT_EQ(RtcpNack::from_sequence_numbers(0x11223344, 0x55667788, lost).serialize(), kNack);
}

TEST(RtcpNack, PacksAcrossTheSequenceWrapAndSkipsDuplicates) {
  const std::vector<std::uint16_t> lost = {65534, 65535, 0, 0, 14, 15};
  auto nack = RtcpNack::from_sequence_numbers(1, 2, lost);
  ASSERT_EQ(nack.items.size(), 2u);
  EXPECT_EQ(nack.items[0], (RtcpNackItem{65534, 0b1000000000000011}));  // 65535, 0, 14
  EXPECT_EQ(nack.items[1], (RtcpNackItem{15, 0}));
  EXPECT_EQ(nack.sequence_numbers(), (std::vector<std::uint16_t>{65534, 65535, 0, 14, 15}));
}

TEST(RtcpNack, RejectsMissingOrPartialItems) {
  EXPECT_FALSE(RtcpNack::parse(hex("81cd00021122334455667788")));  // no FCI
  EXPECT_FALSE(RtcpNack::parse(kPli));                             // wrong type
  // Two bytes of FCI, padded out with the P bit.
  EXPECT_FALSE(RtcpNack::parse(hex("a1cd0003112233445566778800640002")));
}

TEST(RtcpPli, ParsesAndSerializesAiortcBytes) {
  auto pli = RtcpPli::parse(kPli);
  ASSERT_TRUE(pli);
  EXPECT_EQ(pli->sender_ssrc, 0x11223344u);
  EXPECT_EQ(pli->media_ssrc, 0x55667788u);
  EXPECT_EQ(pli->serialize(), kPli);
  EXPECT_FALSE(RtcpPli::parse(hex("81ce000111223344")));  // one SSRC only
}

TEST(RtcpFir, RoundTripsEntries) {
  RtcpFir fir{0x11223344, 0, {{0x55667788, 7}, {0x99aabbcc, 255}}};
  const Bytes bytes = fir.serialize();
  EXPECT_EQ(bytes, hex("84ce0006"
                       "11223344"
                       "00000000"
                       "55667788"
                       "07000000"
                       "99aabbcc"
                       "ff000000"));
  auto parsed = RtcpFir::parse(bytes);
  ASSERT_TRUE(parsed);
  EXPECT_EQ(*parsed, fir);
  EXPECT_FALSE(
      RtcpFir::parse(hex("84ce0003"
                         "11223344"
                         "00000000"
                         "55667788")));  // half entry
  EXPECT_FALSE(
      RtcpFir::parse(hex("84ce0002"
                         "11223344"
                         "00000000")));  // no entries
}

TEST(RtcpRemb, ParsesAiortcBytesAndEncodesBitrates) {
  auto remb = RtcpRemb::parse(kRemb);
  ASSERT_TRUE(remb) << remb.error().message;
  EXPECT_EQ(remb->bitrate_bps(), 2500000u);
  EXPECT_EQ(remb->exponent, 4);
  EXPECT_EQ(remb->ssrcs, (std::vector<std::uint32_t>{0x55667788, 0x99aabbcc}));
  EXPECT_EQ(remb->serialize(), kRemb);

  RtcpRemb built{0x11223344, 0, 0, 0, {0x55667788, 0x99aabbcc}};
  built.set_bitrate(2500000);
  EXPECT_EQ(built.serialize(), kRemb);
  built.set_bitrate(262143);
  EXPECT_EQ(built.exponent, 0);
  built.set_bitrate(~std::uint64_t{0});
  EXPECT_EQ(built.exponent, 46);
  RtcpRemb huge;
  huge.exponent = 63;
  huge.mantissa = 5;
  EXPECT_EQ(huge.bitrate_bps(), ~std::uint64_t{0});
}

TEST(RtcpRemb, RejectsOtherApplicationFeedbackAndShortSsrcLists) {
  EXPECT_FALSE(RtcpRemb::is_remb(hex("8fce000411223344000000004142434400000000")));
  EXPECT_FALSE(RtcpRemb::parse(hex("8fce000411223344000000004142434400000000")));
  EXPECT_FALSE(RtcpRemb::parse(hex("8fce0004112233440000000052454d4203000001")));  // 3 SSRCs
  // In a compound, non-REMB AFB is kept as unknown rather than failing.
  auto packets = parse_rtcp_compound(hex("8fce000411223344000000004142434400000000"));
  ASSERT_TRUE(packets);
  EXPECT_TRUE(std::holds_alternative<RtcpUnknown>((*packets)[0]));
}

// Ten packets from 256: small 4, small 8, lost, lost, large -1, then five small 1..5. The
// serializer picks a 2-bit vector for the first seven (a large delta is among them) and a run
// for the last three; the 29-byte body is padded with the P bit and a count byte of 3.
const Bytes kTwcc =
    hex("afcd0008"
        "11223344"
        "55667788"
        "0100000a"
        "00000105"
        "d4252003"
        "0408ffff"
        "01020304"
        "05000003");

RtcpTransportFeedback sample_feedback() {
  RtcpTransportFeedback feedback;
  feedback.sender_ssrc = 0x11223344;
  feedback.media_ssrc = 0x55667788;
  feedback.base_sequence = 256;
  feedback.reference_time = 1;
  feedback.feedback_count = 5;
  feedback.add_received(4);
  feedback.add_received(8);
  feedback.add_lost();
  feedback.add_lost();
  feedback.add_received(-1);
  for (int delta = 1; delta <= 5; ++delta) {
    feedback.add_received(delta);
  }
  return feedback;
}

TEST(RtcpTransportFeedback, SerializesChunksDeltasAndPadding) {
  EXPECT_EQ(to_hex(sample_feedback().serialize()), to_hex(kTwcc));
  auto parsed = RtcpTransportFeedback::parse(kTwcc);
  ASSERT_TRUE(parsed) << parsed.error().message;
  EXPECT_EQ(*parsed, sample_feedback());
  EXPECT_EQ(parsed->packets[4].status, TwccStatus::kLargeDelta);
  EXPECT_EQ(parsed->packets[4].delta_ticks, -1);
}

TEST(RtcpTransportFeedback, ParsesOneBitVectorsAndLongRuns) {
  // 14 packets, one 1-bit vector chunk with all received, deltas 0..13; no padding needed.
  Bytes packet =
      hex("8fcd0008"
          "00000001"
          "00000002"
          "0000000e"
          "fffffe07"
          "bfff");
  for (int i = 0; i < 14; ++i) {
    packet.push_back(static_cast<std::uint8_t>(i));
  }
  auto parsed = RtcpTransportFeedback::parse(packet);
  ASSERT_TRUE(parsed) << parsed.error().message;
  EXPECT_EQ(parsed->reference_time, -2);
  EXPECT_EQ(parsed->feedback_count, 7);
  ASSERT_EQ(parsed->packets.size(), 14u);
  EXPECT_EQ(parsed->packets[13].delta_ticks, 13);

  // A run of 8191 lost packets, then one run of 100 more: 8291 statuses from two chunks.
  RtcpTransportFeedback lossy;
  for (int i = 0; i < 8291; ++i) {
    lossy.add_lost();
  }
  const Bytes bytes = lossy.serialize();
  EXPECT_EQ(bytes.size(), 4u + 16u + 4u);
  EXPECT_EQ(*RtcpTransportFeedback::parse(bytes), lossy);
}

TEST(RtcpTransportFeedback, RejectsTruncationAndReservedSymbols) {
  Bytes truncated = kTwcc;
  truncated[0] = 0x8f;  // drop the P bit: the padding bytes now read as deltas, and one is missing
  truncated[3] = 0x07;
  truncated.resize(32);
  EXPECT_FALSE(RtcpTransportFeedback::parse(truncated));
  // Status count 1 but no chunk.
  EXPECT_FALSE(
      RtcpTransportFeedback::parse(hex("8fcd0004"
                                       "00000001"
                                       "00000002"
                                       "00000001"
                                       "00000000")));
  // Run-length chunk with the reserved symbol 11.
  EXPECT_FALSE(
      RtcpTransportFeedback::parse(hex("8fcd0005"
                                       "00000001"
                                       "00000002"
                                       "00000001"
                                       "00000000"
                                       "60010000")));
}

TEST(RtcpTransportFeedback, RoundTripsMixedPatterns) {
  RtcpTransportFeedback feedback;
  feedback.base_sequence = 65530;  // crosses the wrap; the packet does not care
  for (int i = 0; i < 300; ++i) {
    if (i % 13 == 0) {
      feedback.add_lost();
    } else if (i % 29 == 0) {
      feedback.add_received(-400);
    } else if (i % 31 == 0) {
      feedback.add_received(100000);  // clamped to int16
    } else {
      feedback.add_received(i % 200);
    }
  }
  auto parsed = RtcpTransportFeedback::parse(feedback.serialize());
  ASSERT_TRUE(parsed) << parsed.error().message;
  EXPECT_EQ(*parsed, feedback);
  EXPECT_EQ(parsed->packets[31].delta_ticks, 32767);
}

}  // namespace
}  // namespace ivs::proto
