// An OpenSSL DTLS 1.2 context for DTLS-SRTP (RFC 5764 §4.1: the use_srtp extension; RFC 8842
// §5: fingerprint-only authentication): our certificate and key, the cipher list, the SRTP
// profiles, and peer verification by fingerprint. Immutable once made, so many sessions, on
// any thread, share one (OpenSSL's SSL_CTX is reference-counted and safe to use from several
// threads once it is no longer configured).
//
// Why shared: a private SSL_CTX per session cost ~12 KiB each (docs/egress-memory.md), the
// largest single item of a WHIP egress session after the handshake. The verification callback
// therefore finds its transport through the SSL object (SSL_get_app_data), not the context.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <openssl/types.h>

#include "engine/dtls_certificate.hpp"
#include "engine/srtp_session.hpp"
#include "proto/result.hpp"

namespace ivs::engine {

// Drains this thread's OpenSSL error queue into one line, for error messages.
std::string openssl_errors();

class DtlsContext {
 public:
  // Offered (client) or accepted (server) profiles, most preferred first.
  static Result<std::shared_ptr<const DtlsContext>> create(
      std::shared_ptr<const DtlsCertificate> certificate, const std::vector<SrtpProfile>& profiles);

  DtlsContext(const DtlsContext&) = delete;
  DtlsContext& operator=(const DtlsContext&) = delete;
  ~DtlsContext();

  SSL_CTX* get() const { return context_; }
  const DtlsCertificate& certificate() const { return *certificate_; }
  const std::vector<SrtpProfile>& profiles() const { return profiles_; }

 private:
  DtlsContext(std::shared_ptr<const DtlsCertificate> certificate, std::vector<SrtpProfile> profiles,
              SSL_CTX* context);

  std::shared_ptr<const DtlsCertificate> certificate_;
  std::vector<SrtpProfile> profiles_;
  SSL_CTX* context_;
};

}  // namespace ivs::engine
