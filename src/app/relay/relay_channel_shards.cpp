// RelayChannel and the relay's fan-out shards on media workers (relay_shard_link.hpp): every
// publisher input the channel's own relay gets is carried to them as the relay's messages.
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

#include <spdlog/spdlog.h>

#include "app/relay/relay_channel.hpp"
#include "app/relay/relay_channel_session.hpp"
#include "engine/relay_packet.hpp"

namespace ivs::app {

void RelayChannel::add_shard(RelayShardLink& shard) {
  shards_.push_back(&shard);
  if (auto socket = plane_.duplicate_socket()) {
    shard.share_socket(std::move(*socket));
    viewer_shards_.push_back(&shard);
  } else {
    spdlog::warn("[{}] WHEP viewers' media stays on the ingest thread: {}", options_.name,
                 socket.error().message);
  }
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

// A connected viewer's media goes to a worker when the plane hands over its SRTP context (it
// does for real sessions; a test's fake host may not, and then the viewer stays here).
bool RelayChannel::open_viewer_on_worker(Session& session,
                                         const engine::RelayEgressFormat& format) {
  if (viewer_shards_.empty() || !session.layer.empty()) {
    return false;  // ?layer= viewers take their layer's relay, which runs here
  }
  const std::optional<SocketAddress> remote = plane_.remote_address(session.ice_id);
  if (!remote) {
    return false;
  }
  std::unique_ptr<engine::SrtpSession> outbound = plane_.take_outbound_srtp(session.ice_id);
  if (!outbound) {
    return false;
  }
  RelayShardLink* shard = least_loaded_viewer_shard();
  const std::uint64_t key = next_viewer_key_++;
  shard->open_viewer(key, format, std::move(outbound), *remote);
  session.worker_leg = Session::WorkerLeg{shard, key, *remote};
  return true;
}

// The shard with the fewest legs (stages and viewers); among equals, the one with fewer of this
// channel's viewers, whose legs may not have attached yet (a burst of viewers connecting at once
// is spread before the counts move).
RelayShardLink* RelayChannel::least_loaded_viewer_shard() const {
  RelayShardLink* best = nullptr;
  std::size_t best_legs = 0;
  std::size_t best_viewers = 0;
  for (RelayShardLink* shard : viewer_shards_) {
    std::size_t viewers = 0;
    for (const auto& [id, session] : sessions_) {
      viewers += session->worker_leg && session->worker_leg->shard == shard ? 1 : 0;
    }
    const std::size_t legs = shard->leg_count();
    if (best == nullptr || legs < best_legs || (legs == best_legs && viewers < best_viewers)) {
      best = shard;
      best_legs = legs;
      best_viewers = viewers;
    }
  }
  return best;
}

// The viewer's NACKs, PLIs and reports go to its leg on the worker. The address is checked here,
// where ICE runs: a viewer behind a NAT that rebinds is followed by the next report it sends.
void RelayChannel::carry_viewer_rtcp(Session& session, engine::SessionRtcpPacket& rtcp) {
  Session::WorkerLeg& leg = *session.worker_leg;
  if (const auto remote = plane_.remote_address(session.ice_id); remote && *remote != leg.remote) {
    leg.remote = *remote;
    leg.shard->viewer_moved(leg.key, *remote);
  }
  leg.shard->viewer_feedback(leg.key, std::move(rtcp.packets));
}

}  // namespace ivs::app
