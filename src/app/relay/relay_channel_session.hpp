// RelayChannel's per-session record and relay sink, shared by relay_channel.cpp (sessions)
// and relay_channel_status.cpp (timers, status, egress legs). Not for use outside the channel.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "app/relay/relay_channel.hpp"
#include "engine/ingest_congestion_feedback.hpp"
#include "engine/simulcast_selector.hpp"
#include "io/engine_timer.hpp"

namespace ivs::app {

struct RelayChannel::Session {
  engine::IceSessionId ice_id = 0;
  SessionRole role = SessionRole::publisher;
  std::string resource_id;
  engine::NegotiatedMedia media;
  engine::OutgoingStreams streams;  // viewers: our SSRCs and cname
  Instant created{};
  bool connected = false;
  std::string remote;
  std::optional<engine::EgressId> egress;  // viewers, once connected, on this thread's relay
  // Viewers, once connected, whose media a media worker sends (worker_viewers.hpp).
  struct WorkerLeg {
    RelayShardLink* shard = nullptr;
    std::uint64_t key = 0;
    SocketAddress remote;  // where the worker sends; updated when ICE moves the viewer
  };
  std::optional<WorkerLeg> worker_leg;
  bool has_leg() const { return egress.has_value() || worker_leg.has_value(); }
  std::string layer;  // viewers: the rid asked for (WHEP ?layer=); "" = auto
  std::unique_ptr<SessionSink> sink;
  // Publishers: transport-cc / REMB toward them (relay_channel_feedback.cpp); never null.
  std::unique_ptr<engine::IngestCongestionFeedback> congestion;
  // Publishers that send several layers (RFC 8853): which one the relay gets.
  std::unique_ptr<engine::SimulcastSelector> simulcast;
};

// Relay output for one of our sessions: plain RTP/RTCP into the router, which protects and
// queues it; the plane's drain moves it to the socket after the relay call returns.
class RelayChannel::SessionSink final : public engine::RelaySink {
 public:
  SessionSink(MediaSessionHost& plane, engine::IceSessionId id) : plane_(plane), id_(id) {}
  void send_rtp(ByteSpan packet) override { plane_.send_rtp(id_, packet); }
  void send_rtcp(ByteSpan packet) override { plane_.send_rtcp(id_, packet); }

 private:
  MediaSessionHost& plane_;
  engine::IceSessionId id_;
};

// A relay for the WHEP viewers that asked for one simulcast layer (relay_channel_simulcast.cpp),
// with the timer that follows its deadline.
struct RelayChannel::LayerRelay {
  LayerRelay(io::ControlClock& clock, MediaSessionHost& plane, const engine::RelayConfig& config)
      : relay(config), timer(std::make_unique<io::EngineTimer>(clock, [this, &plane](Instant now) {
          relay.handle_timeout(now);
          settle();
          plane.drain(now);  // sender reports, NACKs and PLIs the timeout produced
        })) {}
  // Events (SPS changes) are the main relay's to log; the timer follows the relay's deadline.
  void settle() {
    while (relay.poll_event()) {
    }
    timer->rearm(relay.poll_timeout());
  }
  engine::Relay relay;
  std::unique_ptr<io::EngineTimer> timer;
};

}  // namespace ivs::app
