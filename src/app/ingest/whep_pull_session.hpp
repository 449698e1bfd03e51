// One attempt of an edge to pull the broadcast from an origin media server with WHEP (the WHEP
// draft, draft-ietf-wish-whep: a recvonly offer POSTed to the endpoint, the SDP answer in the
// 201, DELETE of the Location to end it), for INGEST_PULL_URL. IngestPull (ingest_pull.hpp)
// makes a new attempt after each one ends, with backoff.
//
//   start ─► bind UDP ─► recvonly offer (engine::make_egress_offer, receive_only) ─► POST with
//     the bearer token (307/308 followed) ─► 201 ─► accept_egress_answer ─► client PeerSession
//     (controlling ICE, DTLS role from the answer) ─► Connected ─► listener: connected, then
//     every RTP and RTCP packet ─► listener
//   ended: any step failing, the origin closing DTLS, consent lost, or no RTP for
//   silence_timeout (an origin that died without a close_notify) ─► listener.on_pull_ended once
//   (posted), the resource DELETEd.
//
// The session is also the relay's feedback sink toward the origin (NACK, PLI, receiver
// reports): the edge asks the origin to retransmit or to send a keyframe exactly as the origin
// asks its publisher.
//
// Why the listener hears on_pull_ended from a posted handler: its owner destroys the session
// there; posting keeps the session's own frames off the stack (as WhipEgressSession does).
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>

#include "app/egress/early_stun_checks.hpp"
#include "engine/dtls_certificate.hpp"
#include "engine/peer_session.hpp"
#include "engine/random.hpp"
#include "engine/relay.hpp"
#include "engine/sdp_negotiation.hpp"
#include "io/engine_driver.hpp"
#include "io/engine_timer.hpp"
#include "io/http_client.hpp"
#include "io/udp_port.hpp"

namespace ivs::app {

struct WhepPullOptions {
  std::string url;                                   // INGEST_PULL_URL: the origin's /whep
  std::string token;                                 // INGEST_PULL_TOKEN: the bearer, or ""
  std::string bind_ip = "0.0.0.0";                   // RTC_BIND_IP
  std::optional<std::string> announced_ip;           // RTC_ANNOUNCED_IP
  std::chrono::milliseconds request_timeout{10000};  // the POST and the DELETE
  std::chrono::milliseconds connect_timeout{10000};  // ICE + DTLS after the 201
  // No RTP from the origin for this long ends the attempt: the origin died (no close_notify,
  // and consent would take 30 s to expire), or its publisher left (its WHEP endpoint then
  // refuses new viewers with 409 until one is back). A live broadcast is never this quiet
  // (video at 15-60 frames/s, audio every 20 ms), and ending early is what lets the edge find
  // the broadcaster's new origin within 2 s of it (issue 16; 1.5 s missed that when the
  // broadcaster was back on the new origin at once).
  std::chrono::milliseconds silence_timeout{1000};
};

class WhepPullListener {
 public:
  virtual ~WhepPullListener() = default;
  // DTLS is up; `feedback` (the session) carries RTCP to the origin until the session ends.
  virtual void on_pull_connected(Instant now, const engine::NegotiatedMedia& media,
                                 engine::RelaySink& feedback, const std::string& remote) = 0;
  virtual void on_pull_media(Instant now, engine::MediaKind kind, ByteSpan packet) = 0;
  virtual void on_pull_rtcp(Instant now, std::span<const proto::RtcpPacket> packets) = 0;
  // Exactly once per session, from a posted handler; the owner may destroy the session here.
  // `retry_after`: the origin's Retry-After on a refusal (409 while it has no publisher).
  virtual void on_pull_ended(const std::string& reason,
                             std::optional<std::chrono::seconds> retry_after) = 0;
};

class WhepPullSession final : private engine::RelaySink {
 public:
  WhepPullSession(boost::asio::io_context& io, const WhepPullOptions& options,
                  std::shared_ptr<const engine::DtlsCertificate> certificate,
                  WhepPullListener& listener);
  ~WhepPullSession() override;
  WhepPullSession(const WhepPullSession&) = delete;
  WhepPullSession& operator=(const WhepPullSession&) = delete;

  // Ends the attempt without telling the listener (shutdown): DTLS close_notify, DELETE.
  void close();
  bool connected() const { return phase_ == Phase::kConnected; }
  const std::string& resource_url() const { return resource_url_; }
  const engine::PeerSessionCounters* counters() const {
    return peer_ ? &peer_->counters() : nullptr;
  }

 private:
  enum class Phase { kStarting, kPosting, kConnecting, kConnected, kDone };

  void start();
  Status open_socket();
  void send_offer();
  void on_post_response(Result<io::HttpClient::Response> response);
  void create_peer_session();
  void on_packet(Instant now, const SocketAddress& from, ByteSpan bytes);
  void on_engine_timeout(Instant now);
  void drain();
  void on_event(engine::PeerSessionEvent& event);
  void watch_silence();
  void end(const std::string& reason,
           std::optional<std::chrono::seconds> retry_after = std::nullopt);
  void release();
  void send_delete();

  // engine::RelaySink: the relay's feedback toward the origin.
  void send_rtp(ByteSpan packet) override;
  void send_rtcp(ByteSpan packet) override;

  boost::asio::io_context& io_;
  WhepPullOptions options_;
  std::shared_ptr<const engine::DtlsCertificate> certificate_;
  WhepPullListener& listener_;
  engine::SecureRandom random_;  // referenced by the ICE agent: lives as long as the session
  io::HttpClient http_;
  std::unique_ptr<io::UdpPort> port_;
  engine::LocalTransport local_;
  engine::EgressOffer offer_;
  std::optional<engine::EgressAnswer> answer_;
  std::unique_ptr<engine::PeerSession> peer_;
  EarlyStunChecks early_checks_;  // a full-ICE origin checks before its 201 reaches us
  io::EngineTimer engine_timer_;
  io::EngineDriver driver_;
  boost::asio::steady_timer connect_timer_;
  boost::asio::steady_timer silence_timer_;
  Phase phase_ = Phase::kStarting;
  bool ended_ = false;
  Instant last_rtp_{};
  std::string resource_url_;
  std::shared_ptr<bool> alive_;
};

}  // namespace ivs::app
