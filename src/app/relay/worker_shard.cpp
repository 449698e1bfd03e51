#include "app/relay/worker_shard.hpp"

#include <boost/asio/post.hpp>

#include "io/clock.hpp"

namespace ivs::app {

// Handlers posted here capture `this` only: the shard outlives its worker's loop (MediaWorkers
// joins the threads before the shards are destroyed), so a handler either runs while the shard
// exists or never runs.
WorkerShard::WorkerShard(boost::asio::io_context& io, boost::asio::io_context& channel_io,
                         const engine::RelayConfig& config, engine::EgressId first_id,
                         std::function<void()> request_keyframe)
    : io_(io),
      channel_io_(channel_io),
      fanout_(config, first_id),
      timer_(io,
             [this](Instant now) {
               fanout_.handle_timeout(now);
               after_input(now);
             }),
      request_keyframe_(std::move(request_keyframe)),
      forward_delay_([&io](std::function<void()> handler) { boost::asio::post(io, handler); },
                     [] { return io::monotonic_now(); }),
      transports_(io, *this),
      viewers_(io, *this) {}

WorkerShard::~WorkerShard() = default;

// The epoch messages first hand over the packets before them, so the worker sees the channel's
// order.
void WorkerShard::source_started(const engine::RelaySourceFormat& format) {
  flush_outbox();
  boost::asio::post(io_, [this, format] { fanout_.start_source(format); });
}

void WorkerShard::source_stopped() {
  flush_outbox();
  boost::asio::post(io_, [this] { fanout_.stop_source(); });
}

void WorkerShard::packet(const engine::RelayPacketPtr& packet) {
  outbox_.push_back(packet);
  if (!outbox_posted_) {
    outbox_posted_ = true;
    // Runs after the handler that is delivering this receive batch.
    boost::asio::post(channel_io_, [this] { flush_outbox(); });
  }
}

void WorkerShard::flush_outbox() {
  outbox_posted_ = false;
  if (outbox_.empty()) {
    return;
  }
  boost::asio::post(io_, [this, batch = std::move(outbox_)] { handle_batch(batch); });
  outbox_.clear();  // moved-from: valid, made empty
}

void WorkerShard::handle_batch(const std::vector<engine::RelayPacketPtr>& batch) {
  const Instant now = io::monotonic_now();
  for (const auto& packet : batch) {
    fanout_.handle_packet(now, packet);
  }
  after_input(now);
  // Measured from the ingest socket's receipt: the hop between threads counts too. A shard
  // without legs sends nothing, so it has no delay to report.
  if (fanout_.egress_count() > 0) {
    for (const auto& packet : batch) {
      forward_delay_.forwarded(packet->arrival);
    }
  }
}

void WorkerShard::set_profile_level_id(const std::string& value) {
  const std::lock_guard lock(profile_mutex_);
  profile_level_id_ = value;
}

// The viewer messages are posted like the packets' (in the channel's order). The SRTP context
// and the socket are move-only: a shared pointer carries each into the copyable handler.
void WorkerShard::share_socket(io::SocketDuplicate socket) {
  auto carried = std::make_shared<io::SocketDuplicate>(std::move(socket));
  boost::asio::post(io_, [this, carried] { viewers_.use_socket(std::move(*carried)); });
}

void WorkerShard::open_viewer(std::uint64_t key, const engine::RelayEgressFormat& format,
                              std::unique_ptr<engine::SrtpSession> outbound,
                              const SocketAddress& remote) {
  flush_outbox();  // the viewer joins after the packets the channel has already handed over
  auto carried = std::make_shared<std::unique_ptr<engine::SrtpSession>>(std::move(outbound));
  boost::asio::post(io_, [this, key, format, carried, remote] {
    const Instant now = io::monotonic_now();
    viewers_.open(now, key, format, std::move(*carried), remote);  // attach() re-arms
    viewer_legs_ = viewers_.size();
  });
}

void WorkerShard::viewer_feedback(std::uint64_t key, std::vector<proto::RtcpPacket> packets) {
  boost::asio::post(io_, [this, key, packets = std::move(packets)] {
    const Instant now = io::monotonic_now();
    viewers_.feedback(now, key, packets);  // through feedback(), which re-arms
  });
}

void WorkerShard::viewer_moved(std::uint64_t key, const SocketAddress& remote) {
  boost::asio::post(io_, [this, key, remote] { viewers_.move(key, remote); });
}

void WorkerShard::close_viewer(std::uint64_t key) {
  boost::asio::post(io_, [this, key] {
    viewers_.close(key);
    viewer_legs_ = viewers_.size();
  });
}

engine::EgressId WorkerShard::attach(Instant now, const engine::RelayEgressFormat& format,
                                     engine::RelaySink& sink) {
  const engine::EgressId id = fanout_.add_egress(now, format, sink);
  legs_ = fanout_.egress_count();
  after_input(now);
  return id;
}

void WorkerShard::detach(engine::EgressId id) {
  fanout_.remove_egress(id);
  legs_ = fanout_.egress_count();
  timer_.rearm(fanout_.poll_timeout());
}

void WorkerShard::feedback(Instant now, engine::EgressId id,
                           std::span<const proto::RtcpPacket> packets) {
  fanout_.handle_egress_rtcp(now, id, packets);
  after_input(now);
}

std::optional<engine::RelayEgressStats> WorkerShard::stats(engine::EgressId id) const {
  return fanout_.egress_stats(id);
}

std::string WorkerShard::h264_profile_level_id() const {
  const std::lock_guard lock(profile_mutex_);
  return profile_level_id_;
}

void WorkerShard::after_input(Instant /*now*/) {
  if (fanout_.take_keyframe_wanted() && request_keyframe_) {
    request_keyframe_();
  }
  timer_.rearm(fanout_.poll_timeout());
}

}  // namespace ivs::app
