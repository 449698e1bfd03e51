// One WHIP egress session (RFC 9725 client) toward one stage; made by the factory in
// whip_egress.cpp. See whip_egress.hpp for the protocol summary and docs/whip-egress.md.
//
//   start ─► bind UDP ─► offer ─► POST (307/308 followed) ─► 201? ─► answer ok? ─► [resolve STUN]
//     ─► client PeerSession (controlling ICE, DTLS) ─► Connected ─► attach relay leg ─► publishing
//   any step failing ─► on_failed("<stage>: <reason>"), resources released, no retry here (the
//   StageReconciler owns retries and backoff).
//   close ─► detach leg, DTLS close_notify, socket closed ─► DELETE resource (timeout) ─► done
//
// Why callbacks are posted: the StageManager destroys a failed session from inside on_failed,
// and may call close() from on_connected; posting keeps our own stack frames out of the way
// (EgressSession contract: no re-entrancy). A shared `alive_` flag makes every posted handler and
// HTTP completion a no-op once the session is gone.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "app/egress/early_stun_checks.hpp"
#include "app/egress/egress_media_source.hpp"
#include "app/egress/egress_session.hpp"
#include "app/egress/whip_egress.hpp"
#include "engine/dtls_certificate.hpp"
#include "engine/peer_session.hpp"
#include "engine/random.hpp"
#include "engine/sdp_negotiation.hpp"
#include "io/engine_driver.hpp"
#include "io/engine_timer.hpp"
#include "io/http_client.hpp"
#include "io/udp_port.hpp"
#include "io/udp_send_batch.hpp"
#include "io/udp_send_slot_pool.hpp"

namespace ivs::app {

// What the egress sessions of one thread share on the send path: the batch that hands their
// sockets to the kernel once per loop turn, and the pool their queued datagrams wait in (so the
// resident send memory follows the thread's traffic, not each session's deepest burst).
struct EgressSendPath {
  std::shared_ptr<io::UdpSendBatch> batch;
  std::shared_ptr<io::UdpSendSlotPool> slots;

  // Both, for sessions on `io`'s thread.
  static EgressSendPath create(boost::asio::io_context& io, io::SendBatching batching);
};

class WhipEgressSession final : public EgressSession, private engine::RelaySink {
 public:
  WhipEgressSession(boost::asio::io_context& io, EgressMediaSource& media,
                    const WhipEgressOptions& options,
                    std::shared_ptr<const engine::DtlsCertificate> certificate, EgressTarget target,
                    EgressCallbacks callbacks,
                    std::shared_ptr<const engine::DtlsContext> dtls_context = nullptr,
                    EgressSendPath send_path = {});
  ~WhipEgressSession() override;

  void close(std::function<void()> done) override;
  std::optional<EgressStats> stats() const override;

  // What the session learned, for tests and logs.
  const std::string& resource_url() const { return resource_url_; }
  const std::string& etag() const { return etag_; }
  std::optional<SocketAddress> stun_server() const { return stun_server_; }

 private:
  enum class Phase { kStarting, kPosting, kResolving, kConnecting, kConnected, kDone };

  void start();
  Status open_socket();
  void send_offer();
  void on_post_response(Result<io::HttpClient::Response> response);
  void prepare_ice(const io::HttpClient::Response& response);
  void create_peer_session();
  void on_packet(Instant now, const SocketAddress& from, ByteSpan bytes);
  void on_engine_timeout(Instant now);
  void drain();
  void drain_transmits();
  void on_event(engine::PeerSessionEvent& event);
  void on_connected();
  void fail(const std::string& reason);
  void release_media();
  void send_delete(std::function<void()> done);
  void schedule_flush();
  void schedule_sample();
  // Runs `handler` on the next turn of the loop unless the session is gone by then.
  void post(std::function<void()> handler);

  // engine::RelaySink: called synchronously from the relay; must not call back into it.
  void send_rtp(ByteSpan packet) override;
  void send_rtcp(ByteSpan packet) override;
  void send_protected(ByteSpan packet, bool rtcp);

  boost::asio::io_context& io_;
  EgressMediaSource& media_;
  WhipEgressOptions options_;
  std::shared_ptr<const engine::DtlsCertificate> certificate_;
  std::shared_ptr<const engine::DtlsContext> dtls_context_;  // null: the DTLS makes its own
  EgressTarget target_;
  EgressCallbacks callbacks_;
  engine::SecureRandom random_;  // referenced by the ICE agent: lives as long as the session
  io::HttpClient http_;
  // The loop's flush of every egress socket at the end of a turn (null: this session posts its
  // own). Before port_: the port tells the batch when it goes.
  EgressSendPath send_path_;
  std::unique_ptr<io::UdpPort> port_;
  engine::LocalTransport local_;
  engine::OutgoingStreams streams_;
  engine::EgressOffer offer_;
  std::optional<engine::EgressAnswer> answer_;
  std::unique_ptr<engine::PeerSession> peer_;
  EarlyStunChecks early_checks_;  // STUN that arrives before the answer (early_stun_checks.hpp)
  io::EngineTimer engine_timer_;
  io::EngineDriver driver_;
  boost::asio::steady_timer connect_timer_;
  boost::asio::steady_timer sample_timer_;
  Phase phase_ = Phase::kStarting;
  bool failed_ = false;
  bool closing_ = false;
  bool flush_posted_ = false;
  std::uint64_t send_slot_drops_ = 0;  // relay packets dropped: no send slot
  std::function<void()> close_done_;   // set while close() waits for the POST to finish
  std::string resource_url_;
  std::string etag_;
  std::optional<SocketAddress> stun_server_;
  std::optional<engine::EgressId> leg_;
  // (time, bytes sent) once a second, for the sliding-window bitrate.
  std::deque<std::pair<Instant, std::uint64_t>> samples_;
  std::shared_ptr<bool> alive_;
};

}  // namespace ivs::app
