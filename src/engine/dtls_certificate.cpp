#include "engine/dtls_certificate.hpp"

#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/x509.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <ctime>

namespace ivs::engine {
namespace {

constexpr std::int64_t kSecondsPerDay = 86400;

struct KeyFree {
  void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};
struct X509Free {
  void operator()(X509* certificate) const { X509_free(certificate); }
};
struct BigNumFree {
  void operator()(BIGNUM* number) const { BN_free(number); }
};

// Maps the SDP hash function names (RFC 8122 §5, IANA "Hash Function Textual Names") to
// OpenSSL digests. MD5 and MD2 are deliberately absent: RFC 8122 forbids them.
const EVP_MD* digest_for(std::string_view algorithm) {
  if (algorithm == "sha-256") {
    return EVP_sha256();
  }
  if (algorithm == "sha-1") {
    return EVP_sha1();
  }
  if (algorithm == "sha-384") {
    return EVP_sha384();
  }
  if (algorithm == "sha-512") {
    return EVP_sha512();
  }
  return nullptr;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') {
    return c - '0';
  }
  c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (c >= 'a' && c <= 'f') {
    return c - 'a' + 10;
  }
  return -1;
}

// A random positive 64-bit serial, so two runs never present the same issuer+serial.
bool set_random_serial(X509* certificate) {
  std::uint8_t serial_bytes[8];
  if (RAND_bytes(serial_bytes, sizeof serial_bytes) != 1) {
    return false;
  }
  serial_bytes[0] &= 0x7f;
  std::unique_ptr<BIGNUM, BigNumFree> serial(BN_bin2bn(serial_bytes, sizeof serial_bytes, nullptr));
  return serial && BN_to_ASN1_INTEGER(serial.get(), X509_get_serialNumber(certificate)) != nullptr;
}

bool fill_certificate(X509* certificate, EVP_PKEY* key, WallTime now) {
  const std::time_t now_seconds = static_cast<std::time_t>(now.unix_micros / 1000000);
  X509_NAME* name = X509_get_subject_name(certificate);
  const auto* common_name = reinterpret_cast<const unsigned char*>("ivs-media-server");
  return X509_set_version(certificate, 2) == 1 && set_random_serial(certificate) &&
         ASN1_TIME_set(X509_getm_notBefore(certificate), now_seconds - kSecondsPerDay) &&
         ASN1_TIME_set(X509_getm_notAfter(certificate), now_seconds + 30 * kSecondsPerDay) &&
         X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, common_name, -1, -1, 0) == 1 &&
         X509_set_issuer_name(certificate, name) == 1 && X509_set_pubkey(certificate, key) == 1 &&
         X509_sign(certificate, key, EVP_sha256()) > 0;
}

}  // namespace

Result<DtlsFingerprint> DtlsFingerprint::parse(std::string_view sdp_value) {
  const auto space = sdp_value.find(' ');
  if (space == std::string_view::npos) {
    return make_error("fingerprint: expected '<hash> <hex>', got '" + std::string(sdp_value) + "'");
  }
  DtlsFingerprint result;
  result.algorithm = std::string(sdp_value.substr(0, space));
  std::transform(result.algorithm.begin(), result.algorithm.end(), result.algorithm.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  const EVP_MD* digest = digest_for(result.algorithm);
  if (digest == nullptr) {
    return make_error("fingerprint: unsupported hash '" + result.algorithm + "'");
  }
  std::string_view hex = sdp_value.substr(space + 1);
  while (!hex.empty() && (hex.back() == ' ' || hex.back() == '\r' || hex.back() == '\n')) {
    hex.remove_suffix(1);
  }
  // Each byte is two hex digits; bytes are separated by single colons.
  for (std::size_t i = 0; i < hex.size(); i += 3) {
    const int high = hex_value(hex[i]);
    const int low = i + 1 < hex.size() ? hex_value(hex[i + 1]) : -1;
    const bool separator_ok = i + 2 == hex.size() || (i + 2 < hex.size() && hex[i + 2] == ':');
    if (high < 0 || low < 0 || !separator_ok) {
      return make_error("fingerprint: malformed hex at offset " + std::to_string(i));
    }
    result.digest.push_back(static_cast<std::uint8_t>(high * 16 + low));
  }
  if (result.digest.size() != static_cast<std::size_t>(EVP_MD_get_size(digest))) {
    return make_error("fingerprint: " + std::to_string(result.digest.size()) + " bytes for " +
                      result.algorithm);
  }
  return result;
}

std::string DtlsFingerprint::to_sdp() const {
  std::string text = algorithm;
  text += ' ';
  char byte_text[4];
  for (std::size_t i = 0; i < digest.size(); ++i) {
    std::snprintf(byte_text, sizeof byte_text, i == 0 ? "%02X" : ":%02X", digest[i]);
    text += byte_text;
  }
  return text;
}

Result<DtlsFingerprint> fingerprint_of(X509* certificate, std::string_view algorithm) {
  const EVP_MD* digest = digest_for(algorithm);
  if (digest == nullptr || certificate == nullptr) {
    return make_error("fingerprint: unsupported hash '" + std::string(algorithm) + "'");
  }
  unsigned char bytes[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (X509_digest(certificate, digest, bytes, &length) != 1) {
    return make_error("fingerprint: X509_digest failed");
  }
  return DtlsFingerprint{std::string(algorithm), Bytes(bytes, bytes + length)};
}

Result<std::shared_ptr<const DtlsCertificate>> DtlsCertificate::generate(WallTime now) {
  std::unique_ptr<EVP_PKEY, KeyFree> key(EVP_EC_gen("P-256"));
  if (!key) {
    return make_error("DTLS certificate: P-256 key generation failed");
  }
  std::unique_ptr<X509, X509Free> certificate(X509_new());
  if (!certificate || !fill_certificate(certificate.get(), key.get(), now)) {
    return make_error("DTLS certificate: building the self-signed certificate failed");
  }
  auto fingerprint = fingerprint_of(certificate.get(), "sha-256");
  if (!fingerprint) {
    return fingerprint.error();
  }
  return std::shared_ptr<const DtlsCertificate>(
      new DtlsCertificate(certificate.release(), key.release(), std::move(*fingerprint)));
}

DtlsCertificate::DtlsCertificate(X509* certificate, EVP_PKEY* key, DtlsFingerprint fingerprint)
    : certificate_(certificate), key_(key), fingerprint_(std::move(fingerprint)) {}

DtlsCertificate::~DtlsCertificate() {
  X509_free(certificate_);
  EVP_PKEY_free(key_);
}

}  // namespace ivs::engine
