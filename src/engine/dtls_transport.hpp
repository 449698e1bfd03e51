// DTLS 1.2 (RFC 6347) for DTLS-SRTP (RFC 5764, RFC 5763), sans-I/O over OpenSSL.
//
// Shape (transmit.hpp): handle_packet(now, bytes), handle_timeout(now), poll_transmit(),
// poll_event(), poll_timeout(). After any input, drain poll_transmit() and poll_event(), then
// re-arm the timer from poll_timeout(). The transport never calls back into its owner.
//
// Roles (RFC 5763 §5): `a=setup:active` is the DTLS client, `passive` the DTLS server. Our WHIP
// client offers `actpass` and is normally told `passive` by the answer, so it is the client; our
// server roles answer `passive` and are the server.
//
//   kNew --start()--> kConnecting --handshake done, fingerprint ok, keys--> kConnected
//                        |  fingerprint mismatch / fatal alert / retransmissions exhausted
//                        v                                     | close_notify either way
//                     kFailed                                  v
//                                                           kClosed
//
// Authentication: the peer's certificate is accepted only if its digest equals the SDP
// fingerprint (RFC 8122 §5); it is checked while OpenSSL verifies the certificate, so a mismatch
// aborts the handshake (bad_certificate alert) and yields Failed with no keys.
//
// SRTP profile (use_srtp, RFC 5764 §4.1.1): we offer/accept SRTP_AEAD_AES_128_GCM first, then
// SRTP_AES128_CM_SHA1_80. Keys: see dtls_srtp_keys.hpp.
//
// Retransmission (RFC 6347 §4.2.4): the schedule lives here, on the injected clock: a flight
// is re-sent after 1 s, then 2, 4, 8, 8, ... (cap configurable) and after max_retransmissions the
// handshake fails. OpenSSL still produces the re-sent records (they need fresh record sequence
// numbers, and the last flight's Finished must be re-encrypted), but OpenSSL decides "timer
// expired" by reading the real clock. So the DTLS timer callback makes OpenSSL's own deadline
// an hour away (it never fires by itself, and reads never retransmit spontaneously), and when the
// engine's timer fires we move OpenSSL's deadline into the past through the pointer the BIO
// captured (dtls_bio.hpp) and call DTLSv1_handle_timeout. Making the OpenSSL timer always-expired
// instead (a 1 µs callback) does not work: OpenSSL checks the timer at the top of every read and
// loops retransmitting until its 12-timeout limit kills the handshake on the first call.
// The trick depends on OpenSSL 3.0/3.1 internals (struct timeval deadline); the .cpp refuses to
// compile against 3.2+, where that pointer is to a temporary.
//
// Retiring (after the handshake): once the peer has proven it holds the SRTP keys (PeerSession
// calls retire() on its first authenticated SRTP or SRTCP packet), it has our last flight and
// will never ask for any of the handshake again. retire() then frees OpenSSL's session, ~38 KiB
// that OpenSSL keeps for the life of a DTLS connection (the handshake buffer, the peer's
// certificate, the SSL itself; docs/egress-memory.md), after writing the close_notify it would
// send at close() and keeping those few bytes. From then on the records that can still arrive are
// alerts, which after the handshake only ever end the association (close_notify or a fatal
// error): without the keys to read one, an alert record's plaintext content type is taken as the
// peer's close. Anything else is dropped and counted. State stays kConnected until close().
//
// MTU: records are at most `mtu` bytes and whole records are packed into datagrams of at most
// `mtu` bytes (default 1200: fits loopback and the internet with room for IP/UDP headers).
#pragma once

#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "engine/dtls_bio.hpp"
#include "engine/dtls_certificate.hpp"
#include "engine/dtls_context.hpp"
#include "engine/dtls_srtp_keys.hpp"
#include "proto/bytes.hpp"
#include "proto/result.hpp"
#include "proto/time.hpp"

namespace ivs::engine {

struct DtlsConfig {
  DtlsRole role = DtlsRole::kClient;
  std::shared_ptr<const DtlsCertificate> certificate;
  // A context shared with other sessions (made from `certificate` and `srtp_profiles`); null:
  // the transport makes a private one.
  std::shared_ptr<const DtlsContext> context;
  DtlsFingerprint remote_fingerprint;  // from the peer's SDP a=fingerprint
  // Offered (client) or accepted (server) profiles, most preferred first.
  std::vector<SrtpProfile> srtp_profiles = {SrtpProfile::kAeadAes128Gcm,
                                            SrtpProfile::kAes128CmHmacSha1_80};
  std::size_t mtu = 1200;
  Duration initial_retransmit_timeout = seconds(1);
  Duration max_retransmit_timeout = seconds(8);
  int max_retransmissions = 6;
};

struct DtlsConnected {
  DtlsSrtpKeys keys;
};
struct DtlsFailed {
  std::string reason;
};
struct DtlsClosed {};
using DtlsEvent = std::variant<DtlsConnected, DtlsFailed, DtlsClosed>;

enum class DtlsState : std::uint8_t { kNew, kConnecting, kConnected, kFailed, kClosed };

struct DtlsStats {
  std::uint64_t datagrams_received = 0;
  std::uint64_t datagrams_dropped = 0;  // not DTLS (RFC 7983 demux), or arrived when closed
  std::uint64_t datagrams_sent = 0;
  std::uint64_t retransmissions = 0;  // engine-timer retransmissions of a flight
  std::uint64_t application_data_ignored = 0;
  std::uint64_t dropped_after_retire = 0;  // non-alert records once the session was retired
};

class DtlsTransport {
 public:
  static Result<std::unique_ptr<DtlsTransport>> create(DtlsConfig config);
  ~DtlsTransport();
  DtlsTransport(const DtlsTransport&) = delete;
  DtlsTransport& operator=(const DtlsTransport&) = delete;

  // Client: sends the ClientHello. Server: starts waiting for one (a server also starts on the
  // first datagram if start() was not called).
  void start(Instant now);
  void handle_packet(Instant now, ByteSpan datagram);
  void handle_timeout(Instant now);
  // Sends close_notify (RFC 5246 §7.2.1) and stops; no event is raised for a local close.
  void close(Instant now);
  // Frees OpenSSL's session once the peer has proven it has the keys (see "Retiring" above).
  // Only when connected; idempotent.
  void retire();
  bool retired() const { return ssl_ == nullptr && state_ == DtlsState::kConnected; }

  std::optional<Bytes> poll_transmit();
  std::optional<DtlsEvent> poll_event();
  std::optional<Instant> poll_timeout() const;

  DtlsState state() const { return state_; }
  DtlsRole role() const { return config_.role; }
  const DtlsStats& stats() const { return stats_; }

  // RFC 7983 §7: a datagram whose first byte is 20..63 is DTLS.
  static bool looks_like_dtls(ByteSpan datagram);

  // OpenSSL's certificate verification callback, installed by DtlsContext: compares the peer's
  // certificate with the fingerprint of the transport that owns the SSL (its app data).
  static int verify_certificate(X509_STORE_CTX* store, void* unused);

 private:
  explicit DtlsTransport(DtlsConfig config);
  Status init();
  void drive_handshake(Instant now);
  void read_records();
  void read_retired(ByteSpan datagram);
  void release_record_buffers();
  void on_handshake_done();
  void fail(std::string reason);
  void collect_output();
  void update_retransmit_timer(Instant now, bool sent_flight);
  bool openssl_timer_running() const;
  int verify_peer(X509* certificate);

  DtlsConfig config_;
  DtlsBioMethod bio_method_;
  DtlsBioChannel channel_;
  std::shared_ptr<const DtlsContext> context_;
  SSL* ssl_ = nullptr;
  DtlsState state_ = DtlsState::kNew;
  bool fingerprint_mismatch_ = false;
  std::optional<Instant> retransmit_at_;
  Duration retransmit_timeout_{};
  int retransmissions_in_flight_ = 0;
  std::deque<Bytes> transmits_;
  std::vector<Bytes> farewell_;  // the close_notify written at retire(), sent at close()
  std::deque<DtlsEvent> events_;
  DtlsStats stats_;
};

}  // namespace ivs::engine
