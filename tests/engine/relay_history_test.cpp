// The relay's NACK history parts (relay_history.hpp): the shared ingest ring names each packet by
// source generation and extended sequence number and never lets a late packet displace a newer
// one; the per-leg ring answers only for the exact outgoing sequence number it recorded.
#include "engine/relay_history.hpp"

#include <gtest/gtest.h>

#include "engine/relay_packet.hpp"

namespace ivs::engine {
namespace {

std::shared_ptr<const RelayPacket> packet_of(IngestKey key, std::uint8_t fill,
                                             std::size_t size = 100) {
  auto packet = std::make_shared<RelayPacket>();
  packet->key = key;
  packet->bytes.assign(size, fill);
  return packet;
}

TEST(IngestHistoryTest, FindsWhatWasStoredUntilANewerPacketTakesTheSlot) {
  IngestHistory history(8);
  history.store(packet_of({1, 100}, 0xA0));
  history.store(packet_of({1, 101}, 0xA1, 1400));
  EXPECT_EQ(Bytes(history.find({1, 100}).begin(), history.find({1, 100}).end()), Bytes(100, 0xA0));
  EXPECT_EQ(history.find({1, 101}).size(), 1400u);
  EXPECT_TRUE(history.find({1, 102}).empty()) << "never stored";
  EXPECT_TRUE(history.find({2, 100}).empty()) << "same number, other generation";

  history.store(packet_of({1, 108}, 0xA8));  // 108 mod 8 == 100 mod 8
  EXPECT_TRUE(history.find({1, 100}).empty()) << "overwritten: must not answer with 108's bytes";
  EXPECT_EQ(history.find({1, 108}).front(), 0xA8);
}

TEST(IngestHistoryTest, LatePacketNeverDisplacesANewerOneButANewGenerationDoes) {
  IngestHistory history(8);
  history.store(packet_of({1, 108}, 0xA8));
  history.store(packet_of({1, 100}, 0xA0));  // a retransmission older than the window
  EXPECT_TRUE(history.find({1, 100}).empty());
  EXPECT_EQ(history.find({1, 108}).front(), 0xA8);

  history.store(packet_of({2, 4}, 0xB4));  // a new publisher: its own numbering
  EXPECT_TRUE(history.find({1, 108}).empty());
  EXPECT_EQ(history.find({2, 4}).front(), 0xB4);
}

// Every shard of a media worker keeps the same packets: the history must hold the ingest side's
// shared packet, not a copy (copies cost ~1.5 MB per shard), and let it go once overwritten.
TEST(IngestHistoryTest, HoldsTheSharedPacketItselfAndLetsItGoWhenOverwritten) {
  IngestHistory first_shard(8);
  IngestHistory second_shard(8);
  auto packet = packet_of({1, 100}, 0xA0);
  first_shard.store(packet);
  second_shard.store(packet);
  EXPECT_EQ(first_shard.find({1, 100}).data(), packet->bytes.data());
  EXPECT_EQ(second_shard.find({1, 100}).data(), packet->bytes.data());
  const std::weak_ptr<const RelayPacket> watched = packet;
  packet.reset();
  EXPECT_FALSE(watched.expired());
  first_shard.store(packet_of({1, 108}, 0xA8));
  second_shard.store(packet_of({1, 108}, 0xA8));
  EXPECT_TRUE(watched.expired());
}

TEST(IngestHistoryTest, ZeroCapacityKeepsNothing) {
  IngestHistory history(0);
  history.store(packet_of({1, 1}, 1));
  EXPECT_TRUE(history.find({1, 1}).empty());
}

TEST(LegHistoryTest, AnswersOnlyTheExactSequenceNumberAndKeepsWhatTheRewriteNeeds) {
  LegHistory history(4);
  EXPECT_FALSE(history.find(10).has_value()) << "nothing recorded yet";
  history.record(10, {7, 1000}, 0xDEADBEEF, 0xABCDEF, 3);
  const auto entry = history.find(10);
  ASSERT_TRUE(entry.has_value());
  EXPECT_EQ(entry->ingest().generation, 7u);
  EXPECT_EQ(entry->ingest().sequence, 1000u);
  EXPECT_EQ(entry->timestamp, 0xDEADBEEFu);
  EXPECT_EQ(entry->abs_send_time(), 0xABCDEFu);
  EXPECT_EQ(entry->config_epoch(), 3u);
  EXPECT_FALSE(history.find(14).has_value()) << "same slot, other number";

  history.record(14, {7, 1004}, 1, 2, 3);
  EXPECT_FALSE(history.find(10).has_value()) << "overwritten by 14";
  EXPECT_EQ(history.memory_bytes(), 4 * 16u) << "16 bytes per entry whatever the packet size";
}

TEST(LegHistoryTest, SequenceNumbersWrapAround) {
  LegHistory history(16);
  history.record(65535, {1, 70000}, 0, 0, 0);
  history.record(0, {1, 70001}, 0, 0, 0);
  EXPECT_EQ(history.find(65535)->ingest().sequence, 70000u);
  EXPECT_EQ(history.find(0)->ingest().sequence, 70001u);
}

}  // namespace
}  // namespace ivs::engine
