#include "io/tls_server_context.hpp"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <boost/asio/ssl/context.hpp>

#include <fstream>

namespace ivs::io {
namespace {

namespace ssl = boost::asio::ssl;

// The first queued OpenSSL error as text ("no start line", "key values mismatch"), or `fallback`.
std::string openssl_reason(const boost::system::error_code& error) {
  std::string reason = error ? error.message() : std::string();
  const unsigned long queued = ERR_get_error();
  if (queued != 0) {
    const char* text = ERR_reason_error_string(queued);
    if (text != nullptr) {
      reason = text;
    }
  }
  ERR_clear_error();
  return reason.empty() ? "unknown OpenSSL error" : reason;
}

bool readable(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  return file.good();
}

std::string asn1_time_text(const ASN1_TIME* time) {
  BIO* bio = BIO_new(BIO_s_mem());
  if (bio == nullptr) {
    return "?";
  }
  std::string text = "?";
  if (ASN1_TIME_print_ex(bio, time, ASN1_DTFLGS_ISO8601) == 1) {
    char* data = nullptr;
    const long size = BIO_get_mem_data(bio, &data);
    text.assign(data, static_cast<std::size_t>(size));
  }
  BIO_free(bio);
  return text;
}

}  // namespace

Result<std::shared_ptr<ssl::context>> load_server_tls_context(
    const std::string& certificate_chain_file, const std::string& private_key_file) {
  for (const std::string* path : {&certificate_chain_file, &private_key_file}) {
    if (!readable(*path)) {
      return make_error("cannot read '" + *path + "' (missing, or no permission)");
    }
  }
  auto context = std::make_shared<ssl::context>(ssl::context::tls_server);
  // TLS 1.2 and 1.3 only; OBS (libcurl), browsers and every HTTP client of the last decade speak
  // them, and the older versions have known attacks (RFC 8996 deprecates 1.0 and 1.1).
  SSL_CTX_set_min_proto_version(context->native_handle(), TLS1_2_VERSION);
  context->set_options(ssl::context::default_workarounds | ssl::context::single_dh_use |
                       ssl::context::no_compression);
  boost::system::error_code error;
  context->use_certificate_chain_file(certificate_chain_file, error);
  if (error) {
    return make_error("'" + certificate_chain_file +
                      "' is not a PEM certificate chain: " + openssl_reason(error));
  }
  // OpenSSL checks the key against the certificate while loading it ("key values mismatch").
  context->use_private_key_file(private_key_file, ssl::context::pem, error);
  const std::string reason = error ? openssl_reason(error) : std::string();
  if (reason.find("mismatch") != std::string::npos ||
      (!error && SSL_CTX_check_private_key(context->native_handle()) != 1)) {
    return make_error("the key in '" + private_key_file + "' does not match the certificate in '" +
                      certificate_chain_file + "'");
  }
  if (error) {
    return make_error("'" + private_key_file +
                      "' is not an unencrypted PEM private key: " + reason);
  }
  return context;
}

std::string describe_server_certificate(ssl::context& context) {
  X509* certificate = SSL_CTX_get0_certificate(context.native_handle());
  if (certificate == nullptr) {
    return "no certificate";
  }
  char subject[256] = {};
  X509_NAME_oneline(X509_get_subject_name(certificate), subject, sizeof subject);
  return std::string(subject) + ", valid until " + asn1_time_text(X509_get0_notAfter(certificate));
}

}  // namespace ivs::io
