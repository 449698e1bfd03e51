// The HTTP server's admission policy (io/connection_table.hpp) on a simulated clock: per-address
// cap, shedding the longest header-waiting connection, reserved slots, refusal.
#include "io/connection_table.hpp"

#include <gtest/gtest.h>

namespace ivs::io {
namespace {

using Outcome = ConnectionDecision::Outcome;
using std::chrono::seconds;

const Instant kStart = Instant{} + seconds(100);

TEST(ConnectionTable, AdmitsUpToTheLimitThenShedsTheOldestHeaderWaiter) {
  ConnectionTable table({.max_connections = 2, .reserved = 0, .max_per_ip = 0});
  int closed = 0;
  const auto a = table.add("10.0.0.1", SlotKind::general, kStart, [&] { ++closed; });
  const auto b = table.add("10.0.0.2", SlotKind::general, kStart + seconds(1), [] {});
  auto decision = table.decide("10.0.0.3");
  EXPECT_EQ(decision.outcome, Outcome::admit);
  ASSERT_TRUE(decision.evict);
  EXPECT_EQ(*decision.evict, a);
  // Once `a` is working (header in), `b` is the one to shed.
  table.set_awaiting_header(a, false, kStart + seconds(2));
  decision = table.decide("10.0.0.3");
  ASSERT_TRUE(decision.evict);
  EXPECT_EQ(*decision.evict, b);
  (*table.closer(a))();
  EXPECT_EQ(closed, 1);
}

TEST(ConnectionTable, KeepAliveIdleCountsFromWhenItStartedWaiting) {
  ConnectionTable table({.max_connections = 2, .reserved = 0, .max_per_ip = 0});
  const auto a = table.add("10.0.0.1", SlotKind::general, kStart, [] {});
  const auto b = table.add("10.0.0.2", SlotKind::general, kStart + seconds(1), [] {});
  // `a` served a request and waits again for its next header, since after `b` began.
  table.set_awaiting_header(a, false, kStart + seconds(2));
  table.set_awaiting_header(a, true, kStart + seconds(3));
  const auto decision = table.decide("10.0.0.3");
  ASSERT_TRUE(decision.evict);
  EXPECT_EQ(*decision.evict, b);
}

TEST(ConnectionTable, ReservedSlotsWhenNothingCanBeShedThenRefusal) {
  ConnectionTable table({.max_connections = 1, .reserved = 1, .max_per_ip = 0});
  const auto busy = table.add("10.0.0.1", SlotKind::general, kStart, [] {});
  table.set_awaiting_header(busy, false, kStart);
  auto decision = table.decide("10.0.0.2");
  EXPECT_EQ(decision.outcome, Outcome::admit);
  EXPECT_EQ(decision.slot, SlotKind::reserved);
  EXPECT_FALSE(decision.evict);
  const auto probe = table.add("10.0.0.2", SlotKind::reserved, kStart, [] {});
  EXPECT_EQ(table.reserved_in_use(), 1u);
  EXPECT_EQ(table.general_count(), 1u);
  // A reserved connection waiting for its header is never shed for a general one.
  decision = table.decide("10.0.0.3");
  EXPECT_EQ(decision.outcome, Outcome::refuse_full);
  table.remove(probe);
  EXPECT_EQ(table.decide("10.0.0.3").slot, SlotKind::reserved);
}

TEST(ConnectionTable, PerAddressCapComesFirst) {
  ConnectionTable table({.max_connections = 10, .reserved = 2, .max_per_ip = 2});
  const auto a = table.add("10.0.0.1", SlotKind::general, kStart, [] {});
  table.add("10.0.0.1", SlotKind::general, kStart, [] {});
  EXPECT_EQ(table.decide("10.0.0.1").outcome, Outcome::refuse_per_ip);
  EXPECT_EQ(table.decide("10.0.0.2").outcome, Outcome::admit);
  EXPECT_EQ(table.count_for("10.0.0.1"), 2u);
  table.remove(a);
  EXPECT_EQ(table.decide("10.0.0.1").outcome, Outcome::admit);
  table.remove(a);  // removing twice is harmless (eviction and the session's own exit)
  EXPECT_EQ(table.count_for("10.0.0.1"), 1u);
  EXPECT_EQ(table.size(), 1u);
}

}  // namespace
}  // namespace ivs::io
