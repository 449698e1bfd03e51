#include "engine/dtls_transport.hpp"

#include <openssl/err.h>
#include <openssl/opensslv.h>
#include <openssl/ssl.h>

#include <algorithm>

// See "Retransmission" in dtls_transport.hpp: from OpenSSL 3.2 the pointer passed with
// BIO_CTRL_DGRAM_SET_NEXT_TIMEOUT is to a temporary, so writing through it later is undefined.
#if OPENSSL_VERSION_NUMBER >= 0x30200000L
#error "DtlsTransport's retransmission timer relies on OpenSSL 3.0/3.1 DTLS timer internals"
#endif

namespace ivs::engine {
namespace {

// OpenSSL's own DTLS deadline is set this far ahead (an hour, in µs; fits in 32 bits), so it
// never expires by itself during a handshake; the engine's timer decides instead.
constexpr unsigned int kOpenSslTimerMicros = 3600u * 1000000u;

unsigned int far_away_timer(SSL*, unsigned int) {
  return kOpenSslTimerMicros;
}

std::optional<SrtpProfile> profile_from_id(unsigned long id) {
  switch (id) {
    case static_cast<unsigned long>(SrtpProfile::kAeadAes128Gcm):
      return SrtpProfile::kAeadAes128Gcm;
    case static_cast<unsigned long>(SrtpProfile::kAes128CmHmacSha1_80):
      return SrtpProfile::kAes128CmHmacSha1_80;
    default:
      return std::nullopt;
  }
}

}  // namespace

Result<std::unique_ptr<DtlsTransport>> DtlsTransport::create(DtlsConfig config) {
  if (!config.certificate) {
    return make_error("DTLS: no certificate");
  }
  if (config.srtp_profiles.empty()) {
    return make_error("DTLS: no SRTP profile to offer");
  }
  std::unique_ptr<DtlsTransport> transport(new DtlsTransport(std::move(config)));
  if (Status status = transport->init(); !status) {
    return status.error();
  }
  return transport;
}

DtlsTransport::DtlsTransport(DtlsConfig config) : config_(std::move(config)) {}

DtlsTransport::~DtlsTransport() {
  SSL_free(ssl_);  // also frees the BIO; the context goes with the last session holding it
}

Status DtlsTransport::init() {
  if (!bio_method_.ok()) {
    return make_error("DTLS: OpenSSL BIO method: " + openssl_errors());
  }
  if (config_.context) {
    context_ = config_.context;
  } else {
    auto made = DtlsContext::create(config_.certificate, config_.srtp_profiles);
    if (!made) {
      return made.error();
    }
    context_ = std::move(*made);
  }
  ssl_ = SSL_new(context_->get());
  BIO* bio = bio_method_.make_bio(&channel_);
  if (ssl_ == nullptr || bio == nullptr) {
    BIO_free(bio);
    return make_error("DTLS: OpenSSL session: " + openssl_errors());
  }
  SSL_set_app_data(ssl_, this);  // for verify_certificate: the context may be shared
  SSL_set_bio(ssl_, bio, bio);   // the same BIO both ways; SSL_set_bio takes the one reference
  SSL_set_mtu(ssl_, static_cast<long>(config_.mtu));
  DTLS_set_link_mtu(ssl_, static_cast<long>(config_.mtu));
  DTLS_set_timer_cb(ssl_, far_away_timer);
  if (config_.role == DtlsRole::kClient) {
    SSL_set_connect_state(ssl_);
  } else {
    SSL_set_accept_state(ssl_);
  }
  return Ok{};
}

bool DtlsTransport::looks_like_dtls(ByteSpan datagram) {
  constexpr std::size_t kRecordHeaderSize = 13;
  return datagram.size() >= kRecordHeaderSize && datagram[0] >= 20 && datagram[0] <= 63;
}

void DtlsTransport::start(Instant now) {
  if (state_ != DtlsState::kNew) {
    return;
  }
  state_ = DtlsState::kConnecting;
  if (config_.role == DtlsRole::kClient) {
    drive_handshake(now);
  }
}

void DtlsTransport::handle_packet(Instant now, ByteSpan datagram) {
  ++stats_.datagrams_received;
  const bool open = state_ == DtlsState::kConnecting || state_ == DtlsState::kConnected ||
                    (state_ == DtlsState::kNew && config_.role == DtlsRole::kServer);
  if (!open || !looks_like_dtls(datagram)) {
    ++stats_.datagrams_dropped;
    return;
  }
  if (state_ == DtlsState::kNew) {
    state_ = DtlsState::kConnecting;
  }
  if (ssl_ == nullptr) {
    read_retired(datagram);
    return;
  }
  channel_.inbound = datagram;
  if (state_ == DtlsState::kConnecting) {
    drive_handshake(now);
  } else {
    read_records();
  }
  channel_.inbound = {};
}

void DtlsTransport::drive_handshake(Instant now) {
  ERR_clear_error();
  const int result = SSL_do_handshake(ssl_);
  const bool sent_flight = !channel_.outbound.empty();
  collect_output();
  if (result == 1) {
    on_handshake_done();
    return;
  }
  if (SSL_get_error(ssl_, result) == SSL_ERROR_WANT_READ) {
    update_retransmit_timer(now, sent_flight);
    return;
  }
  // Always drain the thread's error queue so nothing stale is left for other OpenSSL users.
  const std::string errors = openssl_errors();
  fail(fingerprint_mismatch_ ? "remote certificate does not match the SDP fingerprint"
                             : "handshake failed: " + errors);
}

// After the handshake the only records we expect are alerts (close_notify) and, from a peer
// whose last flight we have not acknowledged, a repeated Finished (OpenSSL re-sends ours).
// DTLS application data is not used by WebRTC media and is ignored.
void DtlsTransport::read_records() {
  // The record buffers were released while idle (release_record_buffers); reading sets up its
  // own, but a reply written from inside SSL_read (a re-sent flight, an alert) needs the write
  // buffer too.
  SSL_alloc_buffers(ssl_);
  std::uint8_t buffer[2048];
  for (;;) {
    ERR_clear_error();
    const int result = SSL_read(ssl_, buffer, sizeof buffer);
    if (result > 0) {
      ++stats_.application_data_ignored;
      continue;
    }
    const int error = SSL_get_error(ssl_, result);
    collect_output();
    if (error == SSL_ERROR_WANT_READ) {
      release_record_buffers();
      return;
    }
    if (error == SSL_ERROR_ZERO_RETURN) {
      state_ = DtlsState::kClosed;
      events_.push_back(DtlsClosed{});
      return;
    }
    fail("connection failed: " + openssl_errors());
    return;
  }
}

// A retired session reads no record; see "Retiring" in the header for why an alert is a close.
void DtlsTransport::read_retired(ByteSpan datagram) {
  constexpr std::uint8_t kAlertContentType = 21;  // RFC 6347 §4.1, RFC 5246 §6.2.1
  if (datagram[0] != kAlertContentType) {
    ++stats_.dropped_after_retire;
    return;
  }
  state_ = DtlsState::kClosed;
  farewell_.clear();
  events_.push_back(DtlsClosed{});
}

void DtlsTransport::retire() {
  if (state_ != DtlsState::kConnected || ssl_ == nullptr) {
    return;
  }
  ERR_clear_error();
  SSL_alloc_buffers(ssl_);  // as in close(): the alert write needs the released buffer back
  SSL_shutdown(ssl_);       // writes close_notify into the channel: kept, not sent
  ERR_clear_error();
  farewell_ = pack_records(channel_.outbound, config_.mtu);
  SSL_free(ssl_);  // and the BIO with it
  ssl_ = nullptr;
}

void DtlsTransport::on_handshake_done() {
  // The verify callback already compared the fingerprint; check again so that no path (session
  // resumption, a callback not being called) can ever yield keys for an unchecked peer.
  X509* peer = SSL_get0_peer_certificate(ssl_);
  if (peer == nullptr || verify_peer(peer) != 1) {
    fail("remote certificate does not match the SDP fingerprint");
    return;
  }
  const SRTP_PROTECTION_PROFILE* selected = SSL_get_selected_srtp_profile(ssl_);
  const auto profile = selected != nullptr ? profile_from_id(selected->id) : std::nullopt;
  if (!profile) {
    fail("peer negotiated no supported SRTP profile (use_srtp)");
    return;
  }
  Bytes material(dtls_srtp_material_length(*profile));
  if (SSL_export_keying_material(ssl_, material.data(), material.size(),
                                 kDtlsSrtpExporterLabel.data(), kDtlsSrtpExporterLabel.size(),
                                 nullptr, 0, 0) != 1) {
    fail("SRTP key export failed: " + openssl_errors());
    return;
  }
  auto keys = split_dtls_srtp_material(*profile, config_.role, material);
  OPENSSL_cleanse(material.data(), material.size());
  if (!keys) {
    fail(keys.error().message);
    return;
  }
  state_ = DtlsState::kConnected;
  retransmit_at_.reset();
  release_record_buffers();
  events_.push_back(DtlsConnected{std::move(*keys)});
}

// After the handshake a session's DTLS carries nothing but the odd alert or repeated Finished,
// so its record buffers (~33 KB: one read, one write) are given back whenever they are empty and
// OpenSSL allocates them again on demand. SSL_MODE_RELEASE_BUFFERS does not do this for DTLS in
// OpenSSL 3.0 (measured: bench/egress_memory_bench.cpp); there is one session per egress stage.
void DtlsTransport::release_record_buffers() {
  SSL_free_buffers(ssl_);  // refuses (returns 0) while a record is pending: nothing lost
}

void DtlsTransport::handle_timeout(Instant now) {
  if (state_ != DtlsState::kConnecting || !retransmit_at_ || now < *retransmit_at_) {
    return;
  }
  if (!openssl_timer_running()) {
    retransmit_at_.reset();
    return;
  }
  if (retransmissions_in_flight_ >= config_.max_retransmissions) {
    fail("handshake timed out after " + std::to_string(retransmissions_in_flight_) +
         " retransmissions");
    return;
  }
  // A deadline one microsecond after the epoch reads as "running and expired" to OpenSSL.
  channel_.openssl_deadline->tv_sec = 0;
  channel_.openssl_deadline->tv_usec = 1;
  ERR_clear_error();
  const int result = DTLSv1_handle_timeout(ssl_);
  collect_output();
  if (result < 0) {
    fail("retransmission failed: " + openssl_errors());
    return;
  }
  ++retransmissions_in_flight_;
  ++stats_.retransmissions;
  retransmit_timeout_ = std::min(retransmit_timeout_ * 2, config_.max_retransmit_timeout);
  retransmit_at_ = now + retransmit_timeout_;
}

void DtlsTransport::close(Instant) {
  if (state_ != DtlsState::kConnecting && state_ != DtlsState::kConnected) {
    return;
  }
  if (ssl_ == nullptr) {  // retired: the close_notify was written then
    for (Bytes& datagram : farewell_) {
      transmits_.push_back(std::move(datagram));
      ++stats_.datagrams_sent;
    }
    farewell_.clear();
    state_ = DtlsState::kClosed;
    return;
  }
  ERR_clear_error();
  // A DTLS alert write does not set up a released write buffer itself (OpenSSL 3.0: it crashed).
  SSL_alloc_buffers(ssl_);
  SSL_shutdown(ssl_);  // queues close_notify; during a handshake OpenSSL sends nothing
  ERR_clear_error();
  collect_output();
  state_ = DtlsState::kClosed;
  retransmit_at_.reset();
}

std::optional<Bytes> DtlsTransport::poll_transmit() {
  if (transmits_.empty()) {
    return std::nullopt;
  }
  Bytes datagram = std::move(transmits_.front());
  transmits_.pop_front();
  return datagram;
}

std::optional<DtlsEvent> DtlsTransport::poll_event() {
  if (events_.empty()) {
    return std::nullopt;
  }
  DtlsEvent event = std::move(events_.front());
  events_.pop_front();
  return event;
}

std::optional<Instant> DtlsTransport::poll_timeout() const {
  return state_ == DtlsState::kConnecting ? retransmit_at_ : std::nullopt;
}

void DtlsTransport::fail(std::string reason) {
  state_ = DtlsState::kFailed;
  retransmit_at_.reset();
  events_.push_back(DtlsFailed{std::move(reason)});
}

void DtlsTransport::collect_output() {
  for (Bytes& datagram : pack_records(channel_.outbound, config_.mtu)) {
    transmits_.push_back(std::move(datagram));
    ++stats_.datagrams_sent;
  }
}

// A new flight restarts the schedule at the initial timeout; no outstanding flight, no timer.
void DtlsTransport::update_retransmit_timer(Instant now, bool sent_flight) {
  if (!openssl_timer_running()) {
    retransmit_at_.reset();
    return;
  }
  if (sent_flight || !retransmit_at_) {
    retransmit_timeout_ = config_.initial_retransmit_timeout;
    retransmissions_in_flight_ = 0;
    retransmit_at_ = now + retransmit_timeout_;
  }
}

bool DtlsTransport::openssl_timer_running() const {
  const struct timeval* deadline = channel_.openssl_deadline;
  return deadline != nullptr && (deadline->tv_sec != 0 || deadline->tv_usec != 0);
}

int DtlsTransport::verify_peer(X509* certificate) {
  auto actual = fingerprint_of(certificate, config_.remote_fingerprint.algorithm);
  if (!actual || actual->digest != config_.remote_fingerprint.digest) {
    fingerprint_mismatch_ = true;
    return 0;
  }
  return 1;
}

int DtlsTransport::verify_certificate(X509_STORE_CTX* store, void* /*unused*/) {
  auto* ssl =
      static_cast<SSL*>(X509_STORE_CTX_get_ex_data(store, SSL_get_ex_data_X509_STORE_CTX_idx()));
  auto* transport = ssl == nullptr ? nullptr : static_cast<DtlsTransport*>(SSL_get_app_data(ssl));
  const int ok = transport == nullptr ? 0 : transport->verify_peer(X509_STORE_CTX_get0_cert(store));
  if (ok != 1) {
    X509_STORE_CTX_set_error(store, X509_V_ERR_CERT_REJECTED);
  }
  return ok;
}

}  // namespace ivs::engine
