// SR, RR, SDES, BYE and compound walking. The byte vectors marked "aiortc" were produced by
// aiortc 1.4's RTCP serializer (an independent implementation), so parse → serialize → compare
// checks us against it bit for bit.
#include <gtest/gtest.h>

#include "support/hex.hpp"

#include <string>

#include "proto/rtcp_compound.hpp"

namespace ivs::proto {
namespace {

Bytes hex(std::string_view text) {
  return test::hex_bytes(text);
}

// aiortc: one report block with packets_lost = -2 (duplicates), fraction 3.
const Bytes kSenderReport = hex(
    "81c8000c902f9e2eda8bd1fcdddda05aaaf4edd50000000100000002bc5e9a4003fffffe000146e10000011109f3"
    "643200024a79");
const Bytes kReceiverReport =
    hex("81c9000711223344bc5e9a40190003e8000100100000005a1234567800010000");  // aiortc
const Bytes kSdes =
    hex("82ca000a1122334401107b38663265376133622d636e616d657d000055667788010261620604746f6f6c0000");
const Bytes kBye = hex("82cb00021122334455667788");  // aiortc

TEST(RtcpSenderReport, ParsesAndReserializesAiortcBytes) {
  auto report = RtcpSenderReport::parse(kSenderReport);
  ASSERT_TRUE(report) << report.error().message;
  EXPECT_EQ(report->sender_ssrc, 0x902f9e2eu);
  EXPECT_EQ(report->ntp_timestamp, 0xda8bd1fcdddda05aull);
  EXPECT_EQ(report->rtp_timestamp, 0xaaf4edd5u);
  EXPECT_EQ(report->packet_count, 1u);
  EXPECT_EQ(report->octet_count, 2u);
  ASSERT_EQ(report->report_blocks.size(), 1u);
  const auto& block = report->report_blocks[0];
  EXPECT_EQ(block.ssrc, 0xbc5e9a40u);
  EXPECT_EQ(block.fraction_lost, 3);
  EXPECT_EQ(block.cumulative_lost, -2);
  EXPECT_EQ(block.extended_highest_sequence, 0x146e1u);
  EXPECT_EQ(block.jitter, 273u);
  EXPECT_EQ(block.last_sender_report, 0x9f36432u);
  EXPECT_EQ(block.delay_since_last_sender_report, 150137u);
  EXPECT_TRUE(report->profile_extension.empty());
  EXPECT_EQ(report->serialize(), kSenderReport);
}

TEST(RtcpSenderReport, RejectsTruncatedAndMistyped) {
  Bytes truncated = kSenderReport;
  truncated[3] = 0x06;  // claims 28 bytes: sender info only, yet RC = 1
  truncated.resize(28);
  EXPECT_FALSE(RtcpSenderReport::parse(truncated));
  EXPECT_FALSE(RtcpSenderReport::parse(kReceiverReport));
  EXPECT_FALSE(RtcpSenderReport::parse(Bytes(kSenderReport.begin(), kSenderReport.end() - 4)));
}

TEST(RtcpReceiverReport, ParsesAndReserializesAiortcBytes) {
  auto report = RtcpReceiverReport::parse(kReceiverReport);
  ASSERT_TRUE(report) << report.error().message;
  EXPECT_EQ(report->sender_ssrc, 0x11223344u);
  ASSERT_EQ(report->report_blocks.size(), 1u);
  EXPECT_EQ(report->report_blocks[0].fraction_lost, 25);
  EXPECT_EQ(report->report_blocks[0].cumulative_lost, 1000);
  EXPECT_EQ(report->report_blocks[0].extended_highest_sequence, 0x10010u);
  EXPECT_EQ(report->report_blocks[0].delay_since_last_sender_report, 65536u);
  EXPECT_EQ(report->serialize(), kReceiverReport);
}

TEST(RtcpReceiverReport, EmptyReportAndProfileExtensionRoundTrip) {
  RtcpReceiverReport report;
  report.sender_ssrc = 7;
  EXPECT_EQ(report.serialize(), hex("80c9000100000007"));
  report.profile_extension = {1, 2, 3, 4};
  auto parsed = RtcpReceiverReport::parse(report.serialize());
  ASSERT_TRUE(parsed);
  EXPECT_EQ(*parsed, report);
}

TEST(RtcpReportBlock, NegativeCumulativeLossSurvivesTheTwentyFourBitField) {
  RtcpReceiverReport report;
  report.report_blocks.push_back({1, 0, -8388608, 0, 0, 0, 0});
  report.report_blocks.push_back({2, 0, 8388607, 0, 0, 0, 0});
  auto parsed = RtcpReceiverReport::parse(report.serialize());
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->report_blocks[0].cumulative_lost, -8388608);
  EXPECT_EQ(parsed->report_blocks[1].cumulative_lost, 8388607);
}

TEST(RtcpSdes, ParsesAndReserializesAiortcBytes) {
  auto sdes = RtcpSdes::parse(kSdes);
  ASSERT_TRUE(sdes) << sdes.error().message;
  ASSERT_EQ(sdes->chunks.size(), 2u);
  ASSERT_NE(sdes->cname(0x11223344), nullptr);
  EXPECT_EQ(*sdes->cname(0x11223344), "{8f2e7a3b-cname}");
  EXPECT_EQ(*sdes->cname(0x55667788), "ab");
  EXPECT_EQ(sdes->chunks[1].items[1].type, sdes_item::kTool);
  EXPECT_EQ(sdes->chunks[1].items[1].value, "tool");
  EXPECT_EQ(sdes->cname(1), nullptr);
  EXPECT_EQ(sdes->serialize(), kSdes);
}

TEST(RtcpSdes, ChunkWhoseItemsEndOnAWordBoundaryGetsAFullNullWord) {
  RtcpSdes sdes;
  sdes.chunks.push_back({9, {{sdes_item::kCname, "ab"}}});  // 4 + 2 + 2 = 8 bytes
  EXPECT_EQ(sdes.serialize(), hex("81ca00030000000901026162"
                                  "00000000"));
  EXPECT_EQ(*RtcpSdes::parse(sdes.serialize()), sdes);
}

TEST(RtcpSdes, RejectsItemsPastTheEndAndMissingTerminator) {
  EXPECT_FALSE(RtcpSdes::parse(hex("81ca000200000009010a6162")));  // item length 10
  EXPECT_FALSE(RtcpSdes::parse(hex("81ca00020000000901026162")));  // no null octet
  EXPECT_FALSE(RtcpSdes::parse(hex("82ca00020000000900000000")));  // SC 2, one chunk
}

TEST(RtcpBye, ParsesAiortcBytesAndAReason) {
  auto bye = RtcpBye::parse(kBye);
  ASSERT_TRUE(bye) << bye.error().message;
  EXPECT_EQ(bye->ssrcs, (std::vector<std::uint32_t>{0x11223344, 0x55667788}));
  EXPECT_FALSE(bye->reason);
  EXPECT_EQ(bye->serialize(), kBye);

  RtcpBye leaving{{42}, "shutdown"};
  const Bytes bytes = leaving.serialize();
  EXPECT_EQ(bytes, hex("81cb0004"
                       "0000002a"
                       "08736875"
                       "74646f77"
                       "6e000000"));
  EXPECT_EQ(*RtcpBye::parse(bytes), leaving);
  EXPECT_FALSE(
      RtcpBye::parse(hex("81cb0002"
                         "0000002a"
                         "09736875")));  // reason too long
  EXPECT_FALSE(
      RtcpBye::parse(hex("83cb0002"
                         "0000002a"
                         "00000000")));  // SC 3 > 2 SSRCs
}

TEST(RtcpHeader, HonoursAndValidatesPadding) {
  // An RR with 4 bytes of padding (P bit, count byte 4).
  const Bytes padded = hex("a0c900020000000700000004");
  auto view = parse_rtcp_packet_view(padded);
  ASSERT_TRUE(view);
  EXPECT_EQ(view->body.size(), 4u);
  EXPECT_EQ(RtcpReceiverReport::parse(view->packet)->sender_ssrc, 7u);
  EXPECT_FALSE(parse_rtcp_packet_view(hex("a0c900020000000700000000")));  // count 0
  EXPECT_FALSE(parse_rtcp_packet_view(hex("a0c900020000000700000009")));  // past the body
  EXPECT_FALSE(parse_rtcp_packet_view(hex("40c9000100000007")));          // version 1
  EXPECT_FALSE(parse_rtcp_packet_view(hex("80c9")));                      // 2 bytes
}

TEST(RtcpCompound, WalksSrSdesAndFeedbackInOrder) {
  Bytes datagram = kSenderReport;
  append_bytes(datagram, kSdes);
  append_bytes(datagram, hex("81ce00021122334455667788"));          // PLI
  append_bytes(datagram, hex("84cc00031122334461626364deadbeef"));  // APP, subtype 4
  auto packets = parse_rtcp_compound(datagram);
  ASSERT_TRUE(packets) << packets.error().message;
  ASSERT_EQ(packets->size(), 4u);
  EXPECT_TRUE(std::holds_alternative<RtcpSenderReport>((*packets)[0]));
  EXPECT_TRUE(std::holds_alternative<RtcpSdes>((*packets)[1]));
  EXPECT_TRUE(std::holds_alternative<RtcpPli>((*packets)[2]));
  const auto& app = std::get<RtcpUnknown>((*packets)[3]);
  EXPECT_EQ(app.packet_type, rtcp_type::kApplication);
  EXPECT_EQ(app.count, 4);
  EXPECT_EQ(app.body.size(), 12u);
  EXPECT_EQ(serialize_rtcp_compound(*packets), datagram);
}

TEST(RtcpCompound, WalkerStopsAtTheFirstBadHeader) {
  Bytes datagram = kBye;
  append_bytes(datagram, hex("81c90009"));  // length past the end
  RtcpCompoundWalker walker(datagram);
  auto first = walker.next();
  ASSERT_TRUE(first && *first);
  EXPECT_EQ((*first)->packet_type, rtcp_type::kBye);
  auto second = walker.next();
  ASSERT_TRUE(second);
  EXPECT_FALSE(*second);
  EXPECT_FALSE(walker.next());
  EXPECT_FALSE(parse_rtcp_compound(datagram));
  EXPECT_FALSE(parse_rtcp_compound(Bytes{}));
}

TEST(RtcpCompound, EveryProperPrefixOfAValidCompoundIsRejected) {
  Bytes datagram = kSenderReport;
  append_bytes(datagram, kSdes);
  append_bytes(datagram, kBye);
  for (std::size_t size = 0; size < datagram.size(); ++size) {
    const ByteSpan prefix = ByteSpan(datagram).first(size);
    // Prefixes ending exactly on a packet boundary are themselves valid compounds.
    const bool boundary =
        size == kSenderReport.size() || size == kSenderReport.size() + kSdes.size();
    EXPECT_EQ(parse_rtcp_compound(prefix).ok(), boundary) << size;
  }
}

TEST(RtcpCompound, MalformedKnownPacketFailsTheCompound) {
  Bytes datagram = kBye;
  append_bytes(datagram, hex("81cd00021122334455667788"));  // NACK with no FCI
  EXPECT_FALSE(parse_rtcp_compound(datagram));
}

}  // namespace
}  // namespace ivs::proto
