// The per-packet path must not allocate (DESIGN.md §4: no allocation per packet per egress).
// This executable replaces the global operator new to count allocations made while parsing,
// walking and rewriting, so a change that starts allocating fails here rather than in a
// benchmark.
#include <gtest/gtest.h>

#include <cstdlib>
#include <new>

#include "proto/h264_payload.hpp"
#include "proto/rtcp_compound.hpp"
#include "proto/rtp_builder.hpp"
#include "proto/rtp_rewrite.hpp"

namespace {
std::size_t allocations = 0;
}  // namespace

void* operator new(std::size_t size) {
  ++allocations;
  if (void* memory = std::malloc(size == 0 ? 1 : size)) {
    return memory;
  }
  throw std::bad_alloc();
}
// The replaced operator new above takes its memory from malloc, so free() is the matching
// release. GCC (-O1 and up) inlines this delete into gtest's `new TestClass` and, seeing free()
// after a new-expression, warns of a mismatch it cannot see is deliberate.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
void operator delete(void* memory) noexcept {
  std::free(memory);
}
void operator delete(void* memory, std::size_t) noexcept {
  std::free(memory);
}
#pragma GCC diagnostic pop

namespace ivs::proto {
namespace {

TEST(RtpAllocation, ParseWalkAndRewriteAllocateNothing) {
  RtpPacket packet;
  packet.payload_type = 96;
  packet.extensions = {{1, {1}}, {3, {1, 2, 3}}, {5, {0, 9}}};
  packet.payload = {0x7c, 0x85, 1, 2, 3};
  const Bytes original = *packet.serialize();
  Bytes copy = original;
  RtpExtensionIdMap map;
  map.set(1, 4);
  map.set(5, 2);
  const Bytes rtcp = RtcpPli{1, 2}.serialize();

  const std::size_t before = allocations;
  auto view = parse_rtp(original);
  ASSERT_TRUE(view);
  auto walk = view->extensions();
  std::size_t elements = 0;
  while (walk.next()) {
    ++elements;
  }
  set_rtp_ssrc(copy, 7);
  set_rtp_sequence_number(copy, 8);
  set_rtp_timestamp(copy, 9);
  set_rtp_payload_type(copy, 100);
  set_rtp_marker(copy, true);
  remap_rtp_extension_ids(copy, *view, map);
  // The copy already carries the new id.
  auto stamp = mutable_rtp_extension(copy, *view, 2);
  ASSERT_EQ(stamp.size(), 2u);
  write_u16(stamp.data(), 1234);
  auto h264 = inspect_h264_payload(view->payload());
  RtcpCompoundWalker walker(rtcp);
  auto rtcp_view = walker.next();
  EXPECT_EQ(allocations, before);

  EXPECT_EQ(elements, 3u);
  EXPECT_TRUE(h264 && h264->packetization == H264Packetization::kFuA);
  EXPECT_TRUE(rtcp_view && *rtcp_view);

  // The counter is live: the owning builder does allocate.
  const std::size_t mark = allocations;
  (void)packet.serialize();
  EXPECT_GT(allocations, mark);
}

}  // namespace
}  // namespace ivs::proto
