// The DTLS identity of the WHIP egress sessions (RFC 5763 §5): one self-signed certificate and
// one shared OpenSSL context (engine/dtls_context.hpp) for all of them, renewed once a day.
//
// Why shared and why renewed: a certificate and a context per session cost a P-256 key
// generation (~1 ms) and ~14 KiB of memory per stage; a stage only checks the fingerprint in our
// SDP, so every session may present the same certificate. The certificate is valid for 30 days,
// and a long-running server republishes each stage every 23 h, so a certificate older than a day
// is replaced for the sessions that start after that; sessions keep the identity they started
// with (shared_ptr).
#pragma once

#include <memory>
#include <optional>

#include "engine/dtls_certificate.hpp"
#include "engine/dtls_context.hpp"
#include "proto/time.hpp"

namespace ivs::app {

class EgressIdentity {
 public:
  struct Current {
    std::shared_ptr<const engine::DtlsCertificate> certificate;  // null: generation failed
    std::shared_ptr<const engine::DtlsContext> context;          // null: a private one per session
  };

  // The identity for a session starting at `now` (wall clock). Logs and returns a null
  // certificate when OpenSSL cannot generate one; the session then fails with a reason.
  Current current(WallTime now);

 private:
  Current current_;
  std::optional<WallTime> made_at_;
};

}  // namespace ivs::app
