// The media plane of a process: every SERVER-mode WebRTC session (WHIP ingest publishers and
// WHEP viewers; RFC 9725 and the WHEP draft) shares one UDP port, one DTLS certificate and one
// ICE-lite responder (RFC 8445 §2.5, demultiplexed per RFC 7983 by engine::PeerSessionRouter).
//
//   UdpPort ─► router.handle_packet ─► drain(): router transmits ─► UdpPort.send
//                                             router events ─► handler of that session
//   EngineTimer(router.poll_timeout) ─► router.handle_timeout ─► drain()
//
// Why it looks like this:
// - One port for every session is what a WHIP server behind a firewall or a container port
//   mapping needs (one RTC_UDP_PORT to open), and IceLite routes by source address in one
//   hash lookup, so nothing is gained from a port per session.
// - Sessions do not get callbacks from the engine (sans-I/O); the plane's drain loop hands each
//   routed event to the MediaSessionHandler registered with the session. Handlers may call
//   back into the plane (send, close, add sessions): drain() is io::EngineDriver, on which a
//   nested call only asks the running loop to go round once more.
// - Viewers' media (send_rtp/send_rtcp) is protected straight into the port's send slots, as the
//   egress legs' is: no Transmit queued and no allocation per packet.
// - With media workers, a connected WHEP viewer's outbound SRTP context moves to a worker, which
//   sends the viewer's media from a duplicate of this port's socket (worker_viewers.hpp); the
//   session here keeps ICE, DTLS and the viewer's RTCP.
// - The plane owns no media logic: RelayChannel (publisher + viewers of one relay) is the
//   handler for its sessions; the stage role runs one channel per stage on ONE plane.
// - One DTLS context (OpenSSL SSL_CTX: certificate, key, ciphers, SRTP profiles) for every
//   session made with the plane's certificate, as the WHIP egress has one per worker: a private
//   one cost each WHIP publisher, WHEP viewer and (stage role) stage ~12 KiB and its set-up.
// - Local transports (our ICE credentials, fingerprint and host candidates for an SDP answer)
//   are made here because only the plane knows the bound address: a socket bound to 0.0.0.0
//   advertises every IPv4 interface address (loopback included, so local tests and a browser on
//   the same host work), and RTC_ANNOUNCED_IP replaces the advertised IP (1:1 NAT, containers).
// Everything runs on the io_context's one thread.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "app/relay/media_session_host.hpp"
#include "engine/dtls_certificate.hpp"
#include "engine/dtls_context.hpp"
#include "engine/peer_session_router.hpp"
#include "engine/random.hpp"
#include "engine/sdp_negotiation.hpp"
#include "io/engine_driver.hpp"
#include "proto/result.hpp"
#include "proto/socket_address.hpp"
#include "proto/time.hpp"

namespace boost::asio {
class io_context;
}

namespace ivs::io {
class EngineTimer;
class UdpPort;
}  // namespace ivs::io

namespace ivs::app {

struct MediaPlaneOptions {
  std::string bind_ip = "0.0.0.0";  // RTC_BIND_IP; IPv4 literal
  std::uint16_t udp_port = 0;       // RTC_UDP_PORT; 0 = ephemeral (tests)
  std::string announced_ip;         // RTC_ANNOUNCED_IP; empty: advertise the host addresses
  engine::IceLiteConfig ice;        // consent timeout etc.
  std::size_t max_sessions = 1000;  // add_session fails beyond this (DESIGN.md §6 bounds)
  // Port send queue; a new viewer's GOP-cache burst (hundreds of packets) must fit between
  // flushes, so this is larger than the UdpPort default.
  std::size_t send_queue_capacity = 8192;
};

class MediaPlane final : public MediaSessionHost {
 public:
  // Binds the port and generates the certificate. The error names the address when the port is
  // busy ("RTC UDP port 0.0.0.0:50000 is not available: Address already in use").
  static Result<std::unique_ptr<MediaPlane>> start(boost::asio::io_context& io,
                                                   MediaPlaneOptions options);
  ~MediaPlane() override;
  MediaPlane(const MediaPlane&) = delete;
  MediaPlane& operator=(const MediaPlane&) = delete;

  // Fresh ICE credentials (random ufrag 8 / pwd 24 ICE chars), our fingerprint, the host
  // addresses and announced IP, a random o= session id. Its ufrag is not yet registered.
  engine::LocalTransport make_local_transport() override;

  // Registers a server-mode session under `local` (the credentials of a transport made above)
  // whose events go to `handler` until remove_session/close_session. Fails beyond max_sessions
  // or when the router refuses (ufrag taken, bad DTLS setup). A session made with the plane's
  // certificate and no DTLS context of its own shares the plane's.
  Result<engine::IceSessionId> add_session(Instant now, engine::PeerSessionConfig config,
                                           const engine::IceCredentials& local,
                                           std::optional<engine::IceCredentials> remote,
                                           MediaSessionHandler& handler) override;
  // Sends DTLS close_notify (when connected) and removes the session at once; no event of it
  // reaches the handler afterwards.
  void close_session(Instant now, engine::IceSessionId id) override;
  // Removes without a close_notify (the session failed or the peer closed it).
  void remove_session(engine::IceSessionId id) override;

  engine::PeerSession* session(engine::IceSessionId id);
  bool send_rtp(engine::IceSessionId id, ByteSpan packet) override;
  bool send_rtcp(engine::IceSessionId id, ByteSpan packet) override;
  Result<io::SocketDuplicate> duplicate_socket() override;
  std::unique_ptr<engine::SrtpSession> take_outbound_srtp(engine::IceSessionId id) override;
  std::optional<SocketAddress> remote_address(engine::IceSessionId id) override;

  // Moves router output to the port and events to handlers until both are empty, flushes the
  // port and re-arms the timer. Call after any command on a session (send_*, add_session).
  void drain(Instant now) override;

  // Closes every session and the socket (shutdown). Handlers get no more events.
  void close();

  const std::shared_ptr<const engine::DtlsCertificate>& certificate() const override {
    return certificate_;
  }
  const std::shared_ptr<const engine::DtlsContext>& dtls_context() const { return dtls_context_; }
  SocketAddress local_address() const;
  // What host candidates advertise (before RTC_ANNOUNCED_IP replaces the IP).
  const std::vector<SocketAddress>& host_addresses() const { return host_addresses_; }
  std::size_t session_count() const { return router_.session_count(); }
  engine::RandomSource& random() override { return random_; }
  const engine::PeerSessionRouter& router() const { return router_; }

 private:
  explicit MediaPlane(MediaPlaneOptions options);
  void on_datagram(Instant now, const SocketAddress& from, ByteSpan bytes);
  void on_timeout(Instant now);
  bool send_protected(engine::IceSessionId id, ByteSpan packet, bool rtcp);

  MediaPlaneOptions options_;
  engine::SecureRandom random_;
  std::shared_ptr<const engine::DtlsCertificate> certificate_;
  std::shared_ptr<const engine::DtlsContext> dtls_context_;
  std::unique_ptr<io::UdpPort> port_;
  std::vector<SocketAddress> host_addresses_;
  engine::PeerSessionRouter router_;
  std::unique_ptr<io::EngineTimer> timer_;
  std::unordered_map<engine::IceSessionId, MediaSessionHandler*> handlers_;
  io::EngineDriver driver_;
  bool closed_ = false;
};

// "%08x"-style random hex of `bytes` random bytes (resource ids, ETags).
std::string random_hex(engine::RandomSource& random, std::size_t bytes);

}  // namespace ivs::app
