// The packet chunk examples of draft-holmer-rmcat-transport-wide-cc-extensions-01 §3.1.3 and
// §3.1.4, encoded and decoded by our codec. Two of the draft's examples use symbol 11 ("received
// w/o recv delta"), which the same draft's §3.1.1 lists as reserved and libwebrtc never sends:
// those are checked to be rejected rather than guessed at.
#include <gtest/gtest.h>

#include "support/hex.hpp"

#include "proto/rtcp_twcc.hpp"

namespace ivs::proto {
namespace {

// Fixed part: V=2, P=0, FMT=15, PT=205, length; sender SSRC 1, media SSRC 2; base sequence 0,
// the given status count, reference time 0 and feedback count 0; zero-padded to 32 bits.
Bytes feedback_with(std::uint16_t count, std::string_view chunks_and_deltas) {
  Bytes packet = test::hex_bytes("8fcd0000000000010000000200000000");
  packet[14] = static_cast<std::uint8_t>(count >> 8);
  packet[15] = static_cast<std::uint8_t>(count);
  packet.resize(20, 0);  // reference time and feedback count: 0
  for (const auto byte : test::hex_bytes(chunks_and_deltas)) {
    packet.push_back(byte);
  }
  packet.resize((packet.size() + 3) / 4 * 4, 0);  // the draft's "zero padding"
  packet[3] = static_cast<std::uint8_t>(packet.size() / 4 - 1);
  return packet;
}

std::uint16_t first_chunk(const Bytes& serialized) {
  return static_cast<std::uint16_t>((serialized[20] << 8) | serialized[21]);
}

TEST(TwccDraftExamples, RunLengthChunkOf221NotReceived) {
  // §3.1.3 example 1: |0|0 0|0 0 0 0 0 1 1 0 1 1 1 0 1| = 0x00DD.
  RtcpTransportFeedback feedback;
  for (int i = 0; i < 221; ++i) {
    feedback.add_lost();
  }
  const Bytes bytes = feedback.serialize();
  EXPECT_EQ(first_chunk(bytes), 0x00DD);
  auto parsed = RtcpTransportFeedback::parse(feedback_with(221, "00dd0000"));
  ASSERT_TRUE(parsed) << parsed.error().message;
  ASSERT_EQ(parsed->packets.size(), 221u);
  EXPECT_EQ(parsed->packets[220].status, TwccStatus::kNotReceived);
}

TEST(TwccDraftExamples, OneBitStatusVector) {
  // §3.1.4 example 1: |1|0|0 1 1 1 1 1 0 0 0 1 1 1 0 0| = 0x9F1C: 1 not received, 5 received,
  // 3 not received, 3 received, 2 not received; 8 one-byte deltas follow.
  auto parsed = RtcpTransportFeedback::parse(feedback_with(14, "9f1c0102030405060708"));
  ASSERT_TRUE(parsed) << parsed.error().message;
  const std::vector<int> expected{0, 1, 1, 1, 1, 1, 0, 0, 0, 1, 1, 1, 0, 0};
  ASSERT_EQ(parsed->packets.size(), expected.size());
  int delta = 1;
  for (std::size_t i = 0; i < expected.size(); ++i) {
    EXPECT_EQ(parsed->packets[i].status, static_cast<TwccStatus>(expected[i])) << i;
    if (expected[i] == 1) {
      EXPECT_EQ(parsed->packets[i].delta_ticks, delta++);
    }
  }
  // Our serializer picks the same chunk for the same statuses.
  EXPECT_EQ(first_chunk(parsed->serialize()), 0x9F1C);
  EXPECT_EQ(*RtcpTransportFeedback::parse(parsed->serialize()), *parsed);
}

TEST(TwccDraftExamples, ExamplesWithTheReservedSymbolAreRejected) {
  // §3.1.3 example 2: a run of 24 with symbol 11.
  EXPECT_FALSE(RtcpTransportFeedback::parse(feedback_with(24, "60180000")));
  // §3.1.4 example 2: |1|1|00 11 01 01 01 00 00| = 0xCD50, symbol 11 second.
  EXPECT_FALSE(RtcpTransportFeedback::parse(feedback_with(7, "cd50010203000000")));
}

TEST(TwccDraftExamples, TwoBitVectorCarriesLargeAndNegativeDeltas) {
  // |1|1|01 10 00 01 00 00 00| = 0xD840: small 10, large -2 (0xfffe), lost, small 20.
  auto parsed = RtcpTransportFeedback::parse(feedback_with(4, "d8400afffe14"));
  ASSERT_TRUE(parsed) << parsed.error().message;
  ASSERT_EQ(parsed->packets.size(), 4u);
  EXPECT_EQ(parsed->packets[1].status, TwccStatus::kLargeDelta);
  EXPECT_EQ(parsed->packets[1].delta_ticks, -2);
  EXPECT_EQ(parsed->packets[3].delta_ticks, 20);
}

}  // namespace
}  // namespace ivs::proto
