// Transport-wide feedback generator (draft-holmer-rmcat-transport-wide-cc-extensions-01 §3.1)
// and the REMB cap, on a simulated clock: in-order, loss, reordering, late packets, wrap-around,
// splitting (delta range, status count, size), cadence and the REMB value.
#include <gtest/gtest.h>

#include <vector>

#include "engine/remb_cap.hpp"
#include "engine/transport_feedback.hpp"

namespace ivs::engine {
namespace {

using proto::RtcpTransportFeedback;
using proto::TwccStatus;

// A start far from zero so tick arithmetic is not trivially relative to the epoch.
Instant at_us(std::int64_t micros) {
  return Instant{} + std::chrono::hours(5) + std::chrono::microseconds(micros);
}
Instant at_ms(std::int64_t ms) {
  return at_us(ms * 1000);
}

std::vector<RtcpTransportFeedback> drain(TransportFeedbackGenerator& generator, Instant now) {
  generator.handle_timeout(now);
  std::vector<RtcpTransportFeedback> out;
  while (auto feedback = generator.poll_feedback()) {
    // Every packet must survive our own serializer and parser unchanged.
    auto parsed = RtcpTransportFeedback::parse(feedback->serialize());
    EXPECT_TRUE(parsed) << (parsed ? "" : parsed.error().message);
    if (parsed) {
      EXPECT_EQ(*parsed, *feedback);
    }
    out.push_back(std::move(*feedback));
  }
  return out;
}

// Arrival tick (250 µs since the feedback's 64 ms reference) of each received status, so tests
// can check absolute timing independently of how deltas were split.
std::vector<std::int64_t> arrival_ticks(const RtcpTransportFeedback& feedback) {
  std::vector<std::int64_t> ticks;
  std::int64_t tick = std::int64_t{feedback.reference_time} * 256;
  for (const auto& status : feedback.packets) {
    if (status.status != TwccStatus::kNotReceived) {
      tick += status.delta_ticks;
      ticks.push_back(tick);
    }
  }
  return ticks;
}

TEST(TransportFeedback, InOrderPacketsGiveOneFeedbackWithSmallDeltas) {
  TransportFeedbackGenerator generator({.sender_ssrc = 7});
  for (int i = 0; i < 10; ++i) {
    generator.on_packet(at_ms(i), static_cast<std::uint16_t>(100 + i), 0xABCD);
  }
  auto feedback = drain(generator, at_ms(50));
  ASSERT_EQ(feedback.size(), 1u);
  EXPECT_EQ(feedback[0].sender_ssrc, 7u);
  EXPECT_EQ(feedback[0].media_ssrc, 0xABCDu);
  EXPECT_EQ(feedback[0].base_sequence, 100);
  EXPECT_EQ(feedback[0].feedback_count, 0);
  EXPECT_EQ(feedback[0].reference_time, 0);  // the first arrival is tick 0
  ASSERT_EQ(feedback[0].packets.size(), 10u);
  EXPECT_EQ(feedback[0].packets[0].delta_ticks, 0);
  for (int i = 1; i < 10; ++i) {
    EXPECT_EQ(feedback[0].packets[i].status, TwccStatus::kSmallDelta);
    EXPECT_EQ(feedback[0].packets[i].delta_ticks, 4);  // 1 ms = 4 × 250 µs
  }
  // The second feedback continues where the first ended and counts up.
  generator.on_packet(at_ms(60), 110, 0xABCD);
  auto second = drain(generator, at_ms(200));
  ASSERT_EQ(second.size(), 1u);
  EXPECT_EQ(second[0].base_sequence, 110);
  EXPECT_EQ(second[0].feedback_count, 1);
  EXPECT_EQ(second[0].reference_time, 60000 / 64000);
  EXPECT_EQ(arrival_ticks(second[0]), std::vector<std::int64_t>{60 * 4});
}

TEST(TransportFeedback, ReferenceTimeIs64MsAndDeltasDoNotDriftFromRounding) {
  TransportFeedbackGenerator generator;
  generator.on_packet(at_us(0), 1, 1);
  drain(generator, at_ms(50));
  // 90 packets 1.1 ms apart (4.4 ticks): accumulated deltas must land on floor(t / 250 µs).
  std::vector<std::int64_t> expected;
  for (int i = 0; i < 90; ++i) {
    const std::int64_t micros = 1'000'000 + i * 1100;
    generator.on_packet(at_us(micros), static_cast<std::uint16_t>(2 + i), 1);
    expected.push_back(micros / 250);
  }
  auto feedback = drain(generator, at_ms(2000));
  ASSERT_EQ(feedback.size(), 1u);
  EXPECT_EQ(feedback[0].reference_time, 1'000'000 / 64000);  // 15 × 64 ms
  EXPECT_EQ(arrival_ticks(feedback[0]), expected);
}

TEST(TransportFeedback, LossesAreReportedAsNotReceivedIncludingAcrossFeedbacks) {
  TransportFeedbackGenerator generator;
  generator.on_packet(at_ms(0), 1, 1);
  generator.on_packet(at_ms(1), 2, 1);
  generator.on_packet(at_ms(2), 5, 1);
  auto first = drain(generator, at_ms(50));
  ASSERT_EQ(first.size(), 1u);
  EXPECT_EQ(first[0].base_sequence, 1);
  ASSERT_EQ(first[0].packets.size(), 5u);
  EXPECT_EQ(first[0].packets[2].status, TwccStatus::kNotReceived);
  EXPECT_EQ(first[0].packets[3].status, TwccStatus::kNotReceived);
  // 6 and 7 never arrive: the next feedback starts at 6, not at 8.
  generator.on_packet(at_ms(60), 8, 1);
  auto second = drain(generator, at_ms(110));
  ASSERT_EQ(second.size(), 1u);
  EXPECT_EQ(second[0].base_sequence, 6);
  ASSERT_EQ(second[0].packets.size(), 3u);
  EXPECT_EQ(second[0].packets[0].status, TwccStatus::kNotReceived);
  EXPECT_EQ(second[0].packets[2].status, TwccStatus::kSmallDelta);
}

TEST(TransportFeedback, ReorderingGivesNegativeLargeDeltasInSequenceOrder) {
  TransportFeedbackGenerator generator;
  generator.on_packet(at_ms(0), 10, 1);
  generator.on_packet(at_ms(1), 12, 1);
  generator.on_packet(at_ms(2), 11, 1);
  generator.on_packet(at_ms(3), 12, 1);  // a duplicate: the first arrival counts
  auto feedback = drain(generator, at_ms(50));
  ASSERT_EQ(feedback.size(), 1u);
  ASSERT_EQ(feedback[0].packets.size(), 3u);
  EXPECT_EQ(feedback[0].packets[1].delta_ticks, 8);  // 11 arrived 2 ms after 10
  EXPECT_EQ(feedback[0].packets[2].status, TwccStatus::kLargeDelta);
  EXPECT_EQ(feedback[0].packets[2].delta_ticks, -4);  // 12 arrived 1 ms before 11
  EXPECT_EQ(generator.stats().duplicates, 1u);
}

TEST(TransportFeedback, LatePacketIsReportedAloneWithoutContradictingEarlierFeedback) {
  TransportFeedbackGenerator generator;
  generator.on_packet(at_ms(0), 1, 1);
  generator.on_packet(at_ms(1), 2, 1);
  generator.on_packet(at_ms(2), 4, 1);
  drain(generator, at_ms(50));
  generator.on_packet(at_ms(55), 3, 1);  // reported lost already
  generator.on_packet(at_ms(56), 5, 1);
  auto feedback = drain(generator, at_ms(100));
  ASSERT_EQ(feedback.size(), 2u);
  EXPECT_EQ(feedback[0].base_sequence, 3);
  EXPECT_EQ(feedback[0].packets.size(), 1u);  // not 3..5 with 4 reported lost
  EXPECT_EQ(feedback[1].base_sequence, 5);
  EXPECT_EQ(feedback[1].packets.size(), 1u);
  EXPECT_EQ(feedback[1].feedback_count, feedback[0].feedback_count + 1);
  EXPECT_EQ(generator.stats().late_packets, 1u);
}

TEST(TransportFeedback, SequenceNumbersUnwrapAt65535) {
  TransportFeedbackGenerator generator;
  const std::vector<std::uint16_t> sequence{65533, 65534, 0, 65535, 1};
  for (std::size_t i = 0; i < sequence.size(); ++i) {
    generator.on_packet(at_ms(static_cast<int>(i)), sequence[i], 1);
  }
  auto feedback = drain(generator, at_ms(50));
  ASSERT_EQ(feedback.size(), 1u);
  EXPECT_EQ(feedback[0].base_sequence, 65533);
  ASSERT_EQ(feedback[0].packets.size(), 5u);
  for (const auto& status : feedback[0].packets) {
    EXPECT_NE(status.status, TwccStatus::kNotReceived);
  }
  generator.on_packet(at_ms(60), 2, 1);
  auto next = drain(generator, at_ms(110));
  ASSERT_EQ(next.size(), 1u);
  EXPECT_EQ(next[0].base_sequence, 2);
  EXPECT_EQ(next[0].packets.size(), 1u);
}

TEST(TransportFeedback, LargeAndOutOfRangeDeltas) {
  TransportFeedbackGenerator generator;
  generator.on_packet(at_ms(0), 1, 1);
  generator.on_packet(at_ms(100), 2, 1);     // 400 ticks: the 16-bit form
  generator.on_packet(at_ms(10'100), 3, 1);  // 40000 ticks: beyond int16, a new feedback
  auto feedback = drain(generator, at_ms(10'100));
  ASSERT_EQ(feedback.size(), 2u);
  ASSERT_EQ(feedback[0].packets.size(), 2u);
  EXPECT_EQ(feedback[0].packets[1].status, TwccStatus::kLargeDelta);
  EXPECT_EQ(feedback[0].packets[1].delta_ticks, 400);
  EXPECT_EQ(feedback[1].base_sequence, 3);
  EXPECT_EQ(feedback[1].reference_time, 10'100'000 / 64000);
  EXPECT_EQ(arrival_ticks(feedback[1]), std::vector<std::int64_t>{10'100 * 4});
}

TEST(TransportFeedback, SplitsPacketsThatWouldGrowPastTheSizeLimit) {
  TransportFeedbackGenerator generator({.max_packet_bytes = 80});
  // Every other packet lost and 70 ms apart: no run chunks and 16-bit deltas, so it is big.
  for (int i = 0; i < 60; ++i) {
    generator.on_packet(at_ms(i * 70), static_cast<std::uint16_t>(1000 + 2 * i), 1);
  }
  auto feedback = drain(generator, at_ms(60 * 70));
  ASSERT_GT(feedback.size(), 2u);
  std::int64_t next = 1000;
  std::size_t received = 0;
  for (std::size_t i = 0; i < feedback.size(); ++i) {
    EXPECT_LE(feedback[i].serialize().size(), 80u);
    EXPECT_EQ(feedback[i].base_sequence, next) << i;  // contiguous coverage, nothing skipped
    EXPECT_EQ(feedback[i].feedback_count, i);
    next = feedback[i].base_sequence + static_cast<std::int64_t>(feedback[i].packets.size());
    received += arrival_ticks(feedback[i]).size();
  }
  EXPECT_EQ(received, 60u);
}

TEST(TransportFeedback, AGapBeyondTheStatusCountStartsANewFeedback) {
  TransportFeedbackGenerator generator;
  // Steps below 32768 so each unwraps forward: 0, 30000, 60000, 90000 (= 24464 on the wire).
  for (const std::uint16_t sequence : {0, 30000, 60000, 24464}) {
    generator.on_packet(at_ms(sequence == 0 ? 0 : 1), sequence, 1);
  }
  auto feedback = drain(generator, at_ms(50));
  ASSERT_EQ(feedback.size(), 2u);
  EXPECT_EQ(feedback[0].base_sequence, 0);
  EXPECT_EQ(feedback[0].packets.size(), 60001u);
  EXPECT_LE(feedback[0].serialize().size(), 1200u);  // run-length chunks keep gaps small
  // The next one starts right after, so the 29999 numbers before 90000 are reported lost.
  EXPECT_EQ(feedback[1].base_sequence, 60001);
  ASSERT_EQ(feedback[1].packets.size(), 30000u);
  EXPECT_EQ(feedback[1].packets.back().status, TwccStatus::kSmallDelta);
}

TEST(TransportFeedback, CadenceIsTheIntervalWhileBusyAndEarlyForBursts) {
  TransportFeedbackGenerator generator(
      {.interval = std::chrono::milliseconds(50), .early_send_packets = 20});
  EXPECT_FALSE(generator.poll_timeout());
  generator.on_packet(at_ms(3), 0, 1);
  EXPECT_EQ(generator.poll_timeout(), at_ms(53));
  EXPECT_TRUE(drain(generator, at_ms(52)).empty());  // not yet
  EXPECT_EQ(drain(generator, at_ms(53)).size(), 1u);
  EXPECT_FALSE(generator.poll_timeout());  // idle: no wake-ups
  // A packet soon after: due one interval after the last feedback, not after the packet.
  generator.on_packet(at_ms(60), 1, 1);
  EXPECT_EQ(generator.poll_timeout(), at_ms(103));
  // After a long silence: one interval after the packet would be late; it is due at once.
  drain(generator, at_ms(103));
  generator.on_packet(at_ms(500), 2, 1);
  EXPECT_EQ(generator.poll_timeout(), at_ms(500));
  drain(generator, at_ms(500));
  // A burst: the 20th pending packet makes feedback due at its arrival.
  for (int i = 0; i < 19; ++i) {
    generator.on_packet(at_us(510'000 + i * 100), static_cast<std::uint16_t>(3 + i), 1);
  }
  EXPECT_EQ(generator.poll_timeout(), at_ms(550));
  generator.on_packet(at_ms(512), 22, 1);
  EXPECT_EQ(generator.poll_timeout(), at_ms(512));
}

TEST(TransportFeedback, FeedbackIntervalOverASteadyStream) {
  TransportFeedbackGenerator generator;
  std::vector<Instant> sent_at;
  // 300 packets per second for two seconds; the owner wakes at poll_timeout() as a timer would.
  for (int i = 0; i < 600; ++i) {
    const Instant arrival = at_us(std::int64_t{i} * 3333);
    while (auto due = generator.poll_timeout()) {
      if (*due > arrival) {
        break;
      }
      if (!drain(generator, *due).empty()) {
        sent_at.push_back(*due);
      }
    }
    generator.on_packet(arrival, static_cast<std::uint16_t>(i), 1);
  }
  ASSERT_GT(sent_at.size(), 30u);
  for (std::size_t i = 1; i < sent_at.size(); ++i) {
    const auto gap = sent_at[i] - sent_at[i - 1];
    EXPECT_GE(gap, std::chrono::milliseconds(50));
    EXPECT_LE(gap, std::chrono::milliseconds(54));  // the interval plus one packet spacing
  }
}

TEST(RembCap, SendsTheCapAtStartAndOncePerInterval) {
  RembCap cap({.sender_ssrc = 9, .max_bitrate_bps = 4'000'000});
  EXPECT_FALSE(cap.poll_timeout());
  cap.on_packet(at_ms(10), 0x1111);
  cap.on_packet(at_ms(11), 0x2222);
  cap.on_packet(at_ms(12), 0x1111);
  EXPECT_EQ(cap.poll_timeout(), at_ms(10));
  cap.handle_timeout(at_ms(12));
  auto remb = cap.poll_remb();
  ASSERT_TRUE(remb);
  EXPECT_FALSE(cap.poll_remb());
  EXPECT_EQ(remb->sender_ssrc, 9u);
  EXPECT_EQ(remb->media_ssrc, 0u);
  EXPECT_EQ(remb->bitrate_bps(), 4'000'000u);
  EXPECT_EQ(remb->ssrcs, (std::vector<std::uint32_t>{0x1111, 0x2222}));
  auto parsed = proto::RtcpRemb::parse(remb->serialize());
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->bitrate_bps(), 4'000'000u);
  EXPECT_EQ(cap.poll_timeout(), at_ms(1010));
  cap.handle_timeout(at_ms(1009));
  EXPECT_FALSE(cap.poll_remb());
  cap.handle_timeout(at_ms(1010));
  EXPECT_TRUE(cap.poll_remb());
  // After a stall the next one is an interval from now, not a burst of catch-ups.
  cap.handle_timeout(at_ms(5000));
  EXPECT_TRUE(cap.poll_remb());
  EXPECT_EQ(cap.poll_timeout(), at_ms(6000));
  EXPECT_EQ(cap.sent(), 3u);
}

}  // namespace
}  // namespace ivs::engine
