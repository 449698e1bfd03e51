// See srtp_openssl_crypto.hpp. The low-level SHA1_* calls are deprecated in OpenSSL 3.0; the
// header explains why they are used anyway (no allocation per packet).
#define OPENSSL_SUPPRESS_DEPRECATED 1

#include "engine/srtp_openssl_crypto.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <algorithm>

namespace ivs::engine::srtp_detail {
namespace {

constexpr std::size_t kSha1BlockSize = 64;
constexpr std::size_t kGcmIvLength = 12;
constexpr std::size_t kGcmTagLength = 16;

CipherContext new_context(const EVP_CIPHER* cipher, const std::uint8_t* key, bool encrypt) {
  CipherContext context(EVP_CIPHER_CTX_new());
  if (!context ||
      EVP_CipherInit_ex(context.get(), cipher, nullptr, key, nullptr, encrypt ? 1 : 0) != 1) {
    return nullptr;
  }
  return context;
}

bool add_aad(EVP_CIPHER_CTX* context, ByteSpan aad) {
  int length = 0;
  return aad.empty() ||
         EVP_CipherUpdate(context, nullptr, &length, aad.data(), static_cast<int>(aad.size())) == 1;
}

}  // namespace

void CipherContextDeleter::operator()(evp_cipher_ctx_st* context) const {
  EVP_CIPHER_CTX_free(context);
}

void wipe(void* data, std::size_t size) {
  OPENSSL_cleanse(data, size);
}

bool AesCtr::init(ByteSpan key) {
  if (key.size() != 16) {
    return false;
  }
  context_ = new_context(EVP_aes_128_ctr(), key.data(), true);
  return context_ != nullptr;
}

bool AesCtr::apply(const std::uint8_t* iv, std::uint8_t* data, std::size_t size) {
  // Setting only the IV keeps the expanded key schedule in the context.
  if (EVP_EncryptInit_ex(context_.get(), nullptr, nullptr, nullptr, iv) != 1) {
    return false;
  }
  int length = 0;
  return size == 0 ||
         EVP_EncryptUpdate(context_.get(), data, &length, data, static_cast<int>(size)) == 1;
}

HmacSha1::~HmacSha1() {
  wipe(&inner_, sizeof inner_);
  wipe(&outer_, sizeof outer_);
}

void HmacSha1::init(ByteSpan key) {
  // RFC 2104: keys longer than the block are hashed first; SRTP's 20-byte keys never are.
  std::array<std::uint8_t, kSha1BlockSize> block{};
  if (key.size() > kSha1BlockSize) {
    SHA1(key.data(), key.size(), block.data());
  } else {
    std::copy(key.begin(), key.end(), block.begin());
  }
  std::array<std::uint8_t, kSha1BlockSize> pad{};
  for (std::size_t i = 0; i < kSha1BlockSize; ++i) {
    pad[i] = block[i] ^ 0x36;
  }
  SHA1_Init(&inner_);
  SHA1_Update(&inner_, pad.data(), pad.size());
  for (std::size_t i = 0; i < kSha1BlockSize; ++i) {
    pad[i] = block[i] ^ 0x5c;
  }
  SHA1_Init(&outer_);
  SHA1_Update(&outer_, pad.data(), pad.size());
  wipe(block.data(), block.size());
  wipe(pad.data(), pad.size());
}

void HmacSha1::compute(ByteSpan first, ByteSpan second, std::uint8_t* out20) const {
  SHA_CTX state = inner_;
  SHA1_Update(&state, first.data(), first.size());
  SHA1_Update(&state, second.data(), second.size());
  std::uint8_t inner_digest[SHA_DIGEST_LENGTH];
  SHA1_Final(inner_digest, &state);
  state = outer_;
  SHA1_Update(&state, inner_digest, sizeof inner_digest);
  SHA1_Final(out20, &state);
  wipe(&state, sizeof state);
}

bool AesGcm::init(ByteSpan key) {
  if (key.size() != 16) {
    return false;
  }
  encrypt_ = new_context(EVP_aes_128_gcm(), key.data(), true);
  decrypt_ = new_context(EVP_aes_128_gcm(), key.data(), false);
  // 12 bytes is OpenSSL's default GCM IV length; set it explicitly all the same.
  return encrypt_ && decrypt_ &&
         EVP_CIPHER_CTX_ctrl(encrypt_.get(), EVP_CTRL_AEAD_SET_IVLEN, kGcmIvLength, nullptr) == 1 &&
         EVP_CIPHER_CTX_ctrl(decrypt_.get(), EVP_CTRL_AEAD_SET_IVLEN, kGcmIvLength, nullptr) == 1;
}

bool AesGcm::seal(const std::uint8_t* iv, ByteSpan aad1, ByteSpan aad2, std::uint8_t* data,
                  std::size_t size, std::uint8_t* tag16) {
  EVP_CIPHER_CTX* context = encrypt_.get();
  int length = 0;
  if (EVP_EncryptInit_ex(context, nullptr, nullptr, nullptr, iv) != 1 || !add_aad(context, aad1) ||
      !add_aad(context, aad2)) {
    return false;
  }
  if (size > 0 && EVP_EncryptUpdate(context, data, &length, data, static_cast<int>(size)) != 1) {
    return false;
  }
  std::uint8_t unused[16];
  return EVP_EncryptFinal_ex(context, unused, &length) == 1 &&
         EVP_CIPHER_CTX_ctrl(context, EVP_CTRL_AEAD_GET_TAG, kGcmTagLength, tag16) == 1;
}

bool AesGcm::open(const std::uint8_t* iv, ByteSpan aad1, ByteSpan aad2, std::uint8_t* data,
                  std::size_t size, const std::uint8_t* tag16) {
  EVP_CIPHER_CTX* context = decrypt_.get();
  int length = 0;
  if (EVP_DecryptInit_ex(context, nullptr, nullptr, nullptr, iv) != 1 || !add_aad(context, aad1) ||
      !add_aad(context, aad2)) {
    return false;
  }
  if (size > 0 && EVP_DecryptUpdate(context, data, &length, data, static_cast<int>(size)) != 1) {
    return false;
  }
  // EVP wants a non-const tag pointer although it only reads it.
  std::uint8_t tag[kGcmTagLength];
  std::copy(tag16, tag16 + kGcmTagLength, tag);
  std::uint8_t unused[16];
  return EVP_CIPHER_CTX_ctrl(context, EVP_CTRL_AEAD_SET_TAG, kGcmTagLength, tag) == 1 &&
         EVP_DecryptFinal_ex(context, unused, &length) == 1;
}

bool derive_session_key(ByteSpan master_key, ByteSpan master_salt, std::uint8_t label,
                        std::uint8_t* out, std::size_t length) {
  if (master_key.size() != 16 || master_salt.size() > 14) {
    return false;
  }
  // IV = (master_salt XOR (label || r)) || 0x0000 with r = 0: the label lands in byte 7 of the
  // 112-bit salt.
  std::array<std::uint8_t, 16> iv{};
  std::copy(master_salt.begin(), master_salt.end(), iv.begin());
  iv[7] ^= label;
  std::fill(out, out + length, 0);
  AesCtr prf;
  return prf.init(master_key) && prf.apply(iv.data(), out, length);
}

}  // namespace ivs::engine::srtp_detail
