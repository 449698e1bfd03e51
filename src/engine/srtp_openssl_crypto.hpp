// The cryptographic primitives of the OpenSSL SRTP backend: AES-128 counter mode and the
// RFC 3711 §4.3 key derivation (§4.1.1, §4.3.1, §4.3.3), HMAC-SHA1 (§4.2.1) and AES-128-GCM
// (RFC 7714 §7).
//
// Every object is keyed once, when the session is created, and reused for every packet: per
// packet only an IV is set, so protecting a packet allocates nothing. OpenSSL 3.0's EVP_MAC and
// EVP_MD_CTX_copy_ex both allocate a fresh digest state on every re-initialisation, so HMAC is
// built here from two SHA-1 states (inner and outer pad) precomputed at keying time and copied by
// value per packet; that uses OpenSSL's low-level SHA1_* functions, deprecated in 3.0 but
// present and backed by the same SHA-NI/AVX2 assembly as EVP.
//
// Private to the engine: srtp_openssl*.cpp and the tests use it, nothing else.
#pragma once

#include <openssl/sha.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>

#include "proto/bytes.hpp"

struct evp_cipher_ctx_st;

namespace ivs::engine::srtp_detail {

struct CipherContextDeleter {
  void operator()(evp_cipher_ctx_st* context) const;
};
using CipherContext = std::unique_ptr<evp_cipher_ctx_st, CipherContextDeleter>;

// AES-128 in counter mode (RFC 3711 §4.1.1): the 16-byte IV is the initial counter block.
class AesCtr {
 public:
  bool init(ByteSpan key);
  // XORs the keystream starting at counter `iv` into data[0, size).
  bool apply(const std::uint8_t* iv, std::uint8_t* data, std::size_t size);

 private:
  CipherContext context_;
};

// HMAC-SHA1 (RFC 2104) with a key fixed at init; the tag over the concatenation of two spans.
class HmacSha1 {
 public:
  HmacSha1() = default;
  ~HmacSha1();
  HmacSha1(const HmacSha1&) = delete;
  HmacSha1& operator=(const HmacSha1&) = delete;

  void init(ByteSpan key);
  void compute(ByteSpan first, ByteSpan second, std::uint8_t* out20) const;

 private:
  SHA_CTX inner_{};
  SHA_CTX outer_{};
};

// AES-128-GCM with a 12-byte IV and a 16-byte tag (RFC 7714 §7, §14.2). Additional data may be
// given in two pieces because SRTCP authenticates the header and the trailing E||index, which
// are not contiguous.
class AesGcm {
 public:
  bool init(ByteSpan key);
  // Encrypts data in place and writes the tag.
  bool seal(const std::uint8_t* iv, ByteSpan aad1, ByteSpan aad2, std::uint8_t* data,
            std::size_t size, std::uint8_t* tag16);
  // Decrypts data in place; false if the tag does not verify (the data is then garbage).
  bool open(const std::uint8_t* iv, ByteSpan aad1, ByteSpan aad2, std::uint8_t* data,
            std::size_t size, const std::uint8_t* tag16);

 private:
  CipherContext encrypt_;
  CipherContext decrypt_;
};

// The RFC 3711 §4.3.1 key derivation with key_derivation_rate 0 and the §4.3.3 AES-CM PRF:
// x = (label || 0^48) XOR master_salt, output = AES-CM(master_key, IV = x || 0x0000). A 96-bit
// (GCM, RFC 7714 §11) master salt is treated as a 112-bit one padded with zeros on the right,
// which is what libsrtp does.
namespace srtp_label {
inline constexpr std::uint8_t kRtpEncryption = 0x00;
inline constexpr std::uint8_t kRtpAuthentication = 0x01;
inline constexpr std::uint8_t kRtpSalt = 0x02;
inline constexpr std::uint8_t kRtcpEncryption = 0x03;
inline constexpr std::uint8_t kRtcpAuthentication = 0x04;
inline constexpr std::uint8_t kRtcpSalt = 0x05;
}  // namespace srtp_label

bool derive_session_key(ByteSpan master_key, ByteSpan master_salt, std::uint8_t label,
                        std::uint8_t* out, std::size_t length);

// Wipes key material (OPENSSL_cleanse, which the compiler cannot elide).
void wipe(void* data, std::size_t size);

}  // namespace ivs::engine::srtp_detail
