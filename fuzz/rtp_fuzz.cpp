// Fuzzes parse_rtp, the extension walk, the in-place rewrite helpers and RTX wrapping. Where
// parsing succeeds: the owned copy must serialize, and the re-parsed bytes must describe the same
// packet; an identity remap must not change a byte; any remap must leave a packet that still parses
// with the same header layout.
#include <cstdint>
#include <cstdlib>

#include "proto/rtp_builder.hpp"
#include "proto/rtp_packet.hpp"
#include "proto/rtp_rewrite.hpp"
#include "proto/rtp_rtx.hpp"

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
  auto view = parse_rtp(input);
  if (!view) {
    return 0;
  }
  const RtpPacket packet = RtpPacket::from_view(*view);
  auto bytes = packet.serialize();
  check(bytes.ok());
  auto reparsed = parse_rtp(*bytes);
  check(reparsed.ok());
  check(RtpPacket::from_view(*reparsed) == packet);

  // RFC 4588 wrap then unwrap gives the original back, minus its padding.
  ivs::Bytes rtx(rtx_packet_size(*view));
  check(write_rtx_packet(rtx, *view, 97, 0x5678, 9).ok());
  auto rtx_view = parse_rtp(rtx);
  check(rtx_view.ok());
  ivs::Bytes restored(rtx.size());
  auto restored_size = unwrap_rtx_packet(restored, *rtx_view, view->payload_type, view->ssrc);
  check(restored_size.ok());
  restored.resize(*restored_size);
  RtpPacket unpadded = packet;
  unpadded.padding_size = 0;
  check(RtpPacket::from_view(*parse_rtp(restored)) == unpadded);

  ivs::Bytes copy(input.begin(), input.end());
  remap_rtp_extension_ids(copy, *view, RtpExtensionIdMap::identity());
  check(copy == ivs::Bytes(input.begin(), input.end()));

  // A map chosen by the input: id i goes to data[i % size] (0 drops it).
  RtpExtensionIdMap map;
  for (int id = 1; id < 256; ++id) {
    map.set(static_cast<std::uint8_t>(id), data[id % size]);
  }
  remap_rtp_extension_ids(copy, *view, map);
  set_rtp_sequence_number(copy, 1);
  auto remapped = parse_rtp(copy);
  check(remapped.ok());
  check(remapped->payload_offset == view->payload_offset);
  check(remapped->payload_size == view->payload_size);
  return 0;
}
