// STUN MESSAGE-INTEGRITY (RFC 8489 §14.5, HMAC-SHA1) and the credential keys (§9.1.1 short-term:
// the password itself; §9.2.2 long-term: MD5(username ":" realm ":" password)).
//
// proto is std-only, so the codec tells us which bytes the HMAC covers (StunIntegrityInput,
// with the header length adjusted) and reserves the slot when building; this file does the
// crypto with OpenSSL. StunIntegrity keeps one EVP_MAC context so a responder that verifies
// every request does not fetch the algorithm or allocate per packet. Passwords are used as
// given: ICE passwords are ASCII, so OpaqueString preparation (RFC 8265) changes nothing.
#pragma once

#include <array>
#include <string_view>

#include "proto/stun_message.hpp"

typedef struct evp_mac_st EVP_MAC;
typedef struct evp_mac_ctx_st EVP_MAC_CTX;

namespace ivs::engine {

using StunHmacSha1 = std::array<std::uint8_t, proto::kStunMessageIntegritySize>;

class StunIntegrity {
 public:
  StunIntegrity();
  ~StunIntegrity();
  StunIntegrity(const StunIntegrity&) = delete;
  StunIntegrity& operator=(const StunIntegrity&) = delete;
  // Movable, so the engines that own one (IceLite, IceAgent) are movable too.
  StunIntegrity(StunIntegrity&& other) noexcept;
  StunIntegrity& operator=(StunIntegrity&& other) noexcept;

  // HMAC-SHA1 over the input with the length field replaced as the codec says.
  StunHmacSha1 compute(ByteSpan key, const proto::StunIntegrityInput& input);
  // True when the message carries MESSAGE-INTEGRITY and it matches (constant-time compare).
  bool verify(const proto::StunMessage& message, ByteSpan key);
  // Appends MESSAGE-INTEGRITY to the builder; add FINGERPRINT afterwards if wanted.
  void sign(proto::StunBuilder& builder, ByteSpan key);
  // sign() then FINGERPRINT: what every ICE message ends with.
  void sign_with_fingerprint(proto::StunBuilder& builder, ByteSpan key) {
    sign(builder, key);
    builder.add_fingerprint();
  }

 private:
  EVP_MAC* mac_ = nullptr;
  EVP_MAC_CTX* context_ = nullptr;
};

// MD5(username:realm:password) for long-term credentials (RFC 8489 §9.2.2).
std::array<std::uint8_t, 16> stun_long_term_key(std::string_view username, std::string_view realm,
                                                std::string_view password);

}  // namespace ivs::engine
