// One media worker's part of the serve role's relay (DESIGN.md §4, §5): an engine::RelayFanout
// shard fed by the RelayChannel's messages (RelayShardLink), the EgressMediaSource the WHIP
// egress sessions on this worker attach their legs to, and the owner of those sessions.
//
//   main thread (RelayChannel)                    worker thread (this shard)
//   source_started / packet / source_stopped ─post─► RelayFanout ─RelaySink─► EgressTransport
//   keyframe_requester() ◄────────────post──────── take_keyframe_wanted()     (socket, ICE, DTLS)
//   leg_count(), forward_delay() (thread-safe) ◄─── attach / detach / feedback ◄──┘
//   open_viewer / viewer_feedback / close_viewer ─post─► WorkerViewers (WHEP viewers' legs)
//
// Why the shard owns the transports (egress_transport_host.hpp): a transport must be created,
// driven and destroyed on its worker's thread (its socket and timers belong to that io_context),
// and destroyed before the fan-out it feeds. Owning them here gives both: the signalling halves
// on the main thread (whip_egress_session.hpp) only post commands naming a transport, and
// whatever is left when the workers have stopped is destroyed with the shard, transports first.
#pragma once

#include <boost/asio/io_context.hpp>

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "app/egress/egress_media_source.hpp"
#include "app/egress/egress_session.hpp"
#include "app/egress/egress_transport_host.hpp"
#include "app/relay/forward_delay.hpp"
#include "app/relay/relay_shard_link.hpp"
#include "app/relay/worker_viewers.hpp"
#include "engine/relay_fanout.hpp"
#include "io/engine_timer.hpp"

namespace ivs::app {

class WorkerShard final : public RelayShardLink, public EgressMediaSource {
 public:
  // `io` is the worker's loop, `channel_io` the RelayChannel's; `config` is the channel's
  // options().relay (its clock reference included). `request_keyframe` may be called
  // from the worker's thread (it posts to the channel's). Leg ids start at `first_id`, distinct
  // per shard.
  WorkerShard(boost::asio::io_context& io, boost::asio::io_context& channel_io,
              const engine::RelayConfig& config, engine::EgressId first_id,
              std::function<void()> request_keyframe);
  ~WorkerShard() override;
  WorkerShard(const WorkerShard&) = delete;
  WorkerShard& operator=(const WorkerShard&) = delete;

  boost::asio::io_context& io() { return io_; }

  // RelayShardLink: on the channel's thread, carried to the worker's.
  void source_started(const engine::RelaySourceFormat& format) override;
  void source_stopped() override;
  void packet(const engine::RelayPacketPtr& packet) override;
  void set_profile_level_id(const std::string& value) override;
  void share_socket(io::SocketDuplicate socket) override;
  void open_viewer(std::uint64_t key, const engine::RelayEgressFormat& format,
                   std::unique_ptr<engine::SrtpSession> outbound,
                   const SocketAddress& remote) override;
  void viewer_feedback(std::uint64_t key, std::vector<proto::RtcpPacket> packets) override;
  void viewer_moved(std::uint64_t key, const SocketAddress& remote) override;
  void close_viewer(std::uint64_t key) override;
  std::size_t leg_count() const override { return legs_; }
  std::size_t viewer_leg_count() const override { return viewer_legs_; }
  ForwardDelayHistogram forward_delay() const override { return forward_delay_.histogram(); }

  // EgressMediaSource: on the worker's thread, from the sessions it hosts.
  engine::EgressId attach(Instant now, const engine::RelayEgressFormat& format,
                          engine::RelaySink& sink) override;
  void detach(engine::EgressId id) override;
  void feedback(Instant now, engine::EgressId id,
                std::span<const proto::RtcpPacket> packets) override;
  std::optional<engine::RelayEgressStats> stats(engine::EgressId id) const override;
  std::string h264_profile_level_id() const override;

  // The egress transports this worker runs, fed by this shard.
  EgressTransportHost& transports() { return transports_; }
  // The WHEP viewers whose media this worker sends; on the worker's thread.
  const WorkerViewers& viewers() const { return viewers_; }

 private:
  void after_input(Instant now);
  void flush_outbox();
  void handle_batch(const std::vector<engine::RelayPacketPtr>& batch);

  boost::asio::io_context& io_;
  boost::asio::io_context& channel_io_;
  // Packets of the channel's current loop turn (one receive batch), handed to the worker in one
  // post when the turn ends: one wake-up of the worker per batch rather than per packet, and
  // every leg then gets the whole batch into its send queue before the worker's one flush of
  // every socket (io/udp_send_batch.hpp). Channel thread only.
  std::vector<engine::RelayPacketPtr> outbox_;
  bool outbox_posted_ = false;
  engine::RelayFanout fanout_;
  io::EngineTimer timer_;
  std::function<void()> request_keyframe_;
  ForwardDelayProbe forward_delay_;
  std::atomic<std::size_t> legs_{0};  // fanout_.egress_count(), readable from the channel's thread
  std::atomic<std::size_t> viewer_legs_{0};  // viewers_.size(), likewise
  mutable std::mutex profile_mutex_;
  std::string profile_level_id_ = "42e01f";
  EgressTransportHost transports_;  // last two: destroyed before the fan-out they feed
  WorkerViewers viewers_;
};

}  // namespace ivs::app
