// The SRTP replay windows of the OpenSSL backend (RFC 3711 §3.3.2 for SRTP, §3.4 for SRTCP):
// index estimation across the rollover counter, the ring of bits against a plain set of seen
// indices over random traffic, and the SRTCP window's slide. Split from srtp_openssl_test.cpp,
// which keeps the published vectors and the byte-for-byte comparison with libsrtp2.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <random>
#include <set>

#include "engine/srtp_openssl.hpp"

namespace ivs::engine {
namespace {

using srtp_detail::ReplayCheck;
using srtp_detail::RtcpReplayWindow;
using srtp_detail::RtpReplayWindow;

TEST(SrtpReplayWindowTest, IndexEstimationFollowsRollover) {
  RtpReplayWindow window(128);
  auto accept = [&](std::uint16_t sequence) {
    const auto estimate = window.estimate(sequence);
    EXPECT_EQ(window.check(estimate.delta), ReplayCheck::kNew) << sequence;
    window.add(estimate.delta);
    return estimate;
  };
  EXPECT_EQ(accept(65530).index, 65530u);
  EXPECT_EQ(accept(3).index, 0x10003u);             // wrapped: ROC 1
  EXPECT_EQ(window.estimate(65534).index, 65534u);  // late packet from before the wrap: ROC 0
  EXPECT_EQ(window.estimate(65534).delta, -5);
  EXPECT_EQ(window.check(window.estimate(65530).delta), ReplayCheck::kReplayed);
  EXPECT_EQ(accept(30000).index, 0x10000u + 30000u);  // a jump forward under 2^15 stays in ROC 1
  // A jump of more than 2^15 is read as a late packet from the previous ROC, and is too old.
  EXPECT_EQ(window.estimate(65000).index, 65000u);
  EXPECT_EQ(window.check(window.estimate(65000).delta), ReplayCheck::kTooOld);
  EXPECT_EQ(window.estimate(3).delta, 3 - 30000);
  EXPECT_EQ(window.check(window.estimate(3).delta), ReplayCheck::kTooOld);
}

TEST(SrtpReplayWindowTest, TheRingAgreesWithAPlainSetOfSeenIndicesOverRandomTraffic) {
  // The window became a ring of bits (one bit cleared per packet instead of 1,024 shifted): it
  // must judge every packet exactly as "seen before / within `size` of the highest / older"
  // would, for window sizes that are and are not powers of two, and for jumps past the ring.
  for (const std::size_t size : {64u, 128u, 160u, 1000u, 1024u}) {
    RtpReplayWindow window(size);
    const std::size_t tracked = (size + 31) / 32 * 32;  // libsrtp's rounding, kept
    std::set<std::uint64_t> seen;
    std::uint64_t highest = 0;
    std::mt19937 random(static_cast<std::uint32_t>(size));
    for (int packet = 0; packet < 20000; ++packet) {
      // Mostly the next index, sometimes late (reordered or repeated), sometimes a loss burst.
      const int pick = static_cast<int>(random() % 100);
      std::int64_t delta = 1;
      if (pick < 20) {
        delta = -static_cast<std::int64_t>(random() % (tracked + 40));
      } else if (pick < 23) {
        delta = static_cast<std::int64_t>(random() % 3000) + 2;
      }
      if (static_cast<std::int64_t>(highest) + delta < 0) {
        delta = 1;
      }
      const std::uint64_t index = highest + static_cast<std::uint64_t>(delta);
      ReplayCheck expected = ReplayCheck::kNew;
      if (delta <= 0 && static_cast<std::uint64_t>(-delta) >= tracked) {
        expected = ReplayCheck::kTooOld;
      } else if (seen.contains(index)) {
        expected = ReplayCheck::kReplayed;
      }
      ASSERT_EQ(window.check(static_cast<std::int32_t>(delta)), expected)
          << "size " << size << ", packet " << packet << ", delta " << delta;
      if (expected == ReplayCheck::kNew) {
        window.add(static_cast<std::int32_t>(delta));
        seen.insert(index);
        highest = std::max(highest, index);
      }
    }
  }
}

TEST(SrtpReplayWindowTest, RtcpWindowSlidesAndRejectsOld) {
  RtcpReplayWindow window;
  window.add(5);
  EXPECT_EQ(window.check(5), ReplayCheck::kReplayed);
  EXPECT_EQ(window.check(6), ReplayCheck::kNew);
  window.add(300);  // window is now [173, 300]
  EXPECT_EQ(window.check(5), ReplayCheck::kTooOld);
  EXPECT_EQ(window.check(300), ReplayCheck::kReplayed);
  EXPECT_EQ(window.check(200), ReplayCheck::kNew);
  window.add(200);
  EXPECT_EQ(window.check(200), ReplayCheck::kReplayed);
  window.add(301);
  EXPECT_EQ(window.check(200), ReplayCheck::kReplayed);
  EXPECT_EQ(window.check(300), ReplayCheck::kReplayed);
}

}  // namespace
}  // namespace ivs::engine
