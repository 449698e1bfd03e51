#include "engine/relay_packet.hpp"

namespace ivs::engine {

RelayPacketPtr make_relay_packet(MediaKind kind, IngestKey key, Instant arrival,
                                 const proto::H264PayloadInfo& info, const proto::RtpView& parsed) {
  auto packet = std::make_shared<RelayPacket>();
  packet->kind = kind;
  packet->key = key;
  packet->arrival = arrival;
  packet->info = info;
  packet->bytes.assign(parsed.packet.begin(), parsed.packet.end());
  packet->view = parsed;
  packet->view.packet = ByteSpan(packet->bytes);
  packet->has_payload = parsed.payload_size > 0;
  return packet;
}

}  // namespace ivs::engine
