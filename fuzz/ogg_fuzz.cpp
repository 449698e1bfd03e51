// Fuzzes the Ogg page parser, the packet demultiplexer and the Ogg Opus mapping. Invariants:
// a parsed page never claims more bytes than it was given and its body lies inside them; the
// packets of a file never hold more bytes than the file; a parsed Opus file reports mono or
// stereo; every packet duration is at most 120 ms.
#include <cstdint>
#include <cstdlib>

#include "proto/ogg.hpp"

namespace {

void check(bool condition) {
  if (!condition) {
    std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace ivs::proto;
  const ivs::ByteSpan input(data, size);
  if (auto page = OggPage::parse(input)) {
    check(page->size <= size);
    check(page->body.data() >= data && page->body.data() + page->body.size() <= data + size);
  }
  if (auto packets = parse_ogg_packets(input)) {
    std::size_t total = 0;
    for (const OggPacket& packet : *packets) {
      total += packet.data.size();
    }
    check(total <= size);
  }
  if (auto opus = parse_ogg_opus(input)) {
    check(opus->head.channels == 1 || opus->head.channels == 2);
    for (const ivs::Bytes& packet : opus->packets) {
      if (auto samples = opus_packet_samples(packet)) {
        check(*samples <= 5760);
      }
    }
  }
  if (auto samples = opus_packet_samples(input)) {
    check(*samples > 0 && *samples <= 5760);
  }
  return 0;
}
