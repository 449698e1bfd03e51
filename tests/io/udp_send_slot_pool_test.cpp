// UdpSendSlotPool (io/udp_send_slot_pool.hpp): lowest-free allocation keeps the slots in use
// packed at the front, a full pool refuses, and the pages a burst left behind are given back
// (they read as zeros again) while the ones in use and the window's depth keep their bytes.
#include "io/udp_send_slot_pool.hpp"

#include <gtest/gtest.h>

#include <cstring>
#include <vector>

namespace ivs::io {
namespace {

TEST(UdpSendSlotPool, AcquiresTheLowestFreeSlot) {
  UdpSendSlotPool pool(200, 64);
  for (std::uint32_t i = 0; i < 130; ++i) {
    ASSERT_EQ(pool.acquire(), i);
  }
  EXPECT_EQ(pool.in_use(), 130u);
  pool.release(70);
  pool.release(3);
  pool.release(129);
  EXPECT_EQ(pool.acquire(), 3u);
  EXPECT_EQ(pool.acquire(), 70u);
  EXPECT_EQ(pool.acquire(), 129u);
  EXPECT_EQ(pool.acquire(), 130u);
  EXPECT_EQ(pool.touched_slots(), 131u);
}

TEST(UdpSendSlotPool, AFullPoolRefusesUntilASlotIsReleased) {
  // 70 slots: the last bitmap word is partly past the end, and those bits must never be lent.
  UdpSendSlotPool pool(70, 64);
  for (std::uint32_t i = 0; i < 70; ++i) {
    ASSERT_EQ(pool.acquire(), i);
  }
  EXPECT_EQ(pool.acquire(), UdpSendSlotPool::kNone);
  EXPECT_EQ(pool.acquire(), UdpSendSlotPool::kNone);
  pool.release(41);
  EXPECT_EQ(pool.acquire(), 41u);
  EXPECT_EQ(pool.acquire(), UdpSendSlotPool::kNone);
}

constexpr std::size_t kSlotBytes = 2048;

// A burst of `count` slots written whole, then drained except slot `kept` (a port waiting for
// writability keeps its datagrams queued).
void burst_keeping_one(UdpSendSlotPool& pool, int count, std::uint32_t kept) {
  std::vector<std::uint32_t> burst;
  for (int i = 0; i < count; ++i) {
    burst.push_back(pool.acquire());
    std::memset(pool.payload(burst.back()), 0xAB, kSlotBytes);
  }
  for (std::uint32_t index : burst) {
    if (index != kept) {
      pool.release(index);
    }
  }
}

TEST(UdpSendSlotPool, PagesBehindTheSlotsInUseAreGivenBackAfterABurst) {
  UdpSendSlotPool pool(4096, kSlotBytes);
  burst_keeping_one(pool, 1000, 5);
  // Steady traffic of four slots at a time for a whole window, then some.
  for (std::size_t turn = 0; turn < pool.release_window(); ++turn) {
    std::uint32_t held[4];
    for (auto& index : held) {
      index = pool.acquire();
      ASSERT_LT(index, 6u);
      std::memset(pool.payload(index), 0xCD, 16);
    }
    for (auto index : held) {
      pool.release(index);
    }
  }
  EXPECT_LT(pool.touched_slots(), 6u + UdpSendSlotPool::kReleaseSlack);
  // The slot in use kept its bytes; a slot beyond the window's depth reads as zeros again.
  EXPECT_EQ(pool.payload(5)[kSlotBytes - 1], 0xAB);
  EXPECT_EQ(pool.payload(900)[0], 0);
  EXPECT_EQ(pool.payload(900)[kSlotBytes - 1], 0);
}

TEST(UdpSendSlotPool, ASlotInUseDeepInThePoolKeepsItsPages) {
  UdpSendSlotPool pool(4096, kSlotBytes);
  // Slot 599 stays queued (acquired before this window began) while everything else drains.
  burst_keeping_one(pool, 600, 599);
  for (std::size_t turn = 0; turn < 2 * pool.release_window(); ++turn) {
    pool.release(pool.acquire());
  }
  EXPECT_EQ(pool.payload(599)[0], 0xAB);
  EXPECT_EQ(pool.payload(599)[kSlotBytes - 1], 0xAB);
  EXPECT_GE(pool.touched_slots(), 600u);
}

}  // namespace
}  // namespace ivs::io
