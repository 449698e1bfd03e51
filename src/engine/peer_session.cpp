#include "engine/peer_session.hpp"

#include <algorithm>

#include "proto/packet_demux.hpp"
#include "proto/rtp_packet.hpp"

namespace ivs::engine {

namespace {

// Room for the largest datagram we accept plus the SRTP tag we may add.
constexpr std::size_t kBufferSize = 2048 + kMaxSrtpOverhead;

}  // namespace

std::string_view to_string(MediaKind kind) {
  switch (kind) {
    case MediaKind::kAudio:
      return "audio";
    case MediaKind::kVideo:
      return "video";
    case MediaKind::kUnknown:
      break;
  }
  return "unknown";
}

MediaKind SessionMediaMap::classify(std::uint32_t ssrc, std::uint8_t payload_type) const {
  // SSRC first: a=ssrc lines are exact; payload types may be shared by BUNDLEd sections.
  if (std::find(audio_ssrcs.begin(), audio_ssrcs.end(), ssrc) != audio_ssrcs.end()) {
    return MediaKind::kAudio;
  }
  if (std::find(video_ssrcs.begin(), video_ssrcs.end(), ssrc) != video_ssrcs.end()) {
    return MediaKind::kVideo;
  }
  if (audio_payload_type == payload_type) {
    return MediaKind::kAudio;
  }
  if (video_payload_type == payload_type) {
    return MediaKind::kVideo;
  }
  return MediaKind::kUnknown;
}

PeerSession::PeerSession(PeerSessionConfig config, std::unique_ptr<DtlsTransport> dtls)
    : config_(std::move(config)), dtls_(std::move(dtls)), buffer_(kBufferSize) {}

PeerSession::~PeerSession() = default;

namespace {

Result<std::unique_ptr<DtlsTransport>> make_dtls(const PeerSessionConfig& config) {
  DtlsConfig dtls;
  dtls.role = config.dtls_role;
  dtls.certificate = config.certificate;
  dtls.context = config.dtls_context;
  dtls.remote_fingerprint = config.remote_fingerprint;
  dtls.mtu = config.mtu;
  return DtlsTransport::create(std::move(dtls));
}

}  // namespace

Result<std::unique_ptr<PeerSession>> PeerSession::create_server(PeerSessionConfig config) {
  auto dtls = make_dtls(config);
  if (!dtls) {
    return dtls.error();
  }
  return std::unique_ptr<PeerSession>(new PeerSession(std::move(config), std::move(*dtls)));
}

Result<std::unique_ptr<PeerSession>> PeerSession::create_client(PeerSessionConfig config,
                                                                PeerSessionIceClient ice,
                                                                RandomSource& random) {
  if (ice.agent.host_addresses.size() != 1) {
    return Error{"peer session: the client mode needs exactly one local socket"};
  }
  auto dtls = make_dtls(config);
  if (!dtls) {
    return dtls.error();
  }
  std::unique_ptr<PeerSession> session(new PeerSession(std::move(config), std::move(*dtls)));
  session->agent_ = std::make_unique<IceAgent>(std::move(ice.agent), random);
  session->agent_->set_remote_credentials(std::move(ice.remote));
  for (const auto& candidate : ice.candidates) {
    session->agent_->add_remote_candidate(candidate);
  }
  return session;
}

void PeerSession::start(Instant now) {
  if (agent_) {
    agent_->start_gathering(now);
    agent_->start(now);
    drain_ice(now);
  }
  if (config_.dtls_role == DtlsRole::kServer) {
    // A DTLS server only waits; starting it now makes the first ClientHello cheaper to accept.
    dtls_->start(now);
    dtls_started_ = true;
  }
}

void PeerSession::handle_packet(Instant now, const SocketAddress& from, ByteSpan bytes) {
  if (state_ == PeerSessionState::kFailed || state_ == PeerSessionState::kClosed) {
    return;
  }
  switch (proto::classify_packet(bytes)) {
    case proto::PacketKind::kStun:
      handle_stun(now, from, bytes);
      return;
    case proto::PacketKind::kDtls:
      handle_dtls(now, from, bytes);
      return;
    case proto::PacketKind::kRtp:
      handle_srtp(from, bytes);
      return;
    default:
      ++counters_.dropped_unknown_packet;
      return;
  }
}

void PeerSession::handle_stun(Instant now, const SocketAddress& from, ByteSpan bytes) {
  if (!agent_) {
    // Server mode: the router answers STUN; a STUN datagram here is not ours to interpret.
    ++counters_.dropped_unknown_packet;
    return;
  }
  agent_->handle_packet(
      now, agent_->local_candidates().empty() ? from : agent_->local_candidates().front().base,
      from, bytes);
  drain_ice(now);
}

bool PeerSession::dtls_source_allowed(const SocketAddress& from) const {
  if (remote_ && *remote_ == from) {
    return true;
  }
  if (!agent_) {
    return true;  // The router only routes datagrams from ICE-validated addresses.
  }
  const auto& remotes = agent_->remote_candidates();
  return std::any_of(remotes.begin(), remotes.end(),
                     [&](const IceCandidate& candidate) { return candidate.address == from; });
}

void PeerSession::handle_dtls(Instant now, const SocketAddress& from, ByteSpan bytes) {
  if (!dtls_source_allowed(from)) {
    ++counters_.dropped_unvalidated;
    return;
  }
  if (!remote_) {
    dtls_remote_ = from;  // Answer the handshake where it came from until ICE selects.
  }
  dtls_started_ = true;
  dtls_->handle_packet(now, bytes);
  drain_dtls();
}

void PeerSession::handle_srtp(const SocketAddress& from, ByteSpan bytes) {
  if (!inbound_) {
    ++counters_.dropped_before_keys;
    return;
  }
  if (agent_ && (!remote_ || *remote_ != from)) {
    ++counters_.dropped_unvalidated;
    return;
  }
  if (bytes.size() + kMaxSrtpOverhead > buffer_.size()) {
    ++counters_.decrypt_other_failures;
    return;
  }
  std::copy(bytes.begin(), bytes.end(), buffer_.begin());
  std::size_t size = bytes.size();
  if (proto::looks_like_rtcp(bytes)) {
    const SrtpStatus status = inbound_->unprotect_rtcp(buffer_, size);
    if (status != SrtpStatus::kOk) {
      count_decrypt_failure(status);
      return;
    }
    dtls_->retire();  // the peer has the keys: the handshake state is not needed any more
    handle_srtcp(size);
    return;
  }
  const SrtpStatus status = inbound_->unprotect_rtp(buffer_, size);
  if (status != SrtpStatus::kOk) {
    count_decrypt_failure(status);
    return;
  }
  dtls_->retire();
  const ByteSpan plain(buffer_.data(), size);
  auto view = proto::parse_rtp(plain);
  if (!view) {
    ++counters_.malformed_rtp;
    return;
  }
  ++counters_.rtp_received;
  events_.push_back(SessionMediaPacket{config_.media.classify(view->ssrc, view->payload_type),
                                       Bytes(plain.begin(), plain.end())});
}

void PeerSession::handle_srtcp(std::size_t size) {
  const ByteSpan plain(buffer_.data(), size);
  auto packets = proto::parse_rtcp_compound(plain);
  if (!packets) {
    ++counters_.malformed_rtcp;
    return;
  }
  ++counters_.rtcp_received;
  events_.push_back(SessionRtcpPacket{Bytes(plain.begin(), plain.end()), std::move(*packets)});
}

void PeerSession::count_decrypt_failure(SrtpStatus status) {
  switch (status) {
    case SrtpStatus::kAuthFail:
      ++counters_.decrypt_auth_failures;
      return;
    case SrtpStatus::kReplayFail:
      ++counters_.decrypt_replay_failures;
      return;
    default:
      ++counters_.decrypt_other_failures;
      return;
  }
}

void PeerSession::handle_timeout(Instant now) {
  if (state_ == PeerSessionState::kFailed || state_ == PeerSessionState::kClosed) {
    return;
  }
  if (agent_) {
    agent_->handle_timeout(now);
    drain_ice(now);
  }
  if (dtls_started_) {
    dtls_->handle_timeout(now);
    drain_dtls();
  }
}

void PeerSession::drain_ice(Instant now) {
  while (auto transmit = agent_->poll_transmit()) {
    transmits_.push_back(Transmit{transmit->destination, std::move(transmit->payload)});
  }
  while (auto event = agent_->poll_event()) {
    switch (event->kind) {
      case IceAgentEvent::Kind::kSelectedPair:
        on_selected(now, event->remote);
        break;
      case IceAgentEvent::Kind::kConsentLost:
        fail("ICE consent lost");
        return;
      case IceAgentEvent::Kind::kStateChanged:
        if (event->state == IceAgentState::kFailed) {
          fail("ICE failed: no candidate pair succeeded");
          return;
        }
        break;
      case IceAgentEvent::Kind::kGatheringComplete:
        break;
    }
  }
}

void PeerSession::on_ice_selected(Instant now, const SocketAddress& address) {
  if (state_ == PeerSessionState::kFailed || state_ == PeerSessionState::kClosed) {
    return;
  }
  on_selected(now, address);
}

void PeerSession::on_selected(Instant now, const SocketAddress& remote) {
  remote_ = remote;
  if (config_.dtls_role == DtlsRole::kClient && dtls_->state() == DtlsState::kNew) {
    dtls_->start(now);
    dtls_started_ = true;
    drain_dtls();
  }
}

void PeerSession::on_consent_expired() {
  fail("ICE consent expired");
}

void PeerSession::drain_dtls() {
  const std::optional<SocketAddress> destination = remote_ ? remote_ : dtls_remote_;
  while (auto datagram = dtls_->poll_transmit()) {
    if (destination) {
      transmits_.push_back(Transmit{*destination, std::move(*datagram)});
    }
  }
  while (auto event = dtls_->poll_event()) {
    if (auto* connected = std::get_if<DtlsConnected>(&*event)) {
      install_keys(connected->keys);
    } else if (auto* failed = std::get_if<DtlsFailed>(&*event)) {
      fail("DTLS: " + failed->reason);
    } else if (state_ != PeerSessionState::kFailed) {
      state_ = PeerSessionState::kClosed;
      events_.push_back(SessionClosed{});
    }
  }
}

void PeerSession::install_keys(const DtlsSrtpKeys& keys) {
  SrtpConfig out{
      .profile = keys.profile, .master = keys.local, .direction = SrtpDirection::kOutbound};
  SrtpConfig in{
      .profile = keys.profile, .master = keys.remote, .direction = SrtpDirection::kInbound};
  // The default backend is the OpenSSL-EVP one: byte-identical to libsrtp2 (tests/engine/
  // srtp_openssl_test.cpp) and 2-5x cheaper per packet (bench/README.md).
  auto outbound = make_srtp_session(out);
  auto inbound = make_srtp_session(in);
  if (!outbound || !inbound) {
    fail("SRTP: " + (outbound ? inbound.error().message : outbound.error().message));
    return;
  }
  outbound_ = std::move(*outbound);
  inbound_ = std::move(*inbound);
  if (!remote_) {
    remote_ = dtls_remote_;
  }
  state_ = PeerSessionState::kConnected;
  events_.push_back(SessionConnected{keys.profile, remote_.value_or(SocketAddress{})});
}

void PeerSession::fail(std::string reason) {
  if (state_ == PeerSessionState::kFailed || state_ == PeerSessionState::kClosed) {
    return;
  }
  state_ = PeerSessionState::kFailed;
  inbound_.reset();
  outbound_.reset();
  events_.push_back(SessionFailed{std::move(reason)});
}

bool PeerSession::send_rtp(ByteSpan packet) {
  return protect_and_send(packet, false);
}

bool PeerSession::send_rtcp(ByteSpan packet) {
  return protect_and_send(packet, true);
}

bool PeerSession::protect_and_send(ByteSpan packet, bool rtcp) {
  Bytes datagram(packet.size() + kMaxSrtpOverhead);
  const auto size = protect_into(packet, datagram, rtcp);
  if (!size) {
    return false;
  }
  datagram.resize(*size);
  transmits_.push_back(Transmit{*remote_, std::move(datagram)});
  return true;
}

std::optional<std::size_t> PeerSession::protect_rtp_into(ByteSpan packet, MutableByteSpan out) {
  return protect_into(packet, out, false);
}

std::optional<std::size_t> PeerSession::protect_rtcp_into(ByteSpan packet, MutableByteSpan out) {
  return protect_into(packet, out, true);
}

std::optional<std::size_t> PeerSession::protect_into(ByteSpan packet, MutableByteSpan out,
                                                     bool rtcp) {
  if (state_ != PeerSessionState::kConnected || !outbound_ || !remote_) {
    ++counters_.send_dropped_not_ready;
    return std::nullopt;
  }
  const auto size = protect_copy_into(*outbound_, packet, out, rtcp);
  if (!size) {
    ++counters_.send_protect_failures;
    return std::nullopt;
  }
  ++(rtcp ? counters_.rtcp_sent : counters_.rtp_sent);
  return size;
}

std::unique_ptr<SrtpSession> PeerSession::take_outbound_srtp() {
  if (state_ != PeerSessionState::kConnected) {
    return nullptr;
  }
  return std::move(outbound_);
}

void PeerSession::close(Instant now) {
  if (state_ == PeerSessionState::kFailed || state_ == PeerSessionState::kClosed) {
    return;
  }
  if (dtls_started_) {
    dtls_->close(now);
    drain_dtls();
  }
  state_ = PeerSessionState::kClosed;
  inbound_.reset();
  outbound_.reset();
  events_.push_back(SessionClosed{});
}

std::optional<Transmit> PeerSession::poll_transmit() {
  if (transmits_.empty()) {
    return std::nullopt;
  }
  Transmit transmit = std::move(transmits_.front());
  transmits_.pop_front();
  return transmit;
}

std::optional<PeerSessionEvent> PeerSession::poll_event() {
  if (events_.empty()) {
    return std::nullopt;
  }
  PeerSessionEvent event = std::move(events_.front());
  events_.pop_front();
  return event;
}

std::optional<Instant> PeerSession::poll_timeout() const {
  if (state_ == PeerSessionState::kFailed || state_ == PeerSessionState::kClosed) {
    return std::nullopt;
  }
  std::optional<Instant> next;
  if (agent_) {
    next = agent_->poll_timeout();
  }
  if (dtls_started_) {
    const auto dtls = dtls_->poll_timeout();
    if (dtls && (!next || *dtls < *next)) {
      next = dtls;
    }
  }
  return next;
}

}  // namespace ivs::engine
