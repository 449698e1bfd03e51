// JSON Web Tokens signed with ES384 (RFC 7515 JWS compact form, RFC 7518 §3.4 ECDSA with P-384
// and SHA-384, RFC 7519 claims, RFC 7517 JWK, RFC 7638 key thumbprint), the token form Amazon IVS
// uses for self-signed participant tokens.
//
//   BASE64URL(header) "." BASE64URL(claims) "." BASE64URL(r || s)
//
// The reference API server signs participant tokens here and the local `stage` role verifies
// them with the same code, so both sides agree on every detail by construction. Two details trip
// up hand-written JWS code and are handled once, here:
//   - OpenSSL produces and expects DER `ECDSA-Sig-Value`; JWS wants the fixed 96-byte raw form
//     r || s, each left-padded to 48 bytes (RFC 7518 §3.4). We convert both ways.
//   - The header's "alg" is checked before anything else, so a token claiming "none" or "HS384"
//     can never pass verification with an EC public key.
// Time is an input (the caller passes the current Unix time), so expiry is testable.
#pragma once

#include <boost/json.hpp>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "proto/bytes.hpp"
#include "proto/result.hpp"

struct evp_pkey_st;

namespace ivs::app::jwt {

// RFC 4648 §5 base64url without padding, the JWS encoding. Decoding accepts input with or
// without '=' padding and rejects any character outside the alphabet.
std::string base64url_encode(ByteSpan bytes);
Result<Bytes> base64url_decode(std::string_view text);

// A P-384 key pair, or a public key alone (what a verifier holds). Move-only owner of an
// OpenSSL EVP_PKEY.
class Es384Key {
 public:
  // A fresh key pair from OpenSSL's generator.
  static Result<Es384Key> generate();
  // A private key in PEM (PKCS#8 "PRIVATE KEY" or SEC1 "EC PRIVATE KEY"); must be on P-384.
  static Result<Es384Key> from_private_pem(std::string_view pem);
  // A public key in PEM ("PUBLIC KEY", SubjectPublicKeyInfo); must be on P-384.
  static Result<Es384Key> from_public_pem(std::string_view pem);
  // A public key from an RFC 7517 JWK object {"kty":"EC","crv":"P-384","x","y"}.
  static Result<Es384Key> from_jwk(const boost::json::object& jwk);

  Es384Key(Es384Key&&) noexcept;
  Es384Key& operator=(Es384Key&&) noexcept;
  ~Es384Key();

  bool has_private_key() const { return has_private_; }
  std::string public_pem() const;
  // PKCS#8 PEM of the private key; empty for a public-only key.
  std::string private_pem() const;
  // The public JWK with "kid" (the thumbprint), "alg":"ES384" and "use":"sig".
  boost::json::object public_jwk() const;
  // RFC 7638 SHA-256 thumbprint of the public key, base64url; used as the JWS "kid".
  std::string thumbprint() const;

  evp_pkey_st* native() const { return key_.get(); }

 private:
  struct Deleter {
    void operator()(evp_pkey_st* key) const;
  };
  Es384Key(evp_pkey_st* key, bool has_private) : key_(key), has_private_(has_private) {}

  std::unique_ptr<evp_pkey_st, Deleter> key_;
  bool has_private_ = false;
};

// Signs `claims` as a compact JWS with header {"alg":"ES384","typ":"JWT","kid":<thumbprint>}.
Result<std::string> sign(const Es384Key& key, const boost::json::object& claims);
// The same with the header's "kid" given: IVS self-signed participant tokens name the imported
// public key's ARN there (app/aws/ivs_self_signed.hpp).
Result<std::string> sign(const Es384Key& key, const boost::json::object& claims,
                         std::string_view kid);

struct VerifiedToken {
  boost::json::object header;
  boost::json::object claims;
};

// Checks structure, "alg" == "ES384", the signature against `key`, then the time claims:
// "exp" must be present and later than `now_unix_seconds`, and "nbf" (if present) not later
// than it. Errors say which check failed, never echoing the token.
Result<VerifiedToken> verify(const Es384Key& key, std::string_view token,
                             std::int64_t now_unix_seconds);

// Decodes the claims without checking the signature (what a WHIP client does to read its own
// token's "whip_url"). Never use the result for an authorization decision.
Result<boost::json::object> decode_claims_unverified(std::string_view token);

}  // namespace ivs::app::jwt
