// DTLS identity for DTLS-SRTP (RFC 5763 §5, RFC 8122 §5): one self-signed ECDSA P-256
// certificate and key, generated once at start and shared (immutable, shared_ptr) by every
// session, and the SDP `a=fingerprint` form of its SHA-256 digest.
//
// Why self-signed and shared: WebRTC peers authenticate the certificate only by comparing its
// digest with the fingerprint carried in the signalled SDP, so a CA chain adds nothing, and one
// certificate for the whole process keeps session setup cheap (no key generation per session).
// P-256 is what browsers and IVS accept everywhere and keeps the Certificate message small enough
// for one 1200-byte datagram.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include <openssl/types.h>

#include "proto/bytes.hpp"
#include "proto/result.hpp"
#include "proto/time.hpp"

namespace ivs::engine {

// A certificate fingerprint as carried in SDP: `a=fingerprint:sha-256 AB:CD:...` (RFC 8122 §5).
struct DtlsFingerprint {
  std::string algorithm;  // lower case: "sha-256", "sha-1", "sha-384", "sha-512"
  Bytes digest;

  // Parses the attribute value "sha-256 AB:CD:..." (hash name case-insensitive, hex either case).
  static Result<DtlsFingerprint> parse(std::string_view sdp_value);
  // "sha-256 AB:CD:..." with upper-case hex, the form browsers emit.
  std::string to_sdp() const;

  friend bool operator==(const DtlsFingerprint&, const DtlsFingerprint&) = default;
};

// Digest of a DER certificate with the named SDP hash ("sha-256", ...).
Result<DtlsFingerprint> fingerprint_of(X509* certificate, std::string_view algorithm);

class DtlsCertificate {
 public:
  // Generates a fresh P-256 key and a self-signed certificate valid from a day before `now`
  // for 30 days. The wall time is an input so the engine never reads a clock.
  static Result<std::shared_ptr<const DtlsCertificate>> generate(WallTime now);

  DtlsCertificate(const DtlsCertificate&) = delete;
  DtlsCertificate& operator=(const DtlsCertificate&) = delete;
  ~DtlsCertificate();

  const DtlsFingerprint& fingerprint() const { return fingerprint_; }
  // "sha-256 AB:CD:..." for the SDP a=fingerprint attribute.
  std::string fingerprint_sdp() const { return fingerprint_.to_sdp(); }

  // For SSL_use_certificate / SSL_use_PrivateKey; OpenSSL takes its own references.
  X509* x509() const { return certificate_; }
  EVP_PKEY* private_key() const { return key_; }

 private:
  DtlsCertificate(X509* certificate, EVP_PKEY* key, DtlsFingerprint fingerprint);

  X509* certificate_;
  EVP_PKEY* key_;
  DtlsFingerprint fingerprint_;
};

}  // namespace ivs::engine
