#include "app/relay/media_plane.hpp"

#include <spdlog/spdlog.h>

#include "io/clock.hpp"
#include "io/engine_timer.hpp"
#include "io/local_addresses.hpp"
#include "io/udp_port.hpp"

namespace ivs::app {

std::string random_hex(engine::RandomSource& random, std::size_t bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes * 2);
  for (std::size_t i = 0; i < bytes; ++i) {
    const auto value = static_cast<std::uint8_t>(random.next_u32());
    out.push_back(kDigits[value >> 4]);
    out.push_back(kDigits[value & 0x0f]);
  }
  return out;
}

MediaPlane::MediaPlane(MediaPlaneOptions options)
    : options_(std::move(options)), router_(options_.ice) {}

MediaPlane::~MediaPlane() {
  close();
}

Result<std::unique_ptr<MediaPlane>> MediaPlane::start(boost::asio::io_context& io,
                                                      MediaPlaneOptions options) {
  const auto bind = SocketAddress::from_ip(options.bind_ip, options.udp_port);
  if (!bind || !bind->is_ipv4()) {
    return Error{"RTC_BIND_IP=" + options.bind_ip + " is not an IPv4 address"};
  }
  std::unique_ptr<MediaPlane> plane(new MediaPlane(std::move(options)));
  auto certificate = engine::DtlsCertificate::generate(io::wall_now());
  if (!certificate) {
    return Error{"DTLS certificate: " + certificate.error().message};
  }
  plane->certificate_ = std::move(*certificate);
  auto context =
      engine::DtlsContext::create(plane->certificate_, engine::DtlsConfig{}.srtp_profiles);
  if (!context) {
    return Error{"DTLS context: " + context.error().message};
  }
  plane->dtls_context_ = std::move(*context);

  io::UdpPortOptions udp;
  udp.bind_address = *bind;
  // Never SO_REUSEADDR (UdpPortOptions' default): a second process could bind the same port
  // and the sessions would be split between the two at random.
  udp.reuse_address = false;
  udp.send_queue_capacity = plane->options_.send_queue_capacity;
  auto port = io::UdpPort::open(io, udp);
  if (!port) {
    return Error{"RTC UDP port " + bind->to_string() +
                 " is not available (set RTC_BIND_IP / RTC_UDP_PORT): " + port.error().message};
  }
  plane->port_ = std::move(*port);
  const SocketAddress local = plane->port_->local_address();
  plane->host_addresses_ = io::host_addresses_of(local);
  if (plane->host_addresses_.empty()) {
    plane->host_addresses_.push_back(SocketAddress::ipv4({127, 0, 0, 1}, local.port()));
  }
  MediaPlane* self = plane.get();
  plane->timer_ =
      std::make_unique<io::EngineTimer>(io, [self](Instant now) { self->on_timeout(now); });
  plane->port_->start([self](Instant now, const SocketAddress& from, ByteSpan bytes) {
    self->on_datagram(now, from, bytes);
  });
  return plane;
}

SocketAddress MediaPlane::local_address() const {
  return port_ ? port_->local_address() : SocketAddress{};
}

engine::LocalTransport MediaPlane::make_local_transport() {
  engine::LocalTransport local;
  local.ice = {random_.ice_chars(8), random_.ice_chars(24)};
  local.fingerprint = proto::SdpFingerprint{certificate_->fingerprint().algorithm,
                                            certificate_->fingerprint().digest};
  local.host_addresses = host_addresses_;
  if (!options_.announced_ip.empty()) {
    local.announced_ip = options_.announced_ip;
    // One candidate is enough when every host address would show the same announced IP.
    local.host_addresses.resize(1);
  }
  local.session_id = random_.next_u64() >> 2;  // o= session ids stay below 2^62 (RFC 3264 §5)
  return local;
}

Result<engine::IceSessionId> MediaPlane::add_session(Instant now, engine::PeerSessionConfig config,
                                                     const engine::IceCredentials& local,
                                                     std::optional<engine::IceCredentials> remote,
                                                     MediaSessionHandler& handler) {
  if (closed_) {
    return Error{"the media plane is shut down"};
  }
  if (router_.session_count() >= options_.max_sessions) {
    return Error{"the server has reached its limit of " + std::to_string(options_.max_sessions) +
                 " WebRTC sessions"};
  }
  if (!config.dtls_context && config.certificate == certificate_) {
    config.dtls_context = dtls_context_;
  }
  auto id = router_.add_session(now, std::move(config), local, std::move(remote));
  if (!id) {
    return id.error();
  }
  handlers_[*id] = &handler;
  return *id;
}

void MediaPlane::close_session(Instant now, engine::IceSessionId id) {
  if (engine::PeerSession* session = router_.session(id)) {
    if (session->state() == engine::PeerSessionState::kConnected) {
      session->close(now);
      while (auto transmit = session->poll_transmit()) {
        port_->send(transmit->destination, transmit->payload);
      }
      port_->flush();
    }
  }
  remove_session(id);
}

void MediaPlane::remove_session(engine::IceSessionId id) {
  handlers_.erase(id);
  router_.remove_session(id);
}

engine::PeerSession* MediaPlane::session(engine::IceSessionId id) {
  return router_.session(id);
}

bool MediaPlane::send_rtp(engine::IceSessionId id, ByteSpan packet) {
  return send_protected(id, packet, false);
}

bool MediaPlane::send_rtcp(engine::IceSessionId id, ByteSpan packet) {
  return send_protected(id, packet, true);
}

Result<io::SocketDuplicate> MediaPlane::duplicate_socket() {
  if (closed_ || !port_) {
    return Error{"the media plane is shut down"};
  }
  return port_->duplicate();
}

// Called from the session's Connected event, while the drain that delivers it still holds the
// session's last DTLS flight in the port's queue: that flight is flushed first, so the kernel
// has it before the worker's first protected packet (a peer drops SRTP that arrives before its
// handshake is done, and the viewer's first GOP with it).
std::unique_ptr<engine::SrtpSession> MediaPlane::take_outbound_srtp(engine::IceSessionId id) {
  engine::PeerSession* target = router_.session(id);
  if (target == nullptr) {
    return nullptr;
  }
  auto outbound = target->take_outbound_srtp();
  if (outbound && port_ && port_->is_open()) {
    port_->flush();
  }
  return outbound;
}

std::optional<SocketAddress> MediaPlane::remote_address(engine::IceSessionId id) {
  engine::PeerSession* target = router_.session(id);
  return target ? target->remote_address() : std::nullopt;
}

// WHEP viewers' media takes the stages' path (EgressTransport::send_protected): the packet is
// protected straight into the port's next send slot, so nothing is queued in the session and
// nothing is allocated per packet; the drain that follows the relay's fan-out flushes the port.
// A full ring (a GOP replayed to several new viewers at once) is flushed once before the packet
// is given up, as the old per-64-transmits flush did.
bool MediaPlane::send_protected(engine::IceSessionId id, ByteSpan packet, bool rtcp) {
  engine::PeerSession* target = router_.session(id);
  if (target == nullptr || closed_ || !port_ || !port_->is_open()) {
    return false;
  }
  MutableByteSpan slot = port_->send_slot();
  if (slot.empty()) {
    port_->flush();
    slot = port_->send_slot();
    if (slot.empty()) {
      return false;
    }
  }
  const auto size =
      rtcp ? target->protect_rtcp_into(packet, slot) : target->protect_rtp_into(packet, slot);
  if (!size) {
    return false;  // counted by the session (not connected yet, too large, protect failure)
  }
  return port_->commit_send(*target->remote_address(), *size);
}

void MediaPlane::on_datagram(Instant now, const SocketAddress& from, ByteSpan bytes) {
  router_.handle_packet(now, from, bytes);
  drain(now);
}

void MediaPlane::on_timeout(Instant now) {
  router_.handle_timeout(now);
  drain(now);
}

void MediaPlane::drain(Instant now) {
  if (closed_ || !port_) {
    return;
  }
  driver_.drain([this]() -> engine::PeerSessionRouter* { return closed_ ? nullptr : &router_; },
                port_.get(), *timer_,
                [this, now](engine::RoutedSessionEvent& routed) {
                  auto handler = handlers_.find(routed.session);
                  if (handler != handlers_.end()) {
                    handler->second->on_session_event(now, routed.session, routed.event);
                  }
                });
}

void MediaPlane::close() {
  if (closed_) {
    return;
  }
  const Instant now = io::monotonic_now();
  std::vector<engine::IceSessionId> ids;
  ids.reserve(handlers_.size());
  for (const auto& [id, handler] : handlers_) {
    ids.push_back(id);
  }
  if (port_) {
    for (engine::IceSessionId id : ids) {
      close_session(now, id);
    }
  }
  handlers_.clear();
  closed_ = true;
  if (timer_) {
    timer_->cancel();
  }
  if (port_) {
    port_->close();
  }
}

}  // namespace ivs::app
