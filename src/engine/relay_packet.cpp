#include "engine/relay_packet.hpp"

namespace ivs::engine {

RelayPacketPtr make_relay_packet(MediaKind kind, IngestKey key, Instant arrival,
                                 const proto::H264PayloadInfo& info, ByteSpan bytes) {
  auto packet = std::make_shared<RelayPacket>();
  packet->kind = kind;
  packet->key = key;
  packet->arrival = arrival;
  packet->info = info;
  packet->bytes.assign(bytes.begin(), bytes.end());
  auto view = proto::parse_rtp(packet->bytes);
  if (!view) {
    return nullptr;  // the caller parsed these very bytes already: not reached
  }
  packet->view = *view;
  packet->has_payload = packet->view.payload_size > 0;
  return packet;
}

}  // namespace ivs::engine
