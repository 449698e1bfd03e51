// RelayChannel's per-session record and relay sink, shared by relay_channel.cpp (sessions)
// and relay_channel_status.cpp (timers, status, egress legs). Not for use outside the channel.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "app/relay_channel.hpp"
#include "engine/ingest_congestion_feedback.hpp"

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
  std::optional<engine::EgressId> egress;  // viewers, once connected
  std::unique_ptr<SessionSink> sink;
  // Publishers: transport-cc / REMB toward them (relay_channel_feedback.cpp); never null.
  std::unique_ptr<engine::IngestCongestionFeedback> congestion;
  std::optional<std::uint32_t> simulcast_ssrc;  // the SSRC of the forwarded layer
  std::uint64_t simulcast_dropped = 0;
};

// Relay output for one of our sessions: plain RTP/RTCP into the router, which protects and
// queues it; the plane's drain moves it to the socket after the relay call returns.
class RelayChannel::SessionSink final : public engine::RelaySink {
 public:
  SessionSink(MediaPlane& plane, engine::IceSessionId id) : plane_(plane), id_(id) {}
  void send_rtp(ByteSpan packet) override { plane_.send_rtp(id_, packet); }
  void send_rtcp(ByteSpan packet) override { plane_.send_rtcp(id_, packet); }

 private:
  MediaPlane& plane_;
  engine::IceSessionId id_;
};

}  // namespace ivs::app
