#include "engine/stun_integrity.hpp"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include <cstdlib>
#include <string>
#include <utility>

namespace ivs::engine {

StunIntegrity::StunIntegrity() {
  mac_ = EVP_MAC_fetch(nullptr, OSSL_MAC_NAME_HMAC, nullptr);
  context_ = mac_ != nullptr ? EVP_MAC_CTX_new(mac_) : nullptr;
  if (context_ == nullptr) {
    // Without HMAC nothing in ICE can be authenticated; this only happens on a broken OpenSSL.
    std::abort();
  }
}

StunIntegrity::~StunIntegrity() {
  EVP_MAC_CTX_free(context_);
  EVP_MAC_free(mac_);
}

StunIntegrity::StunIntegrity(StunIntegrity&& other) noexcept
    : mac_(std::exchange(other.mac_, nullptr)), context_(std::exchange(other.context_, nullptr)) {}

StunIntegrity& StunIntegrity::operator=(StunIntegrity&& other) noexcept {
  if (this != &other) {
    EVP_MAC_CTX_free(context_);
    EVP_MAC_free(mac_);
    mac_ = std::exchange(other.mac_, nullptr);
    context_ = std::exchange(other.context_, nullptr);
  }
  return *this;
}

StunHmacSha1 StunIntegrity::compute(ByteSpan key, const proto::StunIntegrityInput& input) {
  StunHmacSha1 out{};
  char digest_name[] = "SHA1";
  const OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest_name, 0),
      OSSL_PARAM_construct_end()};
  // OpenSSL rejects a null key pointer even with length zero, so point at a dummy byte.
  static constexpr unsigned char kEmpty = 0;
  const unsigned char* key_data = key.empty() ? &kEmpty : key.data();
  std::array<std::uint8_t, 2> length{};
  write_u16(length.data(), input.adjusted_length);
  std::size_t out_length = 0;
  const bool ok =
      EVP_MAC_init(context_, key_data, key.size(), params) == 1 &&
      EVP_MAC_update(context_, input.covered.data(), 2) == 1 &&
      EVP_MAC_update(context_, length.data(), 2) == 1 &&
      EVP_MAC_update(context_, input.covered.data() + 4, input.covered.size() - 4) == 1 &&
      EVP_MAC_final(context_, out.data(), &out_length, out.size()) == 1;
  if (!ok || out_length != out.size()) {
    out.fill(0);  // Never matches a real tag, so verification fails closed.
  }
  return out;
}

bool StunIntegrity::verify(const proto::StunMessage& message, ByteSpan key) {
  const auto tag = message.message_integrity();
  const auto input = message.message_integrity_input();
  if (!tag || !input) {
    return false;
  }
  const StunHmacSha1 expected = compute(key, *input);
  return CRYPTO_memcmp(expected.data(), tag->data(), expected.size()) == 0;
}

void StunIntegrity::sign(proto::StunBuilder& builder, ByteSpan key) {
  const std::size_t value_offset = builder.reserve_message_integrity();
  const ByteSpan covered = ByteSpan(builder.bytes()).first(value_offset - 4);
  const auto length = read_u16(builder.bytes().data() + 2);
  const StunHmacSha1 tag = compute(key, proto::StunIntegrityInput{covered, length});
  std::copy(tag.begin(), tag.end(), builder.mutable_bytes().begin() + value_offset);
}

std::array<std::uint8_t, 16> stun_long_term_key(std::string_view username, std::string_view realm,
                                                std::string_view password) {
  std::string text;
  text.reserve(username.size() + realm.size() + password.size() + 2);
  text.append(username).append(":").append(realm).append(":").append(password);
  std::array<std::uint8_t, 16> key{};
  unsigned int length = 0;
  if (EVP_Digest(text.data(), text.size(), key.data(), &length, EVP_md5(), nullptr) != 1) {
    key.fill(0);
  }
  return key;
}

}  // namespace ivs::engine
