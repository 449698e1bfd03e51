#include "engine/dtls_context.hpp"

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "engine/dtls_transport.hpp"

namespace ivs::engine {
namespace {

// ECDHE only (forward secrecy), AEAD first; RSA suites so we can talk to a peer with an RSA
// certificate when we are the client.
constexpr char kCipherList[] =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305:"
    "ECDHE-ECDSA-AES128-SHA:ECDHE-RSA-AES128-SHA:ECDHE-ECDSA-AES256-SHA:ECDHE-RSA-AES256-SHA";

std::string profile_list(const std::vector<SrtpProfile>& profiles) {
  std::string list;
  for (SrtpProfile profile : profiles) {
    list += list.empty() ? "" : ":";
    list += to_string(profile);
  }
  return list;
}

}  // namespace

// Drains this thread's OpenSSL error queue into one line.
std::string openssl_errors() {
  std::string text;
  char buffer[256];
  while (const unsigned long code = ERR_get_error()) {
    ERR_error_string_n(code, buffer, sizeof buffer);
    text += text.empty() ? "" : "; ";
    text += buffer;
  }
  return text.empty() ? "no OpenSSL error recorded" : text;
}

Result<std::shared_ptr<const DtlsContext>> DtlsContext::create(
    std::shared_ptr<const DtlsCertificate> certificate, const std::vector<SrtpProfile>& profiles) {
  if (!certificate) {
    return make_error("DTLS: no certificate");
  }
  if (profiles.empty()) {
    return make_error("DTLS: no SRTP profile to offer");
  }
  SSL_CTX* context = SSL_CTX_new(DTLS_method());
  if (context == nullptr) {
    return make_error("DTLS: OpenSSL context: " + openssl_errors());
  }
  SSL_CTX_set_min_proto_version(context, DTLS1_2_VERSION);
  SSL_CTX_set_max_proto_version(context, DTLS1_2_VERSION);
  SSL_CTX_set_options(context, SSL_OP_NO_QUERY_MTU | SSL_OP_NO_TICKET);
  const std::string list = profile_list(profiles);
  if (SSL_CTX_use_certificate(context, certificate->x509()) != 1 ||
      SSL_CTX_use_PrivateKey(context, certificate->private_key()) != 1 ||
      SSL_CTX_set_cipher_list(context, kCipherList) != 1 ||
      SSL_CTX_set_tlsext_use_srtp(context, list.c_str()) != 0) {  // 0 means success here
    const std::string errors = openssl_errors();
    SSL_CTX_free(context);
    return make_error("DTLS: configuring OpenSSL: " + errors);
  }
  // Ask for and require the peer's certificate; the callback replaces chain verification with
  // the fingerprint comparison of the session's transport (self-signed certificates have no
  // chain to verify).
  SSL_CTX_set_verify(context, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
  SSL_CTX_set_cert_verify_callback(context, &DtlsTransport::verify_certificate, nullptr);
  return std::shared_ptr<const DtlsContext>(
      new DtlsContext(std::move(certificate), profiles, context));
}

DtlsContext::DtlsContext(std::shared_ptr<const DtlsCertificate> certificate,
                         std::vector<SrtpProfile> profiles, SSL_CTX* context)
    : certificate_(std::move(certificate)), profiles_(std::move(profiles)), context_(context) {}

DtlsContext::~DtlsContext() {
  SSL_CTX_free(context_);
}

}  // namespace ivs::engine
