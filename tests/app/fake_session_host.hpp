// A MediaSessionHost (app/relay/media_session_host.hpp) without sockets, ICE or DTLS, for tests
// of RelayChannel's own logic on a simulated clock: it records the sessions the channel adds
// (with the PeerSessionConfig the negotiation produced), what the channel sends on each, and
// whether a session was closed with a close_notify or removed; the test plays the sessions'
// side by handing the channel the events a real session would produce (connected, decrypted
// media and RTCP, failed, closed).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "app/relay/media_session_host.hpp"
#include "io/control_clock.hpp"
#include "proto/rtcp_compound.hpp"

namespace ivs::test {

class FakeSessionHost final : public app::MediaSessionHost {
 public:
  struct Sent {
    Instant at;
    Bytes packet;
  };
  struct Session {
    engine::PeerSessionConfig config;
    app::MediaSessionHandler* handler = nullptr;
    bool live = true;            // neither closed nor removed
    bool closed_notify = false;  // ended by close_session (a DTLS close_notify would go out)
    std::optional<Instant> ended_at;
    std::vector<Sent> rtp;
    std::vector<Sent> rtcp;
  };

  explicit FakeSessionHost(io::ControlClock& clock, std::size_t max_sessions = 1000)
      : clock_(clock),
        certificate_(engine::DtlsCertificate::generate(WallTime{1'700'000'000'000'000}).value()),
        max_sessions_(max_sessions) {}

  engine::LocalTransport make_local_transport() override {
    engine::LocalTransport local;
    const std::string n = std::to_string(++transports_);
    local.ice = {"ufrag" + n, "passwordpasswordpassword" + n};
    local.fingerprint = proto::SdpFingerprint{certificate_->fingerprint().algorithm,
                                              certificate_->fingerprint().digest};
    local.host_addresses = {*SocketAddress::from_string("127.0.0.1:50000")};
    local.session_id = transports_;
    return local;
  }
  const std::shared_ptr<const engine::DtlsCertificate>& certificate() const override {
    return certificate_;
  }

  Result<engine::IceSessionId> add_session(Instant, engine::PeerSessionConfig config,
                                           const engine::IceCredentials&,
                                           std::optional<engine::IceCredentials>,
                                           app::MediaSessionHandler& handler) override {
    if (live_count() >= max_sessions_) {
      return Error{"the fake host is full"};
    }
    const engine::IceSessionId id = ++next_id_;
    Session& session = sessions_[id];
    session.config = std::move(config);
    session.handler = &handler;
    return id;
  }
  void close_session(Instant now, engine::IceSessionId id) override { end(now, id, true); }
  void remove_session(engine::IceSessionId id) override { end(clock_.now(), id, false); }

  bool send_rtp(engine::IceSessionId id, ByteSpan packet) override {
    return record(id, packet, &Session::rtp);
  }
  bool send_rtcp(engine::IceSessionId id, ByteSpan packet) override {
    return record(id, packet, &Session::rtcp);
  }
  void drain(Instant) override {}  // what the channel sent is recorded as it is sent
  engine::RandomSource& random() override { return random_; }

  // The sessions' side.
  void deliver(engine::IceSessionId id, engine::PeerSessionEvent event) {
    Session& session = sessions_.at(id);
    if (session.live) {
      session.handler->on_session_event(clock_.now(), id, event);
    }
  }
  void connect(engine::IceSessionId id) {
    deliver(id, engine::SessionConnected{engine::SrtpProfile::kAeadAes128Gcm,
                                         *SocketAddress::from_string("127.0.0.1:40000")});
  }
  void media(engine::IceSessionId id, engine::MediaKind kind, Bytes packet) {
    deliver(id, engine::SessionMediaPacket{kind, std::move(packet)});
  }
  void rtcp(engine::IceSessionId id, std::vector<proto::RtcpPacket> packets) {
    Bytes bytes = proto::serialize_rtcp_compound(packets);
    deliver(id, engine::SessionRtcpPacket{std::move(bytes), std::move(packets)});
  }

  Session& session(engine::IceSessionId id) { return sessions_.at(id); }
  engine::IceSessionId last_id() const { return next_id_; }
  std::size_t live_count() const {
    std::size_t count = 0;
    for (const auto& [id, session] : sessions_) {
      count += session.live ? 1 : 0;
    }
    return count;
  }

 private:
  void end(Instant now, engine::IceSessionId id, bool notify) {
    auto found = sessions_.find(id);
    if (found != sessions_.end() && found->second.live) {
      found->second.live = false;
      found->second.closed_notify = notify;
      found->second.ended_at = now;
    }
  }
  bool record(engine::IceSessionId id, ByteSpan packet, std::vector<Sent> Session::*list) {
    auto found = sessions_.find(id);
    if (found == sessions_.end() || !found->second.live) {
      return false;
    }
    (found->second.*list).push_back(Sent{clock_.now(), Bytes(packet.begin(), packet.end())});
    return true;
  }

  io::ControlClock& clock_;
  std::shared_ptr<const engine::DtlsCertificate> certificate_;
  engine::SeededRandom random_{7};
  std::size_t max_sessions_;
  std::map<engine::IceSessionId, Session> sessions_;
  engine::IceSessionId next_id_ = 0;
  std::uint64_t transports_ = 0;
};

}  // namespace ivs::test
