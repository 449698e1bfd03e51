// The message the relay's ingest side hands to every fan-out shard (relay.hpp): one RTP packet
// of the publisher (RFC 3550 §5.1), parsed and inspected once, then immutable and
// reference-counted, so shards on other threads read it without copying it or parsing it again.
//
// Why immutable and shared: the ingest side runs on one thread and each media worker's shard on
// its own (docs/architecture.md). A shard only reads the packet; the last shard to let go of it
// frees it. The bytes live inside the object and `view` points into them, so the object is
// neither copied nor moved after make_relay_packet built it.
#pragma once

#include <cstdint>
#include <memory>

#include "engine/peer_session.hpp"  // MediaKind
#include "engine/relay_history.hpp"
#include "proto/bytes.hpp"
#include "proto/h264_payload.hpp"
#include "proto/rtp_packet.hpp"
#include "proto/time.hpp"

namespace ivs::engine {

struct RelayPacket {
  RelayPacket() = default;
  RelayPacket(const RelayPacket&) = delete;
  RelayPacket& operator=(const RelayPacket&) = delete;

  MediaKind kind = MediaKind::kVideo;  // kVideo or kAudio, never kUnknown
  // The packet's name in the ingest history. key.generation changes when the track's numbering
  // does (a new publisher epoch or a new SSRC): a shard restarts its legs' offsets then.
  IngestKey key;
  Instant arrival{};            // when the ingest socket received it
  proto::H264PayloadInfo info;  // video with a payload: what it carries (keyframe parts)
  bool has_payload = false;     // false for padding-only packets (bandwidth probes)
  Bytes bytes;                  // the decrypted RTP packet
  proto::RtpView view;          // parsed from `bytes`
};

using RelayPacketPtr = std::shared_ptr<const RelayPacket>;

// Copies the packet the caller parsed as `parsed` into a new shared packet. The view's offsets are
// relative to its bytes, so it is pointed at the copy rather than parsed again.
RelayPacketPtr make_relay_packet(MediaKind kind, IngestKey key, Instant arrival,
                                 const proto::H264PayloadInfo& info, const proto::RtpView& parsed);

}  // namespace ivs::engine
