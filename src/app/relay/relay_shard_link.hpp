// What a RelayChannel tells the relay's fan-out shards that run on media workers
// (worker_shard.hpp), and what it reads back for its status. The channel calls every method on
// its own thread; an implementation carries the message to its worker's thread (asio::post), so
// the order of the channel's calls is the order the shard sees. The reads are thread-safe.
//
// The messages are the relay's seam (engine/relay.hpp): a publisher epoch starts or ends, an
// accepted ingest packet (immutable, shared: the worker reads it where the channel left it), and
// the H.264 profile-level-id the egress offers should carry. "Keyframe wanted" flows back
// through the callback the channel hands the shard (RelayChannel::keyframe_requester).
//
// WHEP viewers (worker_viewers.hpp): once the channel has shared the media plane's socket with
// a shard, a connected viewer's media is sent by that shard's worker; the channel names the
// viewer by a key of its own and carries its RTCP, its moves and its end there.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "app/relay/forward_delay.hpp"
#include "engine/relay.hpp"
#include "engine/relay_packet.hpp"
#include "engine/srtp_session.hpp"
#include "io/udp_port.hpp"
#include "proto/rtcp_compound.hpp"
#include "proto/socket_address.hpp"

namespace ivs::app {

class RelayShardLink {
 public:
  virtual ~RelayShardLink() = default;

  virtual void source_started(const engine::RelaySourceFormat& format) = 0;
  virtual void source_stopped() = 0;
  virtual void packet(const engine::RelayPacketPtr& packet) = 0;
  virtual void set_profile_level_id(const std::string& value) = 0;

  // WHEP viewers on the shard's worker.
  virtual void share_socket(io::SocketDuplicate socket) = 0;
  virtual void open_viewer(std::uint64_t key, const engine::RelayEgressFormat& format,
                           std::unique_ptr<engine::SrtpSession> outbound,
                           const SocketAddress& remote) = 0;
  virtual void viewer_feedback(std::uint64_t key, std::vector<proto::RtcpPacket> packets) = 0;
  virtual void viewer_moved(std::uint64_t key, const SocketAddress& remote) = 0;
  virtual void close_viewer(std::uint64_t key) = 0;

  // Thread-safe reads for the channel's status: every leg of the shard (stages and viewers;
  // what loads the worker), and the viewers' among them.
  virtual std::size_t leg_count() const = 0;
  virtual std::size_t viewer_leg_count() const = 0;
  virtual ForwardDelayHistogram forward_delay() const = 0;
};

}  // namespace ivs::app
