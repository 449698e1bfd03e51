// A self-signed certificate made at test time (OpenSSL 3), so TLS tests need no checked-in keys
// and no network: the server uses it, and a client trusts it only when the test says so.
#pragma once

#include <memory>
#include <stdexcept>
#include <string>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <boost/asio/ssl/context.hpp>

namespace ivs::io::testing {

struct TestCertificate {
  std::string certificate_pem;
  std::string private_key_pem;
};

inline std::string bio_text(BIO* bio) {
  char* data = nullptr;
  const long size = BIO_get_mem_data(bio, &data);
  return std::string(data, static_cast<std::size_t>(size));
}

inline void add_extension(X509* certificate, int nid, const char* value) {
  X509V3_CTX context;
  X509V3_set_ctx_nodb(&context);
  X509V3_set_ctx(&context, certificate, certificate, nullptr, nullptr, 0);
  X509_EXTENSION* extension = X509V3_EXT_conf_nid(nullptr, &context, nid, value);
  if (extension == nullptr) {
    throw std::runtime_error("X509V3_EXT_conf_nid failed");
  }
  X509_add_ext(certificate, extension, -1);
  X509_EXTENSION_free(extension);
}

// `subject_alt_names` in OpenSSL syntax, e.g. "DNS:localhost,IP:127.0.0.1".
inline TestCertificate make_self_signed_certificate(const std::string& subject_alt_names) {
  EVP_PKEY* key = EVP_EC_gen("P-256");
  X509* certificate = X509_new();
  X509_set_version(certificate, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(certificate), 1);
  X509_gmtime_adj(X509_getm_notBefore(certificate), -3600);
  X509_gmtime_adj(X509_getm_notAfter(certificate), 24 * 3600);
  X509_set_pubkey(certificate, key);
  X509_NAME* name = X509_get_subject_name(certificate);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("ivs test"), -1, -1, 0);
  X509_set_issuer_name(certificate, name);
  add_extension(certificate, NID_basic_constraints, "critical,CA:TRUE");
  add_extension(certificate, NID_key_usage, "critical,digitalSignature,keyCertSign");
  add_extension(certificate, NID_subject_alt_name, subject_alt_names.c_str());
  X509_sign(certificate, key, EVP_sha256());

  TestCertificate result;
  BIO* cert_bio = BIO_new(BIO_s_mem());
  PEM_write_bio_X509(cert_bio, certificate);
  result.certificate_pem = bio_text(cert_bio);
  BIO_free(cert_bio);
  BIO* key_bio = BIO_new(BIO_s_mem());
  PEM_write_bio_PrivateKey(key_bio, key, nullptr, nullptr, 0, nullptr, nullptr);
  result.private_key_pem = bio_text(key_bio);
  BIO_free(key_bio);
  X509_free(certificate);
  EVP_PKEY_free(key);
  return result;
}

inline std::shared_ptr<boost::asio::ssl::context> make_server_tls_context(
    const TestCertificate& certificate) {
  auto context = std::make_shared<boost::asio::ssl::context>(boost::asio::ssl::context::tls_server);
  context->use_certificate_chain(boost::asio::buffer(certificate.certificate_pem));
  context->use_private_key(boost::asio::buffer(certificate.private_key_pem),
                           boost::asio::ssl::context::pem);
  return context;
}

// A client context that trusts exactly `certificate` (and not the system store).
inline std::shared_ptr<boost::asio::ssl::context> make_client_tls_context_trusting(
    const TestCertificate& certificate) {
  auto context = std::make_shared<boost::asio::ssl::context>(boost::asio::ssl::context::tls_client);
  context->add_certificate_authority(boost::asio::buffer(certificate.certificate_pem));
  context->set_verify_mode(boost::asio::ssl::verify_peer);
  return context;
}

}  // namespace ivs::io::testing
