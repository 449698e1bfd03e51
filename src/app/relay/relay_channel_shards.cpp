// RelayChannel and the relay's fan-out shards on media workers (relay_shard_link.hpp): every
// publisher input the channel's own relay gets is carried to them as the relay's messages.
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

#include "app/relay/relay_channel.hpp"
#include "engine/relay_packet.hpp"

namespace ivs::app {

void RelayChannel::add_shard(RelayShardLink& shard) {
  shards_.push_back(&shard);
  shard.set_profile_level_id(h264_profile_level_id());
  if (relay_.has_publisher()) {
    shard.source_started(relay_.source_format());
  }
}

std::function<void()> RelayChannel::keyframe_requester() {
  return [&io = io_, alive = std::weak_ptr<bool>(alive_), this] {
    boost::asio::post(io, [alive, this] {
      if (alive.lock()) {
        const Instant now = clock_.now();
        relay_.request_keyframe(now);
        after_relay_input(now);
      }
    });
  };
}

void RelayChannel::feed_relay(Instant now, engine::MediaKind kind, ByteSpan packet) {
  const engine::RelayPacketPtr accepted = relay_.handle_publisher_rtp(now, kind, packet);
  if (accepted) {
    for (RelayShardLink* shard : shards_) {
      shard->packet(accepted);
    }
  }
}

void RelayChannel::start_relay_source(Instant now, const engine::RelaySourceFormat& format,
                                      engine::RelaySink& feedback) {
  relay_.start_publisher(now, format, feedback);
  for (RelayShardLink* shard : shards_) {
    shard->source_started(format);
  }
}

void RelayChannel::stop_relay_source(Instant now) {
  relay_.stop_publisher(now);
  for (RelayShardLink* shard : shards_) {
    shard->source_stopped();
  }
}

// The egress offers of sessions on workers carry the publisher's profile-level-id; they read it
// on their own thread, so it is pushed whenever it may have changed.
void RelayChannel::publish_profile_level_id() {
  if (shards_.empty()) {
    return;
  }
  const std::string value = h264_profile_level_id();
  for (RelayShardLink* shard : shards_) {
    shard->set_profile_level_id(value);
  }
}

}  // namespace ivs::app
