// One WebRTC peer session: ICE (RFC 8445) + DTLS-SRTP (RFC 5763/5764) + SRTP/SRTCP (RFC 3711,
// RFC 7714) + RTP/RTCP multiplexing on one 5-tuple (RFC 5761 §4, RFC 7983 §7).
//
//   datagram ─► RFC 7983 first byte ─┬─ STUN ──► IceAgent (client role only; the server role's
//                                    │           STUN never reaches the session, see below)
//                                    ├─ DTLS ──► DtlsTransport ──Connected──► SRTP keys
//                                    └─ RTP/RTCP ─► byte 1 in 192..223 (RFC 5761 §4)?
//                                                   ├─ yes: unprotect_rtcp ─► RtcpPacket event
//                                                   └─ no:  unprotect_rtp  ─► MediaPacket event
//
// Two ICE modes, chosen by the constructor:
// - Server (WHIP ingest, WHEP, local stage): ICE-lite. One IceLite responder is shared by every
//   session on a UDP port (peer_session_router.hpp answers STUN and routes the rest by source
//   address); the router feeds this session only non-STUN datagrams from validated addresses,
//   plus the lite events (on_ice_selected / on_consent_expired).
// - Client (WHIP egress): a full, controlling IceAgent owned here, with one local socket.
// DTLS role: the server mode is normally DTLS server (we answer a=setup:passive) and the client
// mode takes the role from the answer's a=setup; both modes accept either role. A DTLS client
// starts its handshake once ICE has selected a pair.
//
// Security (DESIGN.md §6): DTLS and SRTP are accepted only from ICE-validated addresses: in
// server mode the router guarantees it; in client mode DTLS is accepted from a signalled or
// learned remote candidate and SRTP only from the selected remote address. The peer certificate
// must match the SDP fingerprint (DtlsTransport).
//
// Media path: no exceptions. Failures are counted (PeerSessionCounters) and the datagram dropped.
// Engine shape (transmit.hpp): after any input or command, drain poll_transmit() and
// poll_event(), then re-arm from poll_timeout(). The session never calls back into its owner.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "engine/dtls_transport.hpp"
#include "engine/ice_agent.hpp"
#include "engine/ice_lite.hpp"
#include "engine/random.hpp"
#include "engine/srtp_session.hpp"
#include "engine/transmit.hpp"
#include "proto/rtcp_compound.hpp"

namespace ivs::engine {

enum class MediaKind : std::uint8_t { kAudio, kVideo, kUnknown };
std::string_view to_string(MediaKind kind);

// What the session knows about the negotiated media, to label packets (by SSRC first, then PT).
struct SessionMediaMap {
  std::optional<std::uint8_t> audio_payload_type;
  std::optional<std::uint8_t> video_payload_type;
  std::vector<std::uint32_t> audio_ssrcs;
  std::vector<std::uint32_t> video_ssrcs;
  MediaKind classify(std::uint32_t ssrc, std::uint8_t payload_type) const;
};

struct PeerSessionConfig {
  DtlsRole dtls_role = DtlsRole::kServer;
  std::shared_ptr<const DtlsCertificate> certificate;
  // Shared by the sessions of one certificate (dtls_context.hpp); null: a private one.
  std::shared_ptr<const DtlsContext> dtls_context;
  DtlsFingerprint remote_fingerprint;
  SessionMediaMap media;
  std::size_t mtu = 1200;
};

// Client mode only: the full ICE agent's inputs.
struct PeerSessionIceClient {
  IceAgentConfig agent;                  // local credentials and the one host address
  IceCredentials remote;                 // from the answer
  std::vector<IceCandidate> candidates;  // from the answer
};

struct SessionConnected {
  SrtpProfile profile = SrtpProfile::kAeadAes128Gcm;
  SocketAddress remote;
};
struct SessionMediaPacket {
  MediaKind kind = MediaKind::kUnknown;
  Bytes packet;  // decrypted RTP, header included
};
struct SessionRtcpPacket {
  Bytes packet;                            // decrypted compound
  std::vector<proto::RtcpPacket> packets;  // NACK, PLI, FIR, REMB, RR, SR, ... as parsed
};
struct SessionFailed {
  std::string reason;
};
struct SessionClosed {};
using PeerSessionEvent = std::variant<SessionConnected, SessionMediaPacket, SessionRtcpPacket,
                                      SessionFailed, SessionClosed>;

enum class PeerSessionState : std::uint8_t { kConnecting, kConnected, kFailed, kClosed };

struct PeerSessionCounters {
  std::uint64_t rtp_received = 0;  // decrypted
  std::uint64_t rtcp_received = 0;
  std::uint64_t rtp_sent = 0;
  std::uint64_t rtcp_sent = 0;
  std::uint64_t decrypt_auth_failures = 0;
  std::uint64_t decrypt_replay_failures = 0;
  std::uint64_t decrypt_other_failures = 0;
  std::uint64_t malformed_rtp = 0;
  std::uint64_t malformed_rtcp = 0;
  std::uint64_t dropped_before_keys = 0;     // SRTP before DTLS finished
  std::uint64_t dropped_unvalidated = 0;     // from an address ICE did not validate
  std::uint64_t dropped_unknown_packet = 0;  // RFC 7983 says neither DTLS nor RTP
  std::uint64_t send_dropped_not_ready = 0;  // send_rtp/send_rtcp before Connected
  std::uint64_t send_protect_failures = 0;
};

class PeerSession {
 public:
  // Server mode: ICE is the shared IceLite behind the router.
  static Result<std::unique_ptr<PeerSession>> create_server(PeerSessionConfig config);
  // Client mode: owns a controlling IceAgent; start() begins gathering and checks.
  static Result<std::unique_ptr<PeerSession>> create_client(PeerSessionConfig config,
                                                            PeerSessionIceClient ice,
                                                            RandomSource& random);
  ~PeerSession();
  PeerSession(const PeerSession&) = delete;
  PeerSession& operator=(const PeerSession&) = delete;

  void start(Instant now);
  void handle_packet(Instant now, const SocketAddress& from, ByteSpan bytes);
  void handle_timeout(Instant now);
  std::optional<Transmit> poll_transmit();
  std::optional<PeerSessionEvent> poll_event();
  std::optional<Instant> poll_timeout() const;

  // Server mode: what the shared IceLite reported for this session.
  void on_ice_selected(Instant now, const SocketAddress& address);
  void on_consent_expired();

  // Protect and send to the selected address. False (and counted) before Connected or when
  // protection fails; never throws.
  bool send_rtp(ByteSpan packet);
  bool send_rtcp(ByteSpan packet);
  // The fan-out path's form of send_rtp/send_rtcp: protects a copy of `packet` into `out`
  // (which needs packet.size() + kMaxSrtpOverhead bytes) and returns the datagram's size, to be
  // sent to remote_address() by the caller. Nothing is queued and nothing allocates, which is
  // what one packet to a thousand legs needs (bench/README.md, "send path"). nullopt (counted
  // like send_rtp's failures) before Connected, when `out` is too small or protection fails.
  std::optional<std::size_t> protect_rtp_into(ByteSpan packet, MutableByteSpan out);
  std::optional<std::size_t> protect_rtcp_into(ByteSpan packet, MutableByteSpan out);
  // Hands our direction's SRTP context (keys and packet indices) to a sender elsewhere: a WHEP
  // viewer's leg on a media worker protects and sends the viewer's media on its own thread
  // while this session keeps ICE, DTLS and the viewer's RTCP. From then on send_rtp and
  // protect_*_into fail (counted as not ready). Null before Connected or once taken.
  std::unique_ptr<SrtpSession> take_outbound_srtp();
  // close_notify to the peer, then Closed.
  void close(Instant now);

  PeerSessionState state() const { return state_; }
  const std::optional<SocketAddress>& remote_address() const { return remote_; }
  const PeerSessionCounters& counters() const { return counters_; }
  const DtlsTransport& dtls() const { return *dtls_; }
  const IceAgent* ice_agent() const { return agent_.get(); }

 private:
  PeerSession(PeerSessionConfig config, std::unique_ptr<DtlsTransport> dtls);
  void on_selected(Instant now, const SocketAddress& remote);
  void fail(std::string reason);
  void handle_stun(Instant now, const SocketAddress& from, ByteSpan bytes);
  void handle_dtls(Instant now, const SocketAddress& from, ByteSpan bytes);
  void handle_srtp(const SocketAddress& from, ByteSpan bytes);
  void handle_srtcp(std::size_t size);
  void drain_ice(Instant now);
  void drain_dtls();
  void install_keys(const DtlsSrtpKeys& keys);
  void count_decrypt_failure(SrtpStatus status);
  bool dtls_source_allowed(const SocketAddress& from) const;
  bool protect_and_send(ByteSpan packet, bool rtcp);
  std::optional<std::size_t> protect_into(ByteSpan packet, MutableByteSpan out, bool rtcp);

  PeerSessionConfig config_;
  std::unique_ptr<DtlsTransport> dtls_;
  std::unique_ptr<IceAgent> agent_;  // client mode only
  PeerSessionState state_ = PeerSessionState::kConnecting;
  std::optional<SocketAddress> remote_;       // selected (client) / nominated (server)
  std::optional<SocketAddress> dtls_remote_;  // where DTLS goes before a selection
  bool dtls_started_ = false;
  std::unique_ptr<SrtpSession> inbound_;
  std::unique_ptr<SrtpSession> outbound_;
  Bytes buffer_;  // reused for unprotect/protect in place
  std::deque<Transmit> transmits_;
  std::deque<PeerSessionEvent> events_;
  PeerSessionCounters counters_;
};

}  // namespace ivs::engine
