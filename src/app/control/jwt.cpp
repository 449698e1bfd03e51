// ES384 JWS over OpenSSL 3 EVP; see jwt.hpp for the format and the pitfalls handled here.
#include "app/control/jwt.hpp"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/sha.h>

#include <array>

namespace ivs::app::jwt {
namespace {

constexpr std::size_t kCoordinateBytes = 48;  // P-384 field size; r, s, x and y are this long.
constexpr std::string_view kAlphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

struct BioDeleter {
  void operator()(BIO* bio) const { BIO_free(bio); }
};
struct MdCtxDeleter {
  void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
};
struct PkeyCtxDeleter {
  void operator()(EVP_PKEY_CTX* ctx) const { EVP_PKEY_CTX_free(ctx); }
};
struct BnDeleter {
  void operator()(BIGNUM* bn) const { BN_free(bn); }
};
struct SigDeleter {
  void operator()(ECDSA_SIG* sig) const { ECDSA_SIG_free(sig); }
};
struct ParamBldDeleter {
  void operator()(OSSL_PARAM_BLD* bld) const { OSSL_PARAM_BLD_free(bld); }
};
struct ParamDeleter {
  void operator()(OSSL_PARAM* params) const { OSSL_PARAM_free(params); }
};
using BioPtr = std::unique_ptr<BIO, BioDeleter>;
using BnPtr = std::unique_ptr<BIGNUM, BnDeleter>;

int decode_char(char c) {
  const auto position = kAlphabet.find(c);
  return position == std::string_view::npos ? -1 : static_cast<int>(position);
}

// True when the key is an EC key on P-384 (OpenSSL's name: secp384r1).
bool is_p384(EVP_PKEY* key) {
  if (key == nullptr || !EVP_PKEY_is_a(key, "EC"))
    return false;
  char group[64] = {};
  std::size_t length = 0;
  if (!EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof(group),
                                      &length)) {
    return false;
  }
  return std::string_view(group, length) == "secp384r1";
}

Result<EVP_PKEY*> checked_key(EVP_PKEY* key, std::string_view what) {
  if (key == nullptr)
    return make_error(std::string(what) + ": not a parseable PEM key");
  if (!is_p384(key)) {
    EVP_PKEY_free(key);
    return make_error(std::string(what) + ": key is not an EC P-384 key (ES384 needs P-384)");
  }
  return key;
}

std::string write_pem(EVP_PKEY* key, bool private_part) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  const int ok =
      private_part ? PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr)
                   : PEM_write_bio_PUBKEY(bio.get(), key);
  if (ok != 1)
    return {};
  char* data = nullptr;
  const long length = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(length));
}

Bytes coordinate(EVP_PKEY* key, const char* name) {
  BIGNUM* raw = nullptr;
  if (!EVP_PKEY_get_bn_param(key, name, &raw))
    return {};
  BnPtr value(raw);
  Bytes out(kCoordinateBytes);
  if (BN_bn2binpad(value.get(), out.data(), static_cast<int>(out.size())) < 0)
    return {};
  return out;
}

Result<boost::json::object> decode_json_part(std::string_view part, std::string_view what) {
  auto bytes = base64url_decode(part);
  if (!bytes)
    return make_error(std::string(what) + ": " + bytes.error().message);
  boost::system::error_code error;
  auto value = boost::json::parse(as_text(*bytes), error);
  if (error || !value.is_object()) {
    return make_error(std::string(what) + ": not a JSON object");
  }
  return std::move(value.as_object());
}

struct Parts {
  std::string_view header;
  std::string_view claims;
  std::string_view signature;
};

Result<Parts> split(std::string_view token) {
  const auto first = token.find('.');
  if (first == std::string_view::npos)
    return make_error("JWT: expected three dot-separated parts");
  const auto second = token.find('.', first + 1);
  if (second == std::string_view::npos || token.find('.', second + 1) != std::string_view::npos) {
    return make_error("JWT: expected three dot-separated parts");
  }
  return Parts{token.substr(0, first), token.substr(first + 1, second - first - 1),
               token.substr(second + 1)};
}

// DER ECDSA-Sig-Value -> r || s, each 48 bytes (RFC 7518 §3.4).
Result<Bytes> der_to_raw(const Bytes& der) {
  const unsigned char* cursor = der.data();
  std::unique_ptr<ECDSA_SIG, SigDeleter> sig(
      d2i_ECDSA_SIG(nullptr, &cursor, static_cast<long>(der.size())));
  if (!sig)
    return make_error("ES384: OpenSSL returned an unparseable signature");
  const BIGNUM* r = nullptr;
  const BIGNUM* s = nullptr;
  ECDSA_SIG_get0(sig.get(), &r, &s);
  Bytes raw(2 * kCoordinateBytes);
  if (BN_bn2binpad(r, raw.data(), kCoordinateBytes) < 0 ||
      BN_bn2binpad(s, raw.data() + kCoordinateBytes, kCoordinateBytes) < 0) {
    return make_error("ES384: signature component too large");
  }
  return raw;
}

// r || s -> DER, for OpenSSL's verifier.
Result<Bytes> raw_to_der(const Bytes& raw) {
  if (raw.size() != 2 * kCoordinateBytes) {
    return make_error("JWT: ES384 signature must be 96 bytes, got " + std::to_string(raw.size()));
  }
  BnPtr r(BN_bin2bn(raw.data(), kCoordinateBytes, nullptr));
  BnPtr s(BN_bin2bn(raw.data() + kCoordinateBytes, kCoordinateBytes, nullptr));
  std::unique_ptr<ECDSA_SIG, SigDeleter> sig(ECDSA_SIG_new());
  if (!r || !s || !sig || ECDSA_SIG_set0(sig.get(), r.get(), s.get()) != 1) {
    return make_error("ES384: out of memory");
  }
  // ECDSA_SIG_set0 took ownership of both numbers.
  static_cast<void>(r.release());
  static_cast<void>(s.release());
  const int length = i2d_ECDSA_SIG(sig.get(), nullptr);
  if (length <= 0)
    return make_error("ES384: cannot encode signature");
  Bytes der(static_cast<std::size_t>(length));
  unsigned char* cursor = der.data();
  i2d_ECDSA_SIG(sig.get(), &cursor);
  return der;
}

Status check_time_claims(const boost::json::object& claims, std::int64_t now) {
  const auto* exp = claims.if_contains("exp");
  if (exp == nullptr || !exp->is_number())
    return make_error("JWT: missing numeric exp claim");
  const auto expires = exp->to_number<double>();
  if (static_cast<double>(now) >= expires)
    return make_error("JWT: token expired");
  if (const auto* nbf = claims.if_contains("nbf")) {
    if (!nbf->is_number())
      return make_error("JWT: nbf claim is not a number");
    if (static_cast<double>(now) < nbf->to_number<double>()) {
      return make_error("JWT: token not valid yet (nbf)");
    }
  }
  return Ok{};
}

}  // namespace

std::string base64url_encode(ByteSpan bytes) {
  std::string out;
  out.reserve((bytes.size() * 4 + 2) / 3);
  std::size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    const std::uint32_t group = (bytes[i] << 16) | (bytes[i + 1] << 8) | bytes[i + 2];
    out += kAlphabet[(group >> 18) & 63];
    out += kAlphabet[(group >> 12) & 63];
    out += kAlphabet[(group >> 6) & 63];
    out += kAlphabet[group & 63];
  }
  const std::size_t rest = bytes.size() - i;
  if (rest == 1) {
    const std::uint32_t group = bytes[i] << 16;
    out += kAlphabet[(group >> 18) & 63];
    out += kAlphabet[(group >> 12) & 63];
  } else if (rest == 2) {
    const std::uint32_t group = (bytes[i] << 16) | (bytes[i + 1] << 8);
    out += kAlphabet[(group >> 18) & 63];
    out += kAlphabet[(group >> 12) & 63];
    out += kAlphabet[(group >> 6) & 63];
  }
  return out;
}

Result<Bytes> base64url_decode(std::string_view text) {
  while (!text.empty() && text.back() == '=')
    text.remove_suffix(1);
  if (text.size() % 4 == 1)
    return make_error("base64url: impossible length");
  Bytes out;
  out.reserve(text.size() * 3 / 4);
  std::uint32_t group = 0;
  int bits = 0;
  for (const char c : text) {
    const int value = decode_char(c);
    if (value < 0)
      return make_error("base64url: invalid character");
    group = (group << 6) | static_cast<std::uint32_t>(value);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<std::uint8_t>(group >> bits));
    }
  }
  return out;
}

void Es384Key::Deleter::operator()(evp_pkey_st* key) const {
  EVP_PKEY_free(key);
}

Es384Key::Es384Key(Es384Key&&) noexcept = default;
Es384Key& Es384Key::operator=(Es384Key&&) noexcept = default;
Es384Key::~Es384Key() = default;

Result<Es384Key> Es384Key::generate() {
  EVP_PKEY* key = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-384");
  if (key == nullptr)
    return make_error("ES384: P-384 key generation failed");
  return Es384Key(key, true);
}

Result<Es384Key> Es384Key::from_private_pem(std::string_view pem) {
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  auto key =
      checked_key(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr), "private key PEM");
  if (!key)
    return key.error();
  return Es384Key(*key, true);
}

Result<Es384Key> Es384Key::from_public_pem(std::string_view pem) {
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  auto key =
      checked_key(PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr), "public key PEM");
  if (!key)
    return key.error();
  return Es384Key(*key, false);
}

Result<Es384Key> Es384Key::from_jwk(const boost::json::object& jwk) {
  const auto text = [&](std::string_view name) -> std::string_view {
    const auto* value = jwk.if_contains(name);
    return value != nullptr && value->is_string() ? std::string_view(value->as_string())
                                                  : std::string_view();
  };
  if (text("kty") != "EC" || text("crv") != "P-384") {
    return make_error("JWK: expected kty EC and crv P-384");
  }
  auto x = base64url_decode(text("x"));
  auto y = base64url_decode(text("y"));
  if (!x || !y || x->size() != kCoordinateBytes || y->size() != kCoordinateBytes) {
    return make_error("JWK: x and y must be 48-byte base64url coordinates");
  }
  Bytes point{0x04};  // SEC1 uncompressed point: 04 || X || Y.
  append_bytes(point, *x);
  append_bytes(point, *y);
  std::unique_ptr<OSSL_PARAM_BLD, ParamBldDeleter> builder(OSSL_PARAM_BLD_new());
  OSSL_PARAM_BLD_push_utf8_string(builder.get(), OSSL_PKEY_PARAM_GROUP_NAME, "secp384r1", 0);
  OSSL_PARAM_BLD_push_octet_string(builder.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(),
                                   point.size());
  std::unique_ptr<OSSL_PARAM, ParamDeleter> params(OSSL_PARAM_BLD_to_param(builder.get()));
  std::unique_ptr<EVP_PKEY_CTX, PkeyCtxDeleter> ctx(
      EVP_PKEY_CTX_new_from_name(nullptr, "EC", nullptr));
  EVP_PKEY* key = nullptr;
  if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
      EVP_PKEY_fromdata(ctx.get(), &key, EVP_PKEY_PUBLIC_KEY, params.get()) != 1) {
    return make_error("JWK: the point is not on P-384");
  }
  return Es384Key(key, false);
}

std::string Es384Key::public_pem() const {
  return write_pem(key_.get(), false);
}

std::string Es384Key::private_pem() const {
  return has_private_ ? write_pem(key_.get(), true) : std::string();
}

std::string Es384Key::thumbprint() const {
  // RFC 7638 §3.2: the required members in lexicographic order, no whitespace.
  const std::string canonical =
      R"({"crv":"P-384","kty":"EC","x":")" +
      base64url_encode(coordinate(key_.get(), OSSL_PKEY_PARAM_EC_PUB_X)) + R"(","y":")" +
      base64url_encode(coordinate(key_.get(), OSSL_PKEY_PARAM_EC_PUB_Y)) + R"("})";
  std::array<std::uint8_t, SHA256_DIGEST_LENGTH> digest{};
  SHA256(reinterpret_cast<const unsigned char*>(canonical.data()), canonical.size(), digest.data());
  return base64url_encode(digest);
}

boost::json::object Es384Key::public_jwk() const {
  return boost::json::object{
      {"kty", "EC"},
      {"crv", "P-384"},
      {"x", base64url_encode(coordinate(key_.get(), OSSL_PKEY_PARAM_EC_PUB_X))},
      {"y", base64url_encode(coordinate(key_.get(), OSSL_PKEY_PARAM_EC_PUB_Y))},
      {"kid", thumbprint()},
      {"alg", "ES384"},
      {"use", "sig"},
  };
}

Result<std::string> sign(const Es384Key& key, const boost::json::object& claims) {
  return sign(key, claims, key.thumbprint());
}

Result<std::string> sign(const Es384Key& key, const boost::json::object& claims,
                         std::string_view kid) {
  if (!key.has_private_key())
    return make_error("ES384: signing needs a private key");
  const boost::json::object header{{"alg", "ES384"}, {"typ", "JWT"}, {"kid", kid}};
  std::string signing_input = base64url_encode(as_bytes(boost::json::serialize(header))) + "." +
                              base64url_encode(as_bytes(boost::json::serialize(claims)));
  std::unique_ptr<EVP_MD_CTX, MdCtxDeleter> ctx(EVP_MD_CTX_new());
  std::size_t length = 0;
  if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha384(), nullptr, key.native()) != 1 ||
      EVP_DigestSign(ctx.get(), nullptr, &length,
                     reinterpret_cast<const unsigned char*>(signing_input.data()),
                     signing_input.size()) != 1) {
    return make_error("ES384: signing setup failed");
  }
  Bytes der(length);
  if (EVP_DigestSign(ctx.get(), der.data(), &length,
                     reinterpret_cast<const unsigned char*>(signing_input.data()),
                     signing_input.size()) != 1) {
    return make_error("ES384: signing failed");
  }
  der.resize(length);
  auto raw = der_to_raw(der);
  if (!raw)
    return raw.error();
  return signing_input + "." + base64url_encode(*raw);
}

Result<VerifiedToken> verify(const Es384Key& key, std::string_view token,
                             std::int64_t now_unix_seconds) {
  auto parts = split(token);
  if (!parts)
    return parts.error();
  auto header = decode_json_part(parts->header, "JWT header");
  if (!header)
    return header.error();
  const auto* alg = header->if_contains("alg");
  if (alg == nullptr || !alg->is_string() || alg->as_string() != "ES384") {
    return make_error("JWT: alg must be ES384");
  }
  auto signature = base64url_decode(parts->signature);
  if (!signature)
    return make_error("JWT signature: " + signature.error().message);
  auto der = raw_to_der(*signature);
  if (!der)
    return der.error();
  const std::string_view signing_input =
      token.substr(0, parts->header.size() + 1 + parts->claims.size());
  std::unique_ptr<EVP_MD_CTX, MdCtxDeleter> ctx(EVP_MD_CTX_new());
  if (!ctx || EVP_DigestVerifyInit(ctx.get(), nullptr, EVP_sha384(), nullptr, key.native()) != 1 ||
      EVP_DigestVerify(ctx.get(), der->data(), der->size(),
                       reinterpret_cast<const unsigned char*>(signing_input.data()),
                       signing_input.size()) != 1) {
    return make_error("JWT: signature does not verify");
  }
  auto claims = decode_json_part(parts->claims, "JWT claims");
  if (!claims)
    return claims.error();
  if (auto timing = check_time_claims(*claims, now_unix_seconds); !timing)
    return timing.error();
  return VerifiedToken{std::move(*header), std::move(*claims)};
}

Result<boost::json::object> decode_claims_unverified(std::string_view token) {
  auto parts = split(token);
  if (!parts)
    return parts.error();
  return decode_json_part(parts->claims, "JWT claims");
}

}  // namespace ivs::app::jwt
