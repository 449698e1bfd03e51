// The media workers' test set-up (media_workers_test.cpp, media_workers_viewer_test.cpp): a
// RelayChannel on the main loop with a real MediaPlane on loopback, and two WorkerShards on two
// worker threads, added to the channel as the serve role adds them (media_server_run.cpp).
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <variant>
#include <vector>

#include "app/relay/media_plane.hpp"
#include "app/relay/media_workers.hpp"
#include "app/relay/relay_channel.hpp"
#include "app/relay/worker_shard.hpp"
#include "io/clock.hpp"
#include "webrtc_test_peer.hpp"

namespace ivs::test {

using app::MediaPlane;
using app::MediaPlaneOptions;
using app::MediaWorkers;
using app::RelayChannel;
using app::RelayChannelOptions;
using app::SessionAccepted;
using app::WorkerShard;

// A leg's output, written on a worker thread and read on the main one.
class LockedSink final : public engine::RelaySink {
 public:
  void send_rtp(ByteSpan packet) override {
    const std::lock_guard lock(mutex_);
    rtp_.emplace_back(packet.begin(), packet.end());
  }
  void send_rtcp(ByteSpan /*packet*/) override {}
  std::vector<Bytes> rtp() const {
    const std::lock_guard lock(mutex_);
    return rtp_;
  }
  std::size_t size() const {
    const std::lock_guard lock(mutex_);
    return rtp_.size();
  }

 private:
  mutable std::mutex mutex_;
  std::vector<Bytes> rtp_;
};

struct MediaWorkersFixture {
  MediaWorkersFixture() : workers(2) {
    MediaPlaneOptions plane_options;
    plane_options.bind_ip = "127.0.0.1";
    auto started = MediaPlane::start(io, plane_options);
    plane = std::move(*started);
    channel = std::make_unique<RelayChannel>(io, *plane, RelayChannelOptions{});
    for (std::size_t i = 0; i < 2; ++i) {
      shards.push_back(std::make_unique<WorkerShard>(workers.io(i), io, channel->options().relay,
                                                     (i + 1) << 40, channel->keyframe_requester()));
      channel->add_shard(*shards.back());
    }
  }
  ~MediaWorkersFixture() {
    workers.stop();  // before the shards and the sinks their legs write to
  }

  // Runs `task` on worker `index` and waits for it.
  void on_worker(std::size_t index, const std::function<void()>& task) {
    std::promise<void> done;
    boost::asio::post(workers.io(index), [&] {
      task();
      done.set_value();
    });
    done.get_future().wait();
  }
  engine::EgressId attach(std::size_t index, LockedSink& sink, std::uint32_t ssrc) {
    engine::RelayEgressFormat format;
    format.video.ssrc = ssrc;
    format.video.payload_type = 102;
    format.cname = "leg";
    engine::EgressId id = 0;
    on_worker(index, [&] { id = shards[index]->attach(io::monotonic_now(), format, sink); });
    return id;
  }
  void feedback(std::size_t index, engine::EgressId leg, proto::RtcpPacket packet) {
    on_worker(index, [&] {
      const std::vector<proto::RtcpPacket> packets{packet};
      shards[index]->feedback(io::monotonic_now(), leg, packets);
    });
  }
  void connect(TestPeer& publisher) {
    const auto outcome = channel->accept_publisher(publisher.offer());
    ASSERT_TRUE(std::holds_alternative<SessionAccepted>(outcome));
    ASSERT_TRUE(publisher.accept(std::get<SessionAccepted>(outcome).answer_sdp));
    ASSERT_TRUE(run_until(io, [&] { return publisher.connected && channel->publisher_live(); }));
  }

  boost::asio::io_context io;
  MediaWorkers workers;
  std::unique_ptr<MediaPlane> plane;
  // The shards outlive the channel (it tells them of its viewers' ends until it is gone), as
  // in the serve role (media_server_run.cpp).
  std::vector<std::unique_ptr<WorkerShard>> shards;
  std::unique_ptr<RelayChannel> channel;
};

inline std::size_t plis(const TestPeer& peer) {
  std::size_t count = 0;
  for (const auto& rtcp : peer.rtcp) {
    for (const auto& packet : rtcp.packets) {
      count += std::holds_alternative<proto::RtcpPli>(packet) ? 1 : 0;
    }
  }
  return count;
}

}  // namespace ivs::test
