// DESIGN.md §4: no allocation per packet per egress leg. The story: a relay that queued an owned
// copy per packet per leg spent most of its time in malloc at a few hundred legs. This test
// counts heap allocations (a replaced global operator new in this test executable) while
// relaying the same media to 1 leg and to 40 legs, after a warm-up that fills every history
// slot; the counts must be equal, so whatever allocates is per packet, not per leg.
//
// Issue 6 (RSS per egress session): a leg once kept its own copy of every packet it might have to
// resend, 1024 × ~1.2 KB per video leg. The second test counts the bytes allocated per leg while
// warming up the full default histories with large and with small packets: the same, and a few
// tens of KiB, because a leg only remembers how it rewrote each packet (relay_history.hpp).
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <new>

#include "engine/relay.hpp"
#include "relay_test_util.hpp"

namespace {
std::atomic<std::size_t> g_allocations{0};
std::atomic<std::size_t> g_allocated_bytes{0};
}  // namespace

void* operator new(std::size_t size) {
  ++g_allocations;
  g_allocated_bytes += size;
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

namespace ivs::engine {
namespace {

using namespace relay_test;

class NullSink final : public RelaySink {
 public:
  void send_rtp(ByteSpan packet) override { sent += packet.size(); }
  void send_rtcp(ByteSpan) override {}
  std::size_t sent = 0;
};

// Allocations made while relaying 3 GOPs to `leg_count` warmed-up legs.
std::size_t allocations_for(std::size_t leg_count) {
  RelayConfig config;
  config.video_history_packets = 64;
  config.audio_history_packets = 16;
  Relay relay(config);
  RecordingSink feedback;
  TestPublisher publisher;
  relay.start_publisher(at(0), ingest_format(), feedback);

  std::vector<NullSink> sinks(leg_count);
  for (std::size_t i = 0; i < leg_count; ++i) {
    relay.add_egress(at(0), egress_format(0x100 + 2 * i, 0x101 + 2 * i), sinks[i]);
  }
  // Pre-build every packet so building them is not counted.
  std::vector<std::vector<Bytes>> video;
  std::vector<Bytes> audio;
  for (int gop = 0; gop < 8; ++gop) {
    video.push_back(publisher.keyframe());
    for (int frame = 0; frame < 20; ++frame) {
      video.push_back(publisher.delta());
      audio.push_back(publisher.audio());
    }
  }
  int ms = 0;
  auto play = [&](std::size_t from, std::size_t to) {
    for (std::size_t i = from; i < to; ++i) {
      feed(relay, at(ms), video[i]);
      if (i < audio.size()) {
        relay.handle_publisher_rtp(at(ms), MediaKind::kAudio, audio[i]);
      }
      ms += 33;
    }
  };
  play(0, video.size() / 2);  // warm-up: history slots and cache buffers reach full size
  const std::size_t before = g_allocations.load();
  play(video.size() / 2, video.size());
  return g_allocations.load() - before;
}

// A P slice of `payload_bytes` (single NAL unit packet) continuing the publisher's numbering.
Bytes sized_delta(TestPublisher& publisher, std::size_t payload_bytes) {
  proto::RtpPacket packet;
  packet.payload_type = kIngestVideoPt;
  packet.sequence_number = publisher.video_sequence++;
  packet.timestamp = publisher.video_timestamp;
  publisher.video_timestamp += 3000;
  packet.ssrc = publisher.video_ssrc;
  packet.extensions.push_back({kIngestMidId, {'1'}});
  packet.payload = Bytes(payload_bytes, 0x5A);
  packet.payload[0] = 0x41;  // NAL header: nal_ref_idc 2, type 1 (non-IDR slice)
  return *packet.serialize();
}

// Bytes allocated, from before the legs are added until the default-sized histories (1024 video,
// 128 audio) have wrapped, with `leg_count` legs and video payloads of `payload_bytes`.
std::size_t bytes_allocated_for(std::size_t leg_count, std::size_t payload_bytes) {
  Relay relay(RelayConfig{});
  RecordingSink feedback;
  TestPublisher publisher;
  relay.start_publisher(at(0), ingest_format(), feedback);
  const auto keyframe = publisher.keyframe();
  std::vector<Bytes> video;
  std::vector<Bytes> audio;
  for (int i = 0; i < 1200; ++i) {
    video.push_back(sized_delta(publisher, payload_bytes));
    audio.push_back(publisher.audio());
  }
  std::vector<NullSink> sinks(leg_count);
  const std::size_t before = g_allocated_bytes.load();
  for (std::size_t i = 0; i < leg_count; ++i) {
    relay.add_egress(at(0), egress_format(0x100 + 2 * i, 0x101 + 2 * i), sinks[i]);
  }
  feed(relay, at(0), keyframe);
  for (std::size_t i = 0; i < video.size(); ++i) {
    relay.handle_publisher_rtp(at(1), MediaKind::kVideo, video[i]);
    relay.handle_publisher_rtp(at(1), MediaKind::kAudio, audio[i]);
  }
  EXPECT_GT(sinks[0].sent, 1200 * payload_bytes) << "the legs did not send the video";
  return g_allocated_bytes.load() - before;
}

TEST(RelayAllocationTest, HistoryBytesPerLegAreSmallAndIndependentOfPacketSize) {
  const std::size_t large_one = bytes_allocated_for(1, 1200);
  const std::size_t large_eleven = bytes_allocated_for(11, 1200);
  const std::size_t small_one = bytes_allocated_for(1, 100);
  const std::size_t small_eleven = bytes_allocated_for(11, 100);
  const std::size_t per_leg_large = (large_eleven - large_one) / 10;
  const std::size_t per_leg_small = (small_eleven - small_one) / 10;
  EXPECT_EQ(per_leg_large, per_leg_small) << "a leg's memory depends on the packet size";
  // 1152 history entries × 16 bytes, the leg's configuration and bookkeeping.
  EXPECT_LT(per_leg_large, std::size_t{32} * 1024) << "per leg: " << per_leg_large << " bytes";
  RecordProperty("bytes_per_leg", static_cast<int>(per_leg_large));
}

TEST(RelayAllocationTest, AllocationsDoNotGrowWithTheNumberOfLegs) {
  const std::size_t one = allocations_for(1);
  const std::size_t many = allocations_for(40);
  EXPECT_EQ(many, one) << "something allocates per packet per leg";
}

}  // namespace
}  // namespace ivs::engine
