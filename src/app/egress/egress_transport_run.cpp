// EgressTransport, second half: the running transport (engine drain loop, relay leg, stats,
// failure and close). The setup half (socket, offer, answer) is egress_transport.cpp.
#include <spdlog/spdlog.h>
#include <boost/asio/post.hpp>

#include "app/egress/egress_transport.hpp"
#include "io/clock.hpp"

namespace ivs::app {
namespace {
namespace asio = boost::asio;
constexpr auto kSampleInterval = std::chrono::seconds(1);
constexpr std::size_t kWindowSamples = 5;  // bitrate over the last ~5 s
constexpr std::size_t kEagerFlushDatagrams = 16;
}  // namespace

// ---- engine loop --------------------------------------------------------------------------

void EgressTransport::on_packet(Instant now, const SocketAddress& from, ByteSpan bytes) {
  if (phase_ == Phase::kDone) {
    return;
  }
  if (!peer_) {
    early_checks_.keep(from, bytes);
    return;
  }
  peer_->handle_packet(now, from, bytes);
  drain();
}

void EgressTransport::on_engine_timeout(Instant now) {
  if (!peer_ || phase_ == Phase::kDone) {
    return;
  }
  peer_->handle_timeout(now);
  drain();
}

void EgressTransport::drain_transmits() {
  while (auto transmit = peer_->poll_transmit()) {
    if (port_ && port_->is_open()) {
      port_->send(transmit->destination, transmit->payload);
    }
  }
}

void EgressTransport::drain() {
  driver_.drain(
      [this]() -> engine::PeerSession* { return phase_ == Phase::kDone ? nullptr : peer_.get(); },
      port_.get(), engine_timer_, [this](engine::PeerSessionEvent& event) { on_event(event); });
}

void EgressTransport::on_event(engine::PeerSessionEvent& event) {
  if (std::holds_alternative<engine::SessionConnected>(event)) {
    on_connected();
  } else if (auto* rtcp = std::get_if<engine::SessionRtcpPacket>(&event)) {
    if (leg_) {
      media_.feedback(io::monotonic_now(), *leg_, rtcp->packets);
    }
  } else if (auto* failed = std::get_if<engine::SessionFailed>(&event)) {
    fail((phase_ == Phase::kConnected ? "session lost: " : "ICE/DTLS: ") + failed->reason);
  } else if (std::holds_alternative<engine::SessionClosed>(event)) {
    fail("the stage closed the DTLS session");
  }
  // SessionMediaPacket: a stage sends us no media; ignored.
}

void EgressTransport::on_connected() {
  connect_timer_.cancel();
  phase_ = Phase::kConnected;
  engine::RelayEgressFormat format;
  format.video = engine::RelayTrackFormat::of(answer_->media.video, streams_.video_ssrc);
  if (answer_->media.audio) {
    format.audio = engine::RelayTrackFormat::of(*answer_->media.audio, streams_.audio_ssrc);
  }
  format.cname = streams_.cname;
  // The leg may start with the GOP cache right here: the sink must be usable (it is: Connected).
  leg_ = media_.attach(io::monotonic_now(), format, *this);
  spdlog::info("WHIP egress to stage {} connected ({}), publishing", spec_.stage_arn,
               peer_->remote_address() ? peer_->remote_address()->to_string() : "?");
  schedule_sample();
  events_.on_connected();
}

// ---- relay sink ---------------------------------------------------------------------------

void EgressTransport::send_rtp(ByteSpan packet) {
  send_protected(packet, false);
}

void EgressTransport::send_rtcp(ByteSpan packet) {
  send_protected(packet, true);
}

// The relay calls this once per packet per stage, so it neither queues a Transmit in the peer
// session nor allocates nor copies twice: the packet is protected straight into the port's next
// send slot (one copy, then in-place encryption) and committed there.
void EgressTransport::send_protected(ByteSpan packet, bool rtcp) {
  if (phase_ != Phase::kConnected || !peer_ || !port_) {
    return;
  }
  const auto& destination = peer_->remote_address();  // a reference: this runs per packet
  const MutableByteSpan slot = port_->send_slot();
  if (!destination || slot.empty()) {
    ++send_slot_drops_;  // the port's queue or its worker's slot pool is full, or it closed
    return;
  }
  const auto size =
      rtcp ? peer_->protect_rtcp_into(packet, slot) : peer_->protect_rtp_into(packet, slot);
  if (!size) {
    return;  // counted by the peer session (not ready, too large, protect failure)
  }
  port_->commit_send(*destination, *size);
  if (port_->queued() >= kEagerFlushDatagrams) {
    // A keyframe, or a batch of frames read at once, is hundreds of packets per stage: send
    // them in GSO runs as they are produced rather than all after the turn, so the first ones
    // leave earlier and fewer of the worker's pooled send slots are in use at once.
    port_->flush();
  }
  schedule_flush();
}

// One sendmmsg for everything the relay fanned out in this turn of the loop, instead of one
// syscall per packet per stage; with a send batch, one io_uring submission for every transport
// of the loop (udp_send_batch.hpp).
void EgressTransport::schedule_flush() {
  if (spec_.send_path.batch && port_) {
    spec_.send_path.batch->defer_flush(*port_);
    return;
  }
  if (flush_posted_) {
    return;
  }
  flush_posted_ = true;
  // Not a std::function: this runs once per transport per loop turn, and a small lambda lets
  // Asio reuse its handler memory instead of allocating each time.
  asio::post(io_, [alive = std::weak_ptr<bool>(alive_), this] {
    if (auto flag = alive.lock(); !flag || !*flag) {
      return;
    }
    flush_posted_ = false;
    if (port_ && port_->is_open()) {
      port_->flush();
    }
  });
}

// ---- stats --------------------------------------------------------------------------------

void EgressTransport::schedule_sample() {
  if (leg_) {
    if (auto stats = media_.stats(*leg_)) {
      samples_.emplace_back(io::monotonic_now(), stats->bytes_sent);
      while (samples_.size() > kWindowSamples + 1) {
        samples_.pop_front();
      }
    }
  }
  sample_timer_.expires_after(kSampleInterval);
  sample_timer_.async_wait([this, alive = std::weak_ptr<bool>(alive_)](auto error) {
    if (auto flag = alive.lock(); !error && flag && *flag && phase_ == Phase::kConnected) {
      schedule_sample();
    }
  });
}

std::optional<EgressStats> EgressTransport::stats() const {
  if (!leg_ || phase_ != Phase::kConnected) {
    return std::nullopt;
  }
  const auto relay = media_.stats(*leg_);
  if (!relay) {
    return std::nullopt;
  }
  EgressStats stats;
  stats.rtt_ms = relay->rtt_ms;
  stats.fraction_lost = relay->fraction_lost;
  stats.packets_lost = relay->cumulative_lost.value_or(0);
  stats.packets_sent = relay->packets_sent;
  stats.nacks_received = relay->nacks_received;
  stats.plis_received = relay->plis_received + relay->firs_received;
  stats.retransmitted = relay->packets_retransmitted;
  if (port_) {
    const auto& port = port_->counters();
    stats.send_drops = send_slot_drops_ + port.queue_full_drops + port.send_errors;
  }
  if (!samples_.empty()) {
    const auto& [first_time, first_bytes] = samples_.front();
    const double seconds = std::chrono::duration<double>(io::monotonic_now() - first_time).count();
    if (seconds >= 0.5 && relay->bytes_sent >= first_bytes) {
      stats.bitrate_kbps =
          static_cast<double>(relay->bytes_sent - first_bytes) * 8.0 / seconds / 1000.0;
    }
  }
  return stats;
}

// ---- failure and close --------------------------------------------------------------------

void EgressTransport::stop_media() {
  if (leg_) {
    media_.detach(*leg_);
    leg_.reset();
  }
}

void EgressTransport::release() {
  stop_media();
  if (peer_ && phase_ == Phase::kConnected) {
    peer_->close(io::monotonic_now());  // DTLS close_notify: the stage learns at once
    drain_transmits();
  }
  phase_ = Phase::kDone;
  engine_timer_.cancel();
  connect_timer_.cancel();
  sample_timer_.cancel();
  if (port_) {
    port_->flush();
    port_->close();
  }
}

void EgressTransport::fail(const std::string& reason) {
  if (phase_ == Phase::kDone) {
    return;
  }
  release();
  events_.on_failed(reason);
}

void EgressTransport::close() {
  if (phase_ == Phase::kDone) {
    return;
  }
  release();
}

}  // namespace ivs::app
