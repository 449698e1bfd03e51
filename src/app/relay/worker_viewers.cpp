#include "app/relay/worker_viewers.hpp"

#include <spdlog/spdlog.h>
#include <boost/asio/post.hpp>

namespace ivs::app {

namespace {

// The viewers' datagrams of one loop turn leave in sendmmsg batches of this many; a GOP sent to
// a joining viewer (hundreds of packets) fits the queue between two flushes.
constexpr std::size_t kSendBatch = 64;
constexpr std::size_t kSendQueue = 4096;

}  // namespace

// One viewer's output: rewritten RTP and RTCP from the shard's fan-out, protected with the
// viewer's SRTP context and sent to its address.
class WorkerViewers::Leg final : public engine::RelaySink {
 public:
  Leg(WorkerViewers& owner, std::unique_ptr<engine::SrtpSession> outbound, SocketAddress remote)
      : owner_(owner), outbound_(std::move(outbound)), remote_(remote) {}

  void send_rtp(ByteSpan packet) override { owner_.send(*this, packet, false); }
  void send_rtcp(ByteSpan packet) override { owner_.send(*this, packet, true); }

  engine::SrtpSession& outbound() { return *outbound_; }
  const SocketAddress& remote() const { return remote_; }
  void set_remote(const SocketAddress& remote) { remote_ = remote; }
  engine::EgressId id = 0;  // the shard's, from attach()

 private:
  WorkerViewers& owner_;
  std::unique_ptr<engine::SrtpSession> outbound_;
  SocketAddress remote_;
};

WorkerViewers::WorkerViewers(boost::asio::io_context& io, EgressMediaSource& media)
    : io_(io), media_(media) {}

WorkerViewers::~WorkerViewers() {
  for (auto& [key, leg] : legs_) {
    media_.detach(leg->id);
  }
}

void WorkerViewers::use_socket(io::SocketDuplicate socket) {
  io::UdpPortOptions options;
  options.send_batch = kSendBatch;
  options.send_queue_capacity = kSendQueue;
  auto port = io::UdpPort::open_sender(io_, std::move(socket), options);
  if (!port) {
    spdlog::error("media worker: cannot send WHEP viewers' media: {}", port.error().message);
    return;
  }
  port_ = std::move(*port);
}

void WorkerViewers::open(Instant now, std::uint64_t key, const engine::RelayEgressFormat& format,
                         std::unique_ptr<engine::SrtpSession> outbound,
                         const SocketAddress& remote) {
  if (!port_ || !outbound) {
    ++counters_.refused_no_socket;  // the channel only opens here when it gave a socket
    return;
  }
  auto leg = std::make_unique<Leg>(*this, std::move(outbound), remote);
  Leg& placed = *(legs_[key] = std::move(leg));
  placed.id = media_.attach(now, format, placed);
  ++counters_.opened;
}

void WorkerViewers::feedback(Instant now, std::uint64_t key,
                             std::span<const proto::RtcpPacket> packets) {
  auto found = legs_.find(key);
  if (found != legs_.end()) {
    media_.feedback(now, found->second->id, packets);
  }
}

void WorkerViewers::move(std::uint64_t key, const SocketAddress& remote) {
  auto found = legs_.find(key);
  if (found != legs_.end()) {
    found->second->set_remote(remote);
  }
}

void WorkerViewers::close(std::uint64_t key) {
  auto found = legs_.find(key);
  if (found == legs_.end()) {
    return;
  }
  media_.detach(found->second->id);
  legs_.erase(found);
  ++counters_.closed;
}

// Per packet per viewer, as EgressTransport::send_protected is per stage: one copy into the
// port's next send slot, encryption in place, nothing queued elsewhere, nothing allocated.
void WorkerViewers::send(Leg& leg, ByteSpan packet, bool rtcp) {
  MutableByteSpan slot = port_->send_slot();
  if (slot.empty()) {
    port_->flush();
    slot = port_->send_slot();
    if (slot.empty()) {
      ++counters_.send_drops;
      return;
    }
  }
  const auto size = engine::protect_copy_into(leg.outbound(), packet, slot, rtcp);
  if (!size) {
    ++counters_.protect_failures;
    return;
  }
  port_->commit_send(leg.remote(), *size);
  schedule_flush();
}

// One sendmmsg for every viewer's media of this loop turn.
void WorkerViewers::schedule_flush() {
  if (flush_posted_) {
    return;
  }
  flush_posted_ = true;
  boost::asio::post(io_, [weak = std::weak_ptr<WorkerViewers*>(self_)] {
    if (auto self = weak.lock()) {
      WorkerViewers& viewers = **self;
      viewers.flush_posted_ = false;
      if (viewers.port_) {
        viewers.port_->flush();
      }
    }
  });
}

}  // namespace ivs::app
