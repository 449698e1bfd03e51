// The transport half of one WHIP egress session (RFC 9725 §4.2 client; RFC 8445 controlling ICE,
// RFC 5763 DTLS-SRTP): its UDP socket, the SDP offer's transport part, ICE, DTLS, SRTP and the
// relay leg. It lives on the thread whose relay shard feeds it (a media worker, or the main loop
// with MEDIA_WORKERS=1) and is driven by the signalling half (whip_egress_session.hpp), which
// runs the HTTP exchange on the control thread:
//
//   signalling (control thread)                      transport (its worker)
//   start ───────────────────────────────post──────► open socket, make offer
//   POST offer ◄─────────────────── on_offer(sdp) ◄─┘
//   201 + Link ─► resolve STUN ─► accept_answer(body, url, stun) ─post─► PeerSession, connect timer
//   on_connected() / on_failed(reason) ◄─────────────────────────────── ICE + DTLS, leg attached
//   close: stop_media ─post─► leg detached; DELETE; close ─post─► close_notify, socket closed
//
// Why split: a stage's POST and DELETE (TLS handshakes to IVS, DNS, redirects) are control work;
// on a worker they delayed every leg that worker feeds. The transport is everything per packet.
//
// The transport never reports from inside a call made to it by its host's loop in a way that
// re-enters: its events are plain calls that the signalling half turns into posts to its own
// thread. After fail() or close() it sends nothing and reports nothing more.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "app/egress/early_stun_checks.hpp"
#include "app/egress/egress_media_source.hpp"
#include "app/egress/egress_session.hpp"
#include "app/egress/whip_egress.hpp"
#include "engine/dtls_certificate.hpp"
#include "engine/dtls_context.hpp"
#include "engine/peer_session.hpp"
#include "engine/random.hpp"
#include "engine/sdp_negotiation.hpp"
#include "io/engine_driver.hpp"
#include "io/engine_timer.hpp"
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

// Everything a transport needs besides its thread's media source, made on the control thread.
struct EgressTransportSpec {
  WhipEgressOptions options;
  std::shared_ptr<const engine::DtlsCertificate> certificate;  // null: start() fails
  std::shared_ptr<const engine::DtlsContext> dtls_context;     // null: the DTLS makes its own
  EgressSendPath send_path;  // empty: the transport flushes its own socket each turn
  std::string stage_arn;     // for the log
};

// Called on the transport's thread. on_failed comes at most once, and nothing comes after it.
struct EgressTransportEvents {
  std::function<void(std::string sdp)> on_offer;
  std::function<void()> on_connected;
  std::function<void(std::string reason)> on_failed;
};

class EgressTransport final : private engine::RelaySink {
 public:
  EgressTransport(boost::asio::io_context& io, EgressMediaSource& media, EgressTransportSpec spec,
                  EgressTransportEvents events);
  ~EgressTransport() override;
  EgressTransport(const EgressTransport&) = delete;
  EgressTransport& operator=(const EgressTransport&) = delete;

  // Opens the socket and makes the offer: on_offer(sdp), or on_failed.
  void start();
  // The endpoint's 201: its SDP answer (`from_url`: where it came from, for errors) and the
  // STUN server its Link header named, already resolved. Connects, then on_connected.
  void accept_answer(const std::string& body, const std::string& from_url,
                     std::optional<SocketAddress> stun_server);
  // The leg stops at once (the DELETE is about to go); the transport stays up until close().
  void stop_media();
  // DTLS close_notify when connected, socket closed; silent from here on.
  void close();

  std::optional<EgressStats> stats() const;

 private:
  enum class Phase { kIdle, kOffered, kConnecting, kConnected, kDone };

  Status open_socket();
  void make_offer();
  void create_peer_session(std::optional<SocketAddress> stun_server);
  void arm_connect_timer();
  void on_packet(Instant now, const SocketAddress& from, ByteSpan bytes);
  void on_engine_timeout(Instant now);
  void drain();
  void drain_transmits();
  void on_event(engine::PeerSessionEvent& event);
  void on_connected();
  void fail(const std::string& reason);
  void release();
  void schedule_flush();
  void schedule_sample();

  // engine::RelaySink: called synchronously from the relay; must not call back into it.
  void send_rtp(ByteSpan packet) override;
  void send_rtcp(ByteSpan packet) override;
  void send_protected(ByteSpan packet, bool rtcp);

  boost::asio::io_context& io_;
  EgressMediaSource& media_;
  EgressTransportSpec spec_;
  EgressTransportEvents events_;
  engine::SecureRandom random_;  // referenced by the ICE agent: lives as long as the transport
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
  Phase phase_ = Phase::kIdle;
  bool flush_posted_ = false;
  std::uint64_t send_slot_drops_ = 0;  // relay packets dropped: no send slot
  std::optional<engine::EgressId> leg_;
  // (time, bytes sent) once a second, for the sliding-window bitrate.
  std::deque<std::pair<Instant, std::uint64_t>> samples_;
  std::shared_ptr<bool> alive_;
};

}  // namespace ivs::app
