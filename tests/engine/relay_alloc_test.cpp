// DESIGN.md §4: no allocation per packet per egress leg. The story: a relay that queued an owned
// copy per packet per leg spent most of its time in malloc at a few hundred legs. This test
// counts heap allocations (a replaced global operator new in this test executable) while
// relaying the same media to 1 leg and to 40 legs, after a warm-up that fills every history
// slot; the counts must be equal, so whatever allocates is per packet, not per leg.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <new>

#include "engine/relay.hpp"
#include "relay_test_util.hpp"

namespace {
std::atomic<std::size_t> g_allocations{0};
}  // namespace

void* operator new(std::size_t size) {
  ++g_allocations;
  if (void* memory = std::malloc(size == 0 ? 1 : size)) {
    return memory;
  }
  throw std::bad_alloc();
}
void operator delete(void* memory) noexcept {
  std::free(memory);
}
void operator delete(void* memory, std::size_t) noexcept {
  std::free(memory);
}

namespace ivs::engine {
namespace {

using namespace relay_test;

Instant at(int ms) {
  return Instant{} + std::chrono::milliseconds(ms);
}

// Allocations made while relaying 3 GOPs to `leg_count` warmed-up legs.
std::size_t allocations_for(std::size_t leg_count) {
  RelayConfig config;
  config.video_history_packets = 64;
  config.audio_history_packets = 16;
  Relay relay(config);
  RecordingSink feedback;
  TestPublisher publisher;
  relay.start_publisher(at(0), ingest_format(), feedback);

  class NullSink final : public RelaySink {
   public:
    void send_rtp(ByteSpan packet) override { sent += packet.size(); }
    void send_rtcp(ByteSpan) override {}
    std::size_t sent = 0;
  };
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

TEST(RelayAllocationTest, AllocationsDoNotGrowWithTheNumberOfLegs) {
  const std::size_t one = allocations_for(1);
  const std::size_t many = allocations_for(40);
  EXPECT_EQ(many, one) << "something allocates per packet per leg";
}

}  // namespace
}  // namespace ivs::engine
