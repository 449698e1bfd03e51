// What a RelayChannel tells the relay's fan-out shards that run on media workers
// (worker_shard.hpp), and what it reads back for its status. The channel calls every method on
// its own thread; an implementation carries the message to its worker's thread (asio::post), so
// the order of the channel's calls is the order the shard sees. The reads are thread-safe.
//
// The messages are the relay's seam (engine/relay.hpp): a publisher epoch starts or ends, an
// accepted ingest packet (immutable, shared: the worker reads it where the channel left it), and
// the H.264 profile-level-id the egress offers should carry. "Keyframe wanted" flows back
// through the callback the channel hands the shard (RelayChannel::keyframe_requester).
#pragma once

#include <cstddef>
#include <string>

#include "app/relay/forward_delay.hpp"
#include "engine/relay.hpp"
#include "engine/relay_packet.hpp"

namespace ivs::app {

class RelayShardLink {
 public:
  virtual ~RelayShardLink() = default;

  virtual void source_started(const engine::RelaySourceFormat& format) = 0;
  virtual void source_stopped() = 0;
  virtual void packet(const engine::RelayPacketPtr& packet) = 0;
  virtual void set_profile_level_id(const std::string& value) = 0;

  // Thread-safe reads for the channel's status.
  virtual std::size_t leg_count() const = 0;
  virtual ForwardDelayHistogram forward_delay() const = 0;
};

}  // namespace ivs::app
